"""An attacker of the public open-data bundles, independent of the project's own audit.

It reads only the CSV files of one or more public bundles (`python -m data_access
export`), as anyone who downloads them can, and builds the linear relations that
docs/data-contract.md and docs/open-data.md state between the published numbers:

- within one release, every count table of a cube is a partition of the same
  people: quarters sum to years, precincts and races sum to the site, pathways,
  offenses and screening outcomes sum to referrals, enrolled equals the enrolled
  outcome, services (yes + no) sum to the active caseload, re-arrest windows sum
  to the group; every view count (the funnel's stages, the trends, the rates'
  numerators and denominators, a change = current - base) is the sum of the count
  cells it describes;
- across releases, a closed period is unchanged unless the corrections log says
  otherwise (a month named in a later release's notes, for the sites it names);
  screening outcomes still pending may become final (pending only falls, the
  other outcomes only rise); a partial year lies inside its whole year; a pooled
  re-arrest window only grows (the earlier pool plus the newly closed cohorts).

Every withheld cell gets the range its reason allows (REASON_RANGES, the list
docs/open-data.md documents) and every cell is a whole number of 0 or more. With
HiGHS it then solves, for every withheld cell, its smallest and largest value,
and for every quantity published in two releases that may legitimately differ,
the range of the later value minus the earlier (linear programming; the bounds
are rounded inward to whole numbers, the cheap part of integrality). The model
is one variable per quantity of each release (a count cell and a view number
about the same people are one quantity), split into independent components; a
few vertices of each component are sampled first, so a cell seen taking two
whole values needs no solve of its own. Findings:

- a withheld cell pinned to one value (within one release, or only once the
  releases are combined);
- a difference whose range lies within 1..k-1 (or -(k-1)..-1): a count of 1 to
  k-1 people worked out by comparing releases;
- contradictions: a withheld value's reason that its own bundle refutes, or a
  relation the published numbers break (the model, or the bundle, is wrong).

Usage: python tests/attack/public_bundles.py BUNDLE_DIR [BUNDLE_DIR ...] [--k 11]
Exit status 0 when there is no finding, 1 otherwise.

Nothing here imports data_access: the attacker knows only what the public knows.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

INF = math.inf
DEFAULT_K = 11
PERIOD_ATTRS = ("quarter", "year", "cohort12", "year12", "fiscal_year")
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
YEAR = re.compile(r"^\d{4}$")
WINDOWS = (6, 12, 24, 36)
COMBINED_RACES = "other_combined"


def reason_ranges(k: int) -> dict[str, tuple[float, float]]:
    """What each reason docs/open-data.md lists lets a reader infer about a withheld count.

    Reasons that say nothing about people at all (NOT_COMPUTABLE) are not here: such a
    value is not a count of anyone.
    """
    return {
        f"fewer than {k}": (1, k - 1),
        f"fewer than {k} (zeros withheld too)": (0, k - 1),
        "withheld to protect another cell": (k, INF),
        "based on a withheld count": (0, INF),
        "partly withheld": (0, INF),
        f"based on fewer than {k} people": (0, INF),
        f"fewer than {k} people in the group are outside it": (0, INF),  # + a relation
        f"denominator under {30}": (0, INF),
    }


NOT_COMPUTABLE = ("not available", "no data", "no data for this period", "no data for a group")


def complement_reason(k: int) -> str:
    """A share's reason saying its denominator minus its numerator is 1 to k-1."""
    return f"fewer than {k} people in the group are outside it"


# ----------------------------------------------------------------------------- reading


@dataclass
class Bundle:
    folder: Path
    release_id: str
    as_of: date
    notes: str
    site_names: dict[str, str]
    tables: dict[str, list[dict[str, str]]]  # file stem -> rows
    # sites.csv's rearrest_counted_as_of: re-arrest may be counted as of an earlier date
    rearrest_as_of: dict[str, date] = field(default_factory=dict)

    def counted_as_of(self, site: str, cube: str) -> date:
        """The date a cube's figures are counted as of: whose follow-up had closed then."""
        if cube == "recidivism":
            return self.rearrest_as_of.get(site, self.as_of)
        return self.as_of


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def read_bundle(folder: Path) -> Bundle:
    """The bundle's tables and which release it is (README's title, releases.csv's as_of)."""
    folder = Path(folder)
    readme = (folder / "README.md").read_text(encoding="utf-8")
    found = re.search(r"release (\S+)", readme.splitlines()[0])
    if not found:
        raise ValueError(f"{folder / 'README.md'}: the first line names no release")
    release_id = found.group(1)
    releases = {r["release_id"]: r for r in _read_csv(folder / "releases.csv")}
    if release_id not in releases:
        raise ValueError(f"{folder / 'releases.csv'} has no row for release {release_id}")
    tables = {p.stem: _read_csv(p) for p in sorted(folder.glob("*.csv"))}
    sites = {r["site_id"]: r["site_name"] for r in tables.get("sites", [])}
    rearrest = {r["site_id"]: date.fromisoformat(r["rearrest_counted_as_of"])
                for r in tables.get("sites", []) if r.get("rearrest_counted_as_of")}  # fmt: skip
    return Bundle(
        folder,
        release_id,
        date.fromisoformat(releases[release_id]["as_of"]),
        releases[release_id]["notes"],
        sites,
        tables,
        rearrest,
    )


# ----------------------------------------------------------------------------- cells

Filter = tuple[tuple[str, str], ...]  # sorted (attribute, value) pairs: a set of people


@dataclass
class Cell:
    """One published number: where it is and what it says about one quantity."""

    bundle: int
    site: str
    cube: str
    key: Filter
    value: float | None
    flag: str
    where: str  # file and row, for the report


def _derive(cube: str, attrs: dict[str, str], as_of: date) -> dict[str, str]:
    """The coarser attributes a row's own columns determine (documented codes)."""
    out = dict(attrs)
    if "quarter" in attrs:
        out["year"] = attrs["quarter"][:4]
    if "cohort12" in attrs:
        # A year of entry is its own row once its last cohort's 12 months have closed;
        # until then its cohorts are pooled under "open" with the cohorts still open.
        cohort = attrs["cohort12"]
        closed = QUARTER.match(cohort) and date(int(cohort[:4]) + 1, 12, 31) <= as_of
        out["year12"] = cohort[:4] if closed else "open"
    if cube == "referral_flow":
        if "pathway" in attrs:
            out.setdefault("referred", "no" if attrs["pathway"] == "none" else "yes")
        if "offense" in attrs:
            out.setdefault("referred", "no" if attrs["offense"] == "none" else "yes")
        if "outcome" in attrs:
            o = attrs["outcome"]
            out.setdefault("referred", "no" if o == "not_referred" else "yes")
            out.setdefault("enrolled", {"enrolled": "yes", "not_referred": "none"}.get(o, "no"))
            if o.startswith("excluded"):
                out["screen"] = "excluded"
            elif o in ("enrolled", "declined", "pending"):
                out["screen"] = "eligible"
        if "enrolled" in attrs:
            out.setdefault("referred", "no" if attrs["enrolled"] == "none" else "yes")
    if cube == "recidivism":
        for w in WINDOWS:
            by = attrs.get(f"by_{w}")
            if by is not None:
                out[f"closed_{w}"] = "no" if by == "na" else "yes"
    return out


def _period_attr(code: str) -> str | None:
    if QUARTER.match(code):
        return "quarter"
    if YEAR.match(code):
        return "year"
    return None


def _key(attrs: dict[str, str]) -> Filter:
    return tuple(sorted(attrs.items()))


def _number(text: str) -> float | None:
    return None if text in ("", None) else float(text)


COUNT_FILE = re.compile(r"^count-(?P<cube>[a-z_]+)-by-(?P<level>.+)$")


def count_cells(index: int, bundle: Bundle) -> tuple[list[Cell], dict[str, dict]]:
    """Every cell of every count table, and each table's rows with their attributes."""
    cells, levels = [], {}
    for stem, rows in bundle.tables.items():
        match = COUNT_FILE.match(stem)
        if not match or not rows:
            continue
        cube = match.group("cube")
        count = next(c for c in rows[0] if c not in ("site_id",) and f"{c}_flag" in rows[0])
        dims = [c for c in rows[0] if c not in ("site_id", count) and not c.endswith("_flag")]
        table_rows = []
        for n, row in enumerate(rows, start=2):
            own = {d: row[d] for d in dims}
            cell = Cell(index, row["site_id"], cube, _key(own), _number(row[count]),
                        row[f"{count}_flag"], f"{stem}.csv line {n}")  # fmt: skip
            cells.append(cell)
            attrs = _derive(cube, own, bundle.counted_as_of(row["site_id"], cube))
            table_rows.append({"cell": cell, "attrs": attrs, "own": own})
        levels[stem] = {"cube": cube, "dims": dims, "rows": table_rows}
    return cells, levels


def _recidivism_cells(row, window, cohort_attr):
    group = {"group": row["group"]}
    if cohort_attr:
        group[cohort_attr] = row["cohort"]
    return (
        {**group, f"by_{window}": "yes"},
        {**group, f"closed_{window}": "yes"},
    )


def _funnel_stage(stage: str) -> dict[str, str]:
    if stage == "referred":
        return {"referred": "yes"}
    if stage in ("excluded", "eligible"):
        return {"screen": stage}
    return {"outcome": stage}


def _selected(row: dict[str, str], column: str = "selected_period") -> dict[str, str]:
    code = row[column]
    attr = _period_attr(code)
    return {attr: code} if attr else {}


# Each view table's count columns as sets of people of a cube: file stem ->
# (cube, function(row) -> {count column: filter}). The filters use the count
# tables' own attribute names, so a view number and a count cell that describe
# the same people are one quantity.
def _view_specs():
    def referrals_period(row, column="selected_period"):
        return {"referred": "yes", **_selected(row, column)}

    def funnel(row):
        base = _selected(row)
        return {"numerator": {**_funnel_stage(row["stage"]), **base},
                "denominator": {"referred": "yes", **base}}  # fmt: skip

    def rates(row):
        num, den = _recidivism_cells(row, row["window_months"], None)
        return {"numerator": num, "denominator": den}

    def trend(cohort_attr):
        def spec(row):
            num, den = _recidivism_cells(row, 12, cohort_attr)
            return {"numerator": num, "denominator": den}

        return spec

    def disparity(row, events="events", base="base"):
        # Disparities are by year: the row's own year (the latest whole one).
        period = {"year": row["year"]}
        race = {"race_ethnicity": row["race_ethnicity"]} if "race_ethnicity" in row else {}
        if row["decision_point"] == "eligible_contact_to_referral":
            # Referred by police, of eligible police contacts (referred or not).
            police = {"route": "police", **race, **period}
            return {events: {**police, "referred": "yes"}, base: police}
        if row["decision_point"] == "referral_to_enrollment":
            return {events: {"enrolled": "yes", **race, **period},
                    base: {"referred": "yes", **race, **period}}  # fmt: skip
        return {}

    def unknown_share(row):
        parts = disparity({**row, "race_ethnicity": "unknown"}, "_", "unknown")
        whole = disparity({k: v for k, v in row.items() if k != "race_ethnicity"}, "_", "total")
        return {"unknown": parts.get("unknown"), "total": whole.get("total")}

    def uptake(row, period="period"):
        p = _selected(row, period)
        race = {"race_ethnicity": row["race_ethnicity"]} if "race_ethnicity" in row else {}
        return {"numerator": {row["service"]: "yes", **race, **p}, "denominator": {**race, **p}}

    def one(column, make):
        return lambda r: {column: make(r)}

    def sel(r):
        return _selected(r)

    return {
        "view-referrals-trend": (
            "referral_flow",
            one("referrals", lambda r: {"referred": "yes", "quarter": r["quarter"]}),
        ),
        "view-referrals-by_pathway": (
            "referral_flow", one("referrals", lambda r: {"pathway": r["pathway"], **sel(r)})
        ),
        "view-referrals-by_offense": (
            "referral_flow", one("referrals", lambda r: {"offense": r["offense"], **sel(r)})
        ),
        "view-referrals-by_precinct": (
            "referral_flow",
            one("referrals",
                lambda r: {"referred": "yes", "precinct_id": r["precinct_id"], **sel(r)}),
        ),
        "view-referrals-change": (
            "referral_flow",
            lambda r: {"current": referrals_period(r, "period"),
                       "base": referrals_period(r, "base_period")},
        ),
        "view-referrals-funnel": ("referral_flow", funnel),
        "view-disparities-rates": ("referral_flow", disparity),
        "view-disparities-unknown_share": ("referral_flow", unknown_share),
        "view-services-caseload_trend": (
            "caseload_services", one("participant_months", lambda r: _selected(r, "period"))
        ),
        "view-services-caseload_by_race": (
            "caseload_services",
            one("participant_months",
                lambda r: {"race_ethnicity": r["race_ethnicity"], "year": r["year"]}),
        ),
        "view-services-uptake": ("caseload_services", uptake),
        "view-services-uptake_trend": ("caseload_services", uptake),
        "view-services-uptake_by_race": ("caseload_services", lambda r: uptake(r, "year")),
        "view-services-unknown_race": (
            "caseload_services",
            lambda r: {"numerator": {"race_ethnicity": "unknown", "year": r["year"]},
                       "denominator": {"year": r["year"]}},
        ),
        "view-recidivism-rates": ("recidivism", rates),
        "view-recidivism_headline-rates": ("recidivism", rates),
        "view-recidivism-trend": ("recidivism", trend("cohort12")),
        "view-recidivism-trend_by_year": ("recidivism", trend("year12")),
        "view-costs-persons": (
            "costs",
            one("persons", lambda r: {"fiscal_year": r["fiscal_year"], "group": r["group"]}),
        ),
    }  # fmt: skip


VIEW_SPECS = _view_specs()
# A published difference of two view counts: (file stem, difference column, plus, minus).
DIFFERENCES = {"view-referrals-change": ("change", "current", "base")}


def view_cells(index: int, bundle: Bundle) -> tuple[list[Cell], list, list]:
    """The view numbers as cells; published differences; (row, numerator, denominator)."""
    cells, differences, complements = [], [], []
    for stem, (cube, spec) in VIEW_SPECS.items():
        for n, row in enumerate(bundle.tables.get(stem, []), start=2):
            found = {}
            for column, attrs in spec(row).items():
                if not attrs or column not in row:
                    continue
                cell = Cell(index, row["site_id"], cube, _key(attrs), _number(row[column]),
                            row.get(f"{column}_flag", ""), f"{stem}.csv line {n}")  # fmt: skip
                cells.append(cell)
                found[column] = cell
            if {"numerator", "denominator"} <= set(found):
                complements.append((row, found["numerator"], found["denominator"]))
            if stem in DIFFERENCES:
                diff, plus, minus = DIFFERENCES[stem]
                if plus in found and minus in found and _number(row[diff]) is not None:
                    total = Cell(index, row["site_id"], cube, (), _number(row[diff]), "",
                                 f"{stem}.csv line {n}")  # fmt: skip
                    differences.append((total, found[plus], found[minus]))
    return cells, differences, complements


# ----------------------------------------------------------------------------- the model


@dataclass
class Model:
    """Variables (one per quantity of each release) and linear relations between them."""

    k: int
    # bundle, site, cube, key
    names: list[tuple[int, str, str, Filter]] = field(default_factory=list)
    index: dict[tuple, int] = field(default_factory=dict)
    lo: list[float] = field(default_factory=list)
    hi: list[float] = field(default_factory=list)
    # the bounds that count tables' own reasons give (a view's reason may be a copy)
    count_lo: list[float] = field(default_factory=list)
    count_hi: list[float] = field(default_factory=list)
    withheld: list[bool] = field(default_factory=list)
    reasons: list[set[str]] = field(default_factory=list)
    where: list[str] = field(default_factory=list)
    published: list[float | None] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # relation coordinates (COO)
    cols: list[int] = field(default_factory=list)
    coefs: list[float] = field(default_factory=list)
    senses: list[str] = field(default_factory=list)  # "=" or ">=" (sum >= rhs)
    rhs: list[float] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # what each relation says
    cross: list[bool] = field(default_factory=list)  # a relation between two releases
    withheld_where: dict[int, dict[str, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    unknown_reasons: set[str] = field(default_factory=set)

    def var(self, bundle: int, site: str, cube: str, key: Filter) -> int:
        name = (bundle, site, cube, key)
        found = self.index.get(name)
        if found is None:
            found = self.index[name] = len(self.names)
            self.names.append(name)
            self.lo.append(0.0)
            self.hi.append(INF)
            self.count_lo.append(0.0)
            self.count_hi.append(INF)
            self.withheld.append(False)
            self.reasons.append(set())
            self.where.append("")
            self.published.append(None)
        return found

    def add_cell(self, cell: Cell) -> int:
        v = self.var(cell.bundle, cell.site, cell.cube, cell.key)
        ranges = reason_ranges(self.k)
        if cell.value is not None:
            if self.published[v] is not None and self.published[v] != cell.value:
                self.problems.append(
                    f"{cell.where}: {cell.value:g} but {self.where[v]} publishes the same "
                    f"quantity as {self.published[v]:g}"
                )
            self.published[v] = cell.value
            self.where[v] = self.where[v] or cell.where
            return v
        if cell.flag in NOT_COMPUTABLE:
            return v  # not computable: says nothing about the people
        low, high = ranges.get(cell.flag, (0, INF))
        if cell.flag not in ranges:
            self.unknown_reasons.add(cell.flag)
        self.withheld[v] = True
        self.reasons[v].add(cell.flag)
        self.lo[v], self.hi[v] = max(self.lo[v], low), min(self.hi[v], high)
        if cell.where.startswith("count-"):
            self.count_lo[v] = max(self.count_lo[v], low)
            self.count_hi[v] = min(self.count_hi[v], high)
        self.withheld_where.setdefault(v, {})[cell.flag] = cell.where
        self.where[v] = self.where[v] or cell.where
        return v

    def relate(
        self,
        terms: Iterable[tuple[int, float]],
        sense: str,
        rhs: float,
        kind: str,
        cross: bool = False,
    ) -> None:
        r = len(self.senses)
        for v, c in terms:
            self.rows.append(r)
            self.cols.append(v)
            self.coefs.append(c)
        self.senses.append(sense)
        self.rhs.append(rhs)
        self.kinds.append(kind)
        self.cross.append(cross)


def _coverage(table: dict) -> dict[tuple[str, str], set[str]]:
    """Periods each site's rows of a table cover, per period attribute."""
    covered: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in table["rows"]:
        for attr in PERIOD_ATTRS:
            if attr in row["attrs"]:
                covered[(row["cell"].site, attr)].add(row["attrs"][attr])
    return covered


def add_release(model: Model, index: int, bundle: Bundle) -> dict[str, dict]:
    """One release's cells and the relations within it; returns its count tables."""
    cells, levels = count_cells(index, bundle)
    for cell in cells:
        model.add_cell(cell)
    for table in levels.values():
        table["coverage"] = _coverage(table)
        table["attr_names"] = set().union(*(r["attrs"] for r in table["rows"]))
        # Margins use only what every row determines (an outcome of 'not_referred' has no
        # screening stage).
        table["every_row"] = set.intersection(*(set(r["attrs"]) for r in table["rows"]))
    by_cube = defaultdict(list)
    for stem, table in levels.items():
        by_cube[table["cube"]].append(stem)

    # Margins: two tables of one cube add up to the same totals over what both determine.
    for stems in by_cube.values():
        exact = {frozenset(levels[s]["every_row"]) for s in stems}
        for s1, s2 in itertools.combinations(stems, 2):
            t1, t2 = levels[s1], levels[s2]
            common = t1["every_row"] & t2["every_row"]
            if frozenset(common) in exact and common not in (t1["every_row"], t2["every_row"]):
                continue  # both add up to a published table, and are tied to it already
            _margin(model, t1, t2, sorted(common), f"{s1} = {s2} over {'/'.join(sorted(common))}")

    # Views: each view count is the sum of the count cells it describes.
    vcells, differences, complements = view_cells(index, bundle)
    cache: dict = {}
    for cell in vcells:
        if (cell.bundle, cell.site, cell.cube, cell.key) in model.index:
            model.add_cell(cell)  # the same people as a count cell: one quantity
            continue
        terms = _matching(model, levels, by_cube.get(cell.cube, []), cell, cache)
        if terms is None:
            continue  # no published count table describes these people
        v = model.add_cell(cell)
        if not terms:
            # No row in a table that covers the period: the count table publishes a zero.
            zero = Cell(cell.bundle, cell.site, cell.cube, cell.key, 0.0, "",
                        f"{cell.where} (absent from the count tables)")  # fmt: skip
            model.add_cell(zero)
            continue
        model.relate([(v, 1.0), *((t, -1.0) for t in terms)], "=", 0.0,
                     f"{cell.where} is a sum of count cells")  # fmt: skip
    outside = complement_reason(model.k)
    for row, num, den in complements:
        if outside not in (row.get("estimate_flag"), row.get("numerator_flag")):
            continue
        a = model.index.get((num.bundle, num.site, num.cube, num.key))
        b = model.index.get((den.bundle, den.site, den.cube, den.key))
        if a is not None and b is not None:
            where = f"{num.where}: {outside}"
            model.relate([(b, 1.0), (a, -1.0)], ">=", 1.0, where)
            model.relate([(a, 1.0), (b, -1.0)], ">=", 1.0 - model.k, where)
    for total, plus, minus in differences:
        a = model.index.get((plus.bundle, plus.site, plus.cube, plus.key))
        b = model.index.get((minus.bundle, minus.site, minus.cube, minus.key))
        if a is not None and b is not None:
            model.relate([(a, 1.0), (b, -1.0)], "=", total.value, f"{total.where}: change")
    return levels


def _margin(model: Model, t1: dict, t2: dict, common: list[str], kind: str) -> None:
    groups: dict[tuple, list[list[int]]] = defaultdict(lambda: [[], []])
    for side, table in enumerate((t1, t2)):
        for row in table["rows"]:
            cell = row["cell"]
            g = (cell.site, *(row["attrs"][a] for a in common))
            groups[g][side].append(model.index[(cell.bundle, cell.site, cell.cube, cell.key)])
    period = [a for a in common if a in PERIOD_ATTRS]
    for g, (left, right) in groups.items():
        site, values = g[0], dict(zip(common, g[1:], strict=True))
        # An absent row is a zero only where the table covers that period for that site.
        if not left or not right:
            other = t2 if not right else t1
            if not all(values[p] in other["coverage"].get((site, p), ()) for p in period):
                continue
            if not period and not any(r["cell"].site == site for r in other["rows"]):
                continue
        model.relate([*((v, 1.0) for v in left), *((v, -1.0) for v in right)], "=", 0.0, kind)


def _matching(model: Model, levels: dict, stems: Sequence[str], cell: Cell, cache: dict):
    """The variables of the coarsest count table that describe exactly the people of `cell`."""
    wanted = dict(cell.key)
    names = tuple(sorted(wanted))
    fits = [s for s in stems if set(names) <= levels[s]["attr_names"]]
    if not fits:
        return None
    stem = min(fits, key=lambda s: (len(levels[s]["dims"]), s))
    table = levels[stem]
    period = [a for a in names if a in PERIOD_ATTRS]
    if not all(wanted[p] in table["coverage"].get((cell.site, p), ()) for p in period):
        return None
    index = cache.get((stem, names))
    if index is None:
        index = cache[(stem, names)] = defaultdict(list)
        for r in table["rows"]:
            c = r["cell"]
            if all(a in r["attrs"] for a in names):
                group = (c.site, *(r["attrs"][a] for a in names))
                index[group].append(model.index[(c.bundle, c.site, c.cube, c.key)])
        index["sites"] = {r["cell"].site for r in table["rows"]}
    if cell.site not in index["sites"]:
        return None
    return index.get((cell.site, *(wanted[a] for a in names)), [])


# ----------------------------------------------------------------------------- across releases

MONTH = re.compile(r"\b(\d{4})-(\d{2})\b")


CUBE_WORDS = {
    "referral_flow": ("referral", "screening", "enrol", "eligible contact"),
    "caseload_services": ("caseload", "service", "participant"),
    "recidivism": ("re-arrest", "rearrest", "recidivism", "cohort"),
    "costs": ("cost",),
}


def corrections(later: Bundle, release_ids: Iterable[str]) -> dict[tuple[str, str], set[str]]:
    """Periods the corrections log says may have changed: (site, cube) -> period codes.

    The notes are prose; the attacker reads them as a cautious reader would: each
    sentence naming a month (YYYY-MM) says that month's quarter and year may have
    changed, for the sites it names (every site when it names none) and the cubes
    whose words it uses (every cube when it uses none).
    """
    text = later.notes
    for release_id in release_ids:
        text = text.replace(release_id, "")  # "demo-2025-06" names a release, not a month
    changed: dict[tuple[str, str], set[str]] = defaultdict(set)
    for sentence in re.split(r"(?<=[.;])\s+", text):
        months = {(int(y), int(m)) for y, m in MONTH.findall(sentence) if 1 <= int(m) <= 12}
        if not months:
            continue
        lower = sentence.lower()
        sites = [s for s, n in later.site_names.items() if n and n.lower() in lower]
        cubes = [c for c, words in CUBE_WORDS.items() if any(w in lower for w in words)]
        for site in sites or later.site_names:
            for cube in cubes or CUBE_WORDS:
                for y, m in months:
                    changed[(site, cube)] |= {str(y), f"{y}-Q{(m - 1) // 3 + 1}"}
    return changed


def _period_end(attr: str, code: str) -> date:
    if attr in ("quarter", "cohort12"):
        year, q = int(code[:4]), int(code[-1])
        return date(year, 3 * q, 31 if q in (1, 4) else 30)
    return date(int(code), 12, 31)


@dataclass
class Difference:
    later: int
    earlier: int
    mechanism: str
    name: tuple


def link_releases(
    model: Model, bundles: Sequence[Bundle], order: Sequence[int]
) -> list[Difference]:
    """Relations between consecutive releases, and the differences an attacker would take."""
    by_bundle: dict[int, list[int]] = defaultdict(list)
    for v, name in enumerate(model.names):
        by_bundle[name[0]].append(v)
    differences = []
    for a, b in itertools.pairwise(order):
        corrected = corrections(bundles[b], [x.release_id for x in bundles])
        for va in by_bundle[a]:
            _, site, cube, key = model.names[va]
            as_of = bundles[a].counted_as_of(site, cube)
            vb = model.index.get((b, site, cube, key))
            if vb is None or COMBINED_RACES in dict(key).values():
                # A combined race group folds whichever groups are small in that release:
                # the same code need not be the same people in two releases.
                continue
            rule = _rule(model, a, site, cube, dict(key), as_of, corrected.get((site, cube), set()))
            if rule == "equal":
                same = f"{model.where[va]} unchanged in the next release"
                model.relate([(vb, 1.0), (va, -1.0)], "=", 0.0, same, cross=True)
                continue
            mechanism, grows = rule
            if grows == "up":
                model.relate(
                    [(vb, 1.0), (va, -1.0)], ">=", 0.0, f"{model.where[va]} only grows", True
                )
            elif grows == "down":
                model.relate(
                    [(va, 1.0), (vb, -1.0)], ">=", 0.0, f"{model.where[va]} only falls", True
                )
            differences.append(Difference(vb, va, mechanism, (site, cube, key)))
    return differences


PENDING_DIMS = ("outcome", "enrolled", "screen")


def _rule(model, a, site, cube, key, as_of, corrected):
    """How a quantity of release `a` relates to the same quantity in the next release."""
    periods = {a: key[a] for a in PERIOD_ATTRS if a in key and _period_attr(key[a])}
    if not periods:
        # A pooled figure over every closed cohort: it grows as cohorts close.
        # ("open" pools the cohorts of years not closed yet: they leave it as years close.)
        grows = None if {"na", "open"} & set(key.values()) or "status" in key else "up"
        return ("pooled window", grows)
    attr, code = next(iter(periods.items()))
    end = _period_end(attr, code)
    if attr in ("year12",):
        end = date(end.year + 1, 12, 31)  # its last cohort's 12-month window
    if end > as_of:
        return ("pooled window" if attr == "year12" else "partial year", "up")
    if code in corrected:
        return ("correction", None)
    if cube == "referral_flow" and any(d in key for d in PENDING_DIMS):
        pending = model.index.get((a, site, cube, _key({"outcome": "pending", attr: code})))
        if pending is not None and model.published[pending] != 0:
            return ("pending screening resolved", _pending_direction(key))
    return "equal"


def _pending_direction(key: dict[str, str]) -> str | None:
    """Screenings pending in the earlier release may end in any outcome since."""
    outcome, screen, enrolled = key.get("outcome"), key.get("screen"), key.get("enrolled")
    if outcome == "not_referred" or enrolled == "none":
        return None  # not referred: no screening to finish (no equality claimed either)
    if outcome == "pending" or enrolled == "no":
        return "down"
    if screen == "eligible" or (outcome is None and screen is None and enrolled is None):
        return None
    return "up"


# ----------------------------------------------------------------------------- solving


@dataclass
class Finding:
    mechanism: str
    what: str
    low: float
    high: float

    def small(self, k: int) -> bool:
        """The finding gives away a count of 1 to k-1 people (or minus one)."""
        return (1 <= self.low and self.high <= k - 1) or (1 - k <= self.low and self.high <= -1)

    def __str__(self) -> str:
        shown = f"= {self.low:g}" if self.low == self.high else f"in {self.low:g}..{self.high:g}"
        return f"[{self.mechanism}] {self.what} {shown}"


@dataclass
class Report:
    findings: list[Finding]
    problems: list[str]
    seconds: float
    stats: dict[str, int]

    def by_mechanism(self) -> dict[str, list[Finding]]:
        out: dict[str, list[Finding]] = defaultdict(list)
        for f in self.findings:
            out[f.mechanism].append(f)
        return dict(out)


class Solver:
    """Ranges of linear objectives over the model's relations, one component at a time."""

    def __init__(self, model: Model, use_cross: bool):
        import highspy

        self.highspy = highspy
        n = len(model.names)
        keep = np.array([use_cross or not c for c in model.cross], dtype=bool)
        rows = np.array(model.rows, dtype=np.int64)
        mask = keep[rows] if len(rows) else np.zeros(0, bool)
        relation_ids = np.flatnonzero(keep)
        renumber = np.full(len(keep), -1)
        renumber[relation_ids] = np.arange(len(relation_ids))
        self.matrix = sp.csr_matrix(
            (np.array(model.coefs)[mask], (renumber[rows[mask]], np.array(model.cols)[mask])),
            shape=(len(relation_ids), n),
        )
        self.senses = np.array(model.senses)[relation_ids]
        self.rhs = np.array(model.rhs, dtype=float)[relation_ids]
        self.kinds = [model.kinds[r] for r in relation_ids]
        lo, hi = np.array(model.lo, float), np.array(model.hi, float)
        published = np.array([np.nan if p is None else p for p in model.published], float)
        known = ~np.isnan(published)
        self.problems = []
        for v in np.flatnonzero(known & ((published < lo) | (published > hi))):
            said = "; ".join(f"{w} says {r!r}" for r, w in model.withheld_where[v].items()
                             if not reason_ranges(model.k).get(r, (0, INF))[0] <= published[v]
                             <= reason_ranges(model.k).get(r, (0, INF))[1])  # fmt: skip
            self.problems.append(
                f"{said}, but {model.where[v]} publishes the same quantity: {published[v]:g}"
            )
        self.count_lo = np.array(model.count_lo, float)
        self.count_hi = np.array(model.count_hi, float)
        self.where = model.where
        lo[known], hi[known] = published[known], published[known]
        self.lo, self.hi, self.known = lo, hi, known
        fixed_part = self.matrix[:, known] @ published[known]
        self.rhs_free = self.rhs - fixed_part
        free_matrix = self.matrix[:, ~known].tocsr()
        self.free = np.flatnonzero(~known)
        # Relations among published numbers only: a check of the model (and the bundle).
        empty = np.diff(free_matrix.indptr) == 0
        broken = empty & (
            ((self.senses == "=") & (np.abs(self.rhs_free) > 1e-6))
            | ((self.senses == ">=") & (self.rhs_free > 1e-6))
        )
        for r in np.flatnonzero(broken)[:50]:
            self.problems.append(f"published numbers break: {self.kinds[r]}")
        self.broken = int(broken.sum())
        self.free_matrix = free_matrix
        active = ~empty
        self.active = active
        # Components of the free variables linked by relations.
        m = free_matrix[active]
        incidence = (m != 0).astype(np.int8)
        adjacency = incidence.T @ incidence
        _, self.component = connected_components(adjacency, directed=False)
        self.members: dict[int, np.ndarray] = defaultdict(list)
        for position, c in enumerate(self.component):
            self.members[c].append(position)
        self.position = {int(v): p for p, v in enumerate(self.free)}
        self.models: dict[int, object] = {}
        self.samples: dict[int, list[np.ndarray]] = {}
        self.random = np.random.default_rng(0)

    def _highs(self, c: int):
        if c in self.models:
            return self.models[c]
        highspy = self.highspy
        cols = np.array(self.members[c])
        sub = self.free_matrix[:, cols]
        rows = np.flatnonzero(self.active & (np.diff(sub.tocsr().indptr) > 0))
        sub = sub[rows].tocsc()
        lower = np.where(self.senses[rows] == "=", self.rhs_free[rows], self.rhs_free[rows])
        upper = np.where(self.senses[rows] == "=", self.rhs_free[rows], highspy.kHighsInf)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = len(cols), len(rows)
        lp.col_cost_ = np.zeros(len(cols))
        lp.col_lower_ = self.lo[self.free[cols]]
        lp.col_upper_ = np.where(np.isinf(self.hi[self.free[cols]]), highspy.kHighsInf,
                                 self.hi[self.free[cols]])  # fmt: skip
        lp.row_lower_, lp.row_upper_ = lower, upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = sub.indptr
        lp.a_matrix_.index_ = sub.indices
        lp.a_matrix_.value_ = sub.data
        h.passModel(lp)
        h.run()
        if h.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
            # A view's reason contradicts the rest (a total given its part's reason, say):
            # keep only what the count tables' own reasons say, and report it.
            relaxed = self.free[cols]
            h.changeColsBounds(len(cols), np.arange(len(cols), dtype=np.int32),
                               self.count_lo[relaxed], np.where(np.isinf(self.count_hi[relaxed]),
                               highspy.kHighsInf, self.count_hi[relaxed]))  # fmt: skip
            self.problems.append(
                f"the view reasons of {len(cols)} linked cells contradict the published "
                f"numbers (e.g. {self.where[relaxed[0]]}); solved with the count tables' "
                "reasons only"
            )
        local = {int(self.free[col]): i for i, col in enumerate(cols)}
        self.models[c] = (h, local)
        # A few vertices of the feasible set: a quantity that takes two whole values
        # among them is not pinned, and needs no solve of its own.
        self.samples[c] = []
        every = np.arange(len(cols), dtype=np.int32)
        for direction in self.random.standard_normal((2, len(cols))):
            for sign in (1.0, -1.0):
                h.changeColsCost(len(cols), every, sign * direction)
                h.run()
                self._keep(c, h)
        h.changeColsCost(len(cols), every, np.zeros(len(cols)))
        return self.models[c]

    def _keep(self, c: int, h) -> None:
        if h.getModelStatus() == self.highspy.HighsModelStatus.kOptimal:
            self.samples[c].append(np.array(h.getSolution().col_value))

    def observed(self, terms: dict[int, float]) -> tuple[float, float]:
        """The range of sum(c * x_v) over the vertices seen so far (inside the true range)."""
        constant, by_component = 0.0, defaultdict(dict)
        for v, c in terms.items():
            if self.known[v]:
                constant += c * self.lo[v]
            else:
                by_component[self.component[self.position[v]]][v] = c
        low = high = constant
        for comp, part in by_component.items():
            _, local = self._highs(comp)
            if not self.samples[comp]:
                return INF, -INF
            values = np.array([sum(c * x[local[v]] for v, c in part.items())
                               for x in self.samples[comp]])  # fmt: skip
            low, high = low + values.min(), high + values.max()
        return low, high

    def value_range(self, v: int) -> tuple[float, float]:
        return self.objective_range({v: 1.0})

    def objective_range(self, terms: dict[int, float]) -> tuple[float, float]:
        """Smallest and largest value of sum(c * x_v), whole numbers (bounds rounded inward)."""
        constant, by_component = 0.0, defaultdict(dict)
        for v, c in terms.items():
            if self.known[v]:
                constant += c * self.lo[v]
            else:
                by_component[self.component[self.position[v]]][v] = c
        low = high = constant
        for comp, part in by_component.items():
            lo, hi = self._component_range(comp, part)
            low, high = low + lo, high + hi
        eps = 1e-6
        return (math.ceil(low - eps) if low > -INF else low,
                math.floor(high + eps) if high < INF else high)  # fmt: skip

    def _component_range(self, comp: int, part: dict[int, float]) -> tuple[float, float]:
        h, local = self._highs(comp)
        highspy = self.highspy
        result = []
        for sign in (1.0, -1.0):
            for v, c in part.items():
                h.changeColCost(local[v], sign * c)
            h.run()
            status = h.getModelStatus()
            self._keep(comp, h)
            if status == highspy.HighsModelStatus.kOptimal:
                result.append(sign * h.getInfo().objective_function_value)
            elif status in (highspy.HighsModelStatus.kUnbounded,
                            highspy.HighsModelStatus.kUnboundedOrInfeasible):  # fmt: skip
                result.append(-INF if sign > 0 else INF)
            else:
                message = f"the relations have no solution ({status}); component {comp}"
                if message not in self.problems:
                    self.problems.append(message)
                result.append(-INF if sign > 0 else INF)
            for v in part:
                h.changeColCost(local[v], 0.0)
        return result[0], result[1]


def _whole(low: float, high: float) -> tuple[float, float]:
    eps = 1e-6
    return math.ceil(low - eps), math.floor(high + eps)


def _two_whole_values(observed: tuple[float, float]) -> bool:
    low, high = _whole(*observed) if observed[0] <= observed[1] else (1, 0)
    return high > low


def _could_be_small(observed: tuple[float, float], k: int) -> bool:
    """False when the values seen already include one that is not 1..k-1 (or its negative)."""
    if observed[0] > observed[1]:
        return True
    low, high = _whole(*observed)
    if low > high:
        return True
    return (1 <= low and high <= k - 1) or (-(k - 1) <= low and high <= -1)


def _describe(model: Model, bundles: Sequence[Bundle], v: int) -> str:
    b, site, cube, key = model.names[v]
    what = ", ".join(f"{a}={x}" for a, x in key)
    return f"{bundles[b].release_id} {site} {cube} ({what}) [{model.where[v]}]"


def attack(folders: Sequence[Path], k: int = DEFAULT_K) -> Report:
    """Every finding from the bundles in `folders` (any order; sorted by as_of here)."""
    started = time.perf_counter()
    bundles = [read_bundle(Path(f)) for f in folders]
    order = sorted(range(len(bundles)), key=lambda i: bundles[i].as_of)
    model = Model(k)
    for i in order:
        add_release(model, i, bundles[i])
    differences = link_releases(model, bundles, order)
    findings: list[Finding] = []
    within = Solver(model, use_cross=False)
    pinned_within = set()
    # Withheld everywhere it appears (a view may withhold what a count table publishes).
    targets = [
        v for v in range(len(model.names)) if model.withheld[v] and model.published[v] is None
    ]
    for v in targets:
        if _two_whole_values(within.observed({v: 1.0})):
            continue
        lo, hi = within.value_range(v)
        if lo == hi:
            pinned_within.add(v)
            findings.append(Finding("within-release", _describe(model, bundles, v), lo, hi))
    union = Solver(model, use_cross=True) if len(bundles) > 1 else within
    if union is not within:
        for v in targets:
            if v in pinned_within or _two_whole_values(union.observed({v: 1.0})):
                continue
            lo, hi = union.value_range(v)
            if lo == hi:
                findings.append(
                    Finding(
                        "closed period re-protected differently",
                        _describe(model, bundles, v),
                        lo,
                        hi,
                    )  # fmt: skip
                )
    seen = set()
    for d in differences:
        terms = {d.later: 1.0, d.earlier: -1.0}
        if not _could_be_small(union.observed(terms), k):
            continue
        lo, hi = union.objective_range(terms)
        small = (1 <= lo and hi <= k - 1) or (-(k - 1) <= lo and hi <= -1)
        if not small or (d.name, lo, hi) in seen:
            continue
        seen.add((d.name, lo, hi))
        earlier = f"{bundles[model.names[d.earlier][0]].release_id} [{model.where[d.earlier]}]"
        what = f"{_describe(model, bundles, d.later)} minus {earlier}"
        findings.append(Finding(d.mechanism, what, lo, hi))
    problems = [*model.problems, *within.problems]
    if union is not within:
        problems += [p for p in union.problems if p not in within.problems]
    problems += [f"undocumented reason: {r!r}" for r in sorted(model.unknown_reasons)]
    stats = {
        "releases": len(bundles),
        "quantities": len(model.names),
        "withheld": len(targets),
        "relations": len(model.senses),
        "cross-release relations": int(sum(model.cross)),
        "differences examined": len(differences),
        "broken relations": union.broken,
    }
    return Report(findings, problems, time.perf_counter() - started, stats)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundles", nargs="+", type=Path, metavar="BUNDLE_DIR")
    parser.add_argument("--k", type=int, default=DEFAULT_K, help="the threshold (default 11)")
    parser.add_argument(
        "--examples", type=int, default=0, help="findings shown per mechanism (0: all)"
    )
    args = parser.parse_args(argv)
    for folder in args.bundles:
        if not (folder / "README.md").is_file() or not (folder / "releases.csv").is_file():
            parser.error(f"{folder} is not an open-data bundle (no README.md or releases.csv)")
    report = attack(args.bundles, args.k)
    for mechanism, found in report.by_mechanism().items():
        small = sum(1 for f in found if f.small(args.k))
        print(f"{mechanism}: {len(found)} ({small} of them a count of 1 to {args.k - 1})")
        for f in found[: args.examples or None]:
            print(f"  {f}")
    for problem in report.problems:
        print(f"problem: {problem}")
    print(", ".join(f"{name} {n}" for name, n in report.stats.items()))
    print(f"{len(report.findings)} findings, {len(report.problems)} problems "
          f"in {report.seconds:.1f} s")  # fmt: skip
    return 1 if report.findings or report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
