"""The disparities and disparity_headline views on the demo database.

Expected values are worked out here from the referral-flow cube's PUBLISHED
counts, with the arithmetic written out, so a change to the cube or to the
demo data moves both sides together and the formulas are what is tested.
"""

from __future__ import annotations

import math
import re

import polars as pl
import pytest

import data_access.views.disparities  # noqa: F401  (registers the views)
from data_access import queries as q
from data_access.audience import Audience
from data_access.db import make_engine
from data_access.disclosure import audit_counts
from data_access.views import Selection, build
from data_access.views.referral_flow import finest_table, referral_flow

RELEASE = "demo-2025-12"
SMALL = re.compile(r"^(?:[1-9]|10)$")


@pytest.fixture(scope="module")
def engine(demo_sqlite_url):
    return make_engine(demo_sqlite_url)


def _view(engine, site="seattle", period="2025", precincts=(), reference="white", name=None,
          audience=Audience.PUBLIC):  # fmt: skip
    selection = Selection(RELEASE, site, period, tuple(precincts), reference)
    return build(name or "disparities", engine, selection, audience)


def _cube(engine, site="seattle"):
    release = q.get_release(engine, RELEASE)
    return referral_flow(engine, RELEASE, release.checksum, site, Audience.PUBLIC)


def _cell(cube, level, **equal) -> int | None:
    frame = cube.level(level).frame
    for column, value in equal.items():
        frame = frame.filter(pl.col(column) == value)
    return frame["persons"][0] if frame.height else 0


def _row(protected, **equal) -> dict:
    frame = protected.frame
    for column, value in equal.items():
        frame = frame.filter(pl.col(column) == value)
    assert frame.height == 1, f"expected one row for {equal}, found {frame.height}"
    return frame.row(0, named=True)


def test_rri_at_the_referral_step_is_the_ojjdp_formula_on_published_counts(engine):
    cube = _cube(engine)
    route = ("route", "referred", "year", "race_ethnicity")
    a = _cell(cube, route, route="police", referred="yes", year="2025", race_ethnicity="black")
    a_not = _cell(cube, route, route="police", referred="no", year="2025", race_ethnicity="black")
    b = _cell(cube, route, route="police", referred="yes", year="2025", race_ethnicity="white")
    b_not = _cell(cube, route, route="police", referred="no", year="2025", race_ethnicity="white")
    # Black: a of A = a + a_not eligible contacts referred; white: b of B likewise.
    # (In the demo, 198 of 198 + 678 = 876 against 106 of 106 + 234 = 340.)
    A, B = a + a_not, b + b_not
    rri = (a / A) / (b / B)  # 0.22603 / 0.31176 = 0.72499
    se = math.sqrt(1 / a - 1 / A + 1 / b - 1 / B)
    low, high = rri * math.exp(-1.959964 * se), rri * math.exp(1.959964 * se)

    row = _row(
        _view(engine).table("rri"),
        decision_point="eligible_contact_to_referral",
        race_ethnicity="black",
    )
    assert row["estimate"] == pytest.approx(rri, rel=1e-9)
    assert row["ci_low"] == pytest.approx(low, rel=1e-5)
    assert row["ci_high"] == pytest.approx(high, rel=1e-5)
    assert row["excludes_one"] is (low > 1 or high < 1)
    assert row["rate"] == pytest.approx(a / A)
    assert row["reference_rate"] == pytest.approx(b / B)
    assert row["reliability"] == "ok"


def test_enrollment_rates_come_with_their_counts(engine):
    cube = _cube(engine)
    enrolled = _cell(
        cube, ("enrolled", "year", "race_ethnicity"), enrolled="yes", year="2025",
        race_ethnicity="white",
    )  # fmt: skip
    referred = _cell(
        cube, ("referred", "year", "race_ethnicity"), referred="yes", year="2025",
        race_ethnicity="white",
    )  # fmt: skip
    row = _row(
        _view(engine).table("rates"), decision_point="referral_to_enrollment",
        race_ethnicity="white",
    )  # fmt: skip
    # Share enrolled = enrolled / referred (96 / 121 = 79.3% in the demo), Wilson interval.
    assert (row["events"], row["base"]) == (enrolled, referred)
    assert row["estimate"] == pytest.approx(enrolled / referred)
    assert row["ci_low"] < enrolled / referred < row["ci_high"]


def test_choosing_another_reference_group_inverts_the_ratio(engine):
    against_white = _row(
        _view(engine).table("rri"),
        decision_point="eligible_contact_to_referral",
        race_ethnicity="black",
    )
    against_black = _row(
        _view(engine, reference="black").table("rri"),
        decision_point="eligible_contact_to_referral",
        race_ethnicity="white",
    )
    # RRI(white vs black) = 1 / RRI(black vs white); the interval turns over with it.
    assert against_black["estimate"] == pytest.approx(1 / against_white["estimate"])
    assert against_black["ci_low"] == pytest.approx(1 / against_white["ci_high"], rel=1e-6)
    assert against_black["ci_high"] == pytest.approx(1 / against_white["ci_low"], rel=1e-6)
    assert against_black["reference_group"] == "black"
    reference_row = _row(
        _view(engine, reference="black").table("rri"),
        decision_point="eligible_contact_to_referral",
        race_ethnicity="black",
    )
    assert (reference_row["estimate"], reference_row["reliability"]) == (1.0, "reference")


def test_a_group_under_ojjdp_minimums_gets_no_ratio_but_says_why(engine):
    # Seattle 2019: American Indian or Alaska Native eligible contacts are published, with
    # at least 11 referred, but number under 50, OJJDP's minimum base.
    cube = _cube(engine)
    route = ("route", "referred", "year", "race_ethnicity")
    place = {"route": "police", "year": "2019", "race_ethnicity": "aian"}
    a = _cell(cube, route, referred="yes", **place)
    a_not = _cell(cube, route, referred="no", **place)
    assert a is not None and a_not is not None and a >= 11 and a + a_not < 50
    row = _row(
        _view(engine, period="2019").table("rri"),
        decision_point="eligible_contact_to_referral",
        race_ethnicity="aian",
    )
    assert row["reliability"] == "insufficient"
    assert row["estimate"] is None and row["ci_low"] is None and row["excludes_one"] is None
    assert "under 50" in row["note"]


def test_unknown_race_share_uses_the_published_totals(engine):
    cube = _cube(engine)
    unknown = _cell(
        cube, ("referred", "year", "race_ethnicity"), referred="yes", year="2025",
        race_ethnicity="unknown",
    )  # fmt: skip
    total = _cell(cube, ("referred", "year"), referred="yes", year="2025")
    row = _row(_view(engine).table("unknown_share"), decision_point="referral_to_enrollment")
    # 11 of 441 referrals in the demo: 2.49%.
    assert (row["unknown"], row["total"]) == (unknown, total)
    assert row["estimate"] == pytest.approx(unknown / total)


def test_a_withheld_unknown_count_does_not_withhold_the_published_total(engine):
    # Seattle 2024: the referrals of unknown race are 1 to 10, so the share is withheld,
    # but the year's referrals are published by the cube, and the view shows them with
    # their own (empty) reason, not the part's "fewer than 11".
    cube = _cube(engine)
    total = _cell(cube, ("referred", "year"), referred="yes", year="2024")
    assert total is not None and total >= 11
    table = _view(engine, period="2024").table("unknown_share")
    row = _row(table, decision_point="referral_to_enrollment")
    assert row["unknown"] is None and row["unknown_flag"] == "fewer than 11"
    assert (row["total"], row["total_flag"]) == (total, "")
    assert row["estimate"] is None


def test_the_unknown_count_of_a_share_has_its_own_reason_not_its_events(engine):
    # Seattle 2017: eligible police contacts of unknown race are the referred ones (1 to 10,
    # withheld) plus the ones not referred (published). Their sum is withheld as a sum
    # ("partly withheld"), not with the referred part's "fewer than 11": it is at least 11.
    cube = _cube(engine)
    level = ("route", "referred", "year", "race_ethnicity")
    cell = {"route": "police", "year": "2017", "race_ethnicity": "unknown"}
    not_referred = _cell(cube, level, referred="no", **cell)
    assert not_referred is not None and not_referred >= 11
    assert _cell(cube, level, referred="yes", **cell) is None
    table = _view(engine, period="2017").table("unknown_share")
    row = _row(table, decision_point="eligible_contact_to_referral")
    assert (row["unknown"], row["unknown_flag"]) == (None, "partly withheld")


def test_representation_ratio_against_adult_residents(engine):
    cube = _cube(engine)
    year = {"referred": "yes", "year": "2025"}
    level = ("referred", "year", "race_ethnicity")
    black = _cell(cube, level, race_ethnicity="black", **year)
    unknown = _cell(cube, level, race_ethnicity="unknown", **year)
    total = _cell(cube, ("referred", "year"), **year)
    residents = q.aggregate(
        engine, "population", q.Scope(RELEASE, "seattle"), by=["race_ethnicity", "year"]
    ).filter((pl.col("year").cast(pl.Int64) == 2025) & (pl.col("race_ethnicity") != "unknown"))
    black_residents = residents.filter(pl.col("race_ethnicity") == "black")["population"][0]
    # share of referrals of known race / share of adult residents:
    # (237 / (441 - 11)) / (59,809 / all residents) in the demo.
    expected = (black / (total - unknown)) / (black_residents / residents["population"].sum())
    row = _row(_view(engine).table("population"), race_ethnicity="black")
    assert row["estimate"] == pytest.approx(expected, rel=1e-9)
    assert row["referral_share"] == pytest.approx(black / (total - unknown))
    assert row["per_10000"] == pytest.approx(black / black_residents * 10_000)


def test_the_headline_is_the_result_farthest_from_parity(demo_database_url):
    engine = make_engine(demo_database_url)
    rri = _view(engine).table("rri").frame
    usable = rri.filter(
        pl.col("estimate").is_not_null()
        & pl.col("reliability").is_in(["ok", "unstable"])
        & (pl.col("race_ethnicity") != "white")
    )
    farthest = max(usable.iter_rows(named=True), key=lambda r: abs(math.log(r["estimate"])))
    headline = _view(engine, name="disparity_headline")
    row = headline.table("headline").frame.row(0, named=True)
    assert (row["decision_point"], row["race_ethnicity"]) == (
        farthest["decision_point"],
        farthest["race_ethnicity"],
    )
    assert row["estimate"] == pytest.approx(farthest["estimate"])
    assert headline.facts["found"] == "yes"
    assert headline.facts["group"] == farthest["race_ethnicity"]


def test_headline_says_when_nothing_can_be_compared(engine):
    # Santa Fe 2024: white referrals are too few to publish, so nothing compares with them.
    headline = _view(engine, site="santa-fe", period="2024", name="disparity_headline")
    assert headline.facts["found"] == "no"
    assert headline.table("headline").height == 0


def test_a_quarter_is_read_as_its_year_and_a_year_under_way_as_the_last_whole_one(engine):
    quarter = _view(engine, period="2025-Q2")
    whole = _view(engine, period="2025")
    assert quarter.table("rri").frame.equals(whole.table("rri").frame)
    assert quarter.facts["year_phrase"] == "2025"
    assert quarter.facts["year_note"] == ""
    # In June 2025 the year is not over: figures by year are published for whole years,
    # so a quarter of 2025 reads 2024, with real rates (not the zeros of a year unpublished).
    june = [
        build("disparities", engine, Selection("demo-2025-06", "seattle", code), Audience.PUBLIC)
        for code in ("2025-Q1", "2024")
    ]
    assert june[0].facts["year_phrase"] == "2024"
    assert "2025 is not over yet" in june[0].facts["year_note"]
    assert "2024, the latest whole year" in june[0].facts["year_note"]
    assert june[0].table("rates").frame.equals(june[1].table("rates").frame)
    published = june[0].table("rates").frame.filter(pl.col("estimate").is_not_null())
    assert published.height >= 4 and published["base"].min() > 0
    shares = june[0].table("unknown_share").frame
    assert (shares["total"].fill_null(1) > 0).all(), "nobody at a base is a year unpublished"


def test_one_precinct_gets_its_own_rates_and_ratios(engine):
    cube = _cube(engine)
    level = ("referred", "precinct_id", "year", "race_ethnicity")
    place = {"precinct_id": "west", "year": "2025", "race_ethnicity": "white"}
    yes = _cell(cube, level, referred="yes", **place)
    no = _cell(cube, level, referred="no", **place)
    view = _view(engine, precincts=("west",))
    row = _row(view.table("precinct_rates"), race_ethnicity="white")
    assert (row["events"], row["base"]) == (yes, yes + no)
    assert "precinct_rri" in view.tables
    assert "precinct_rri" not in _view(engine).tables


def test_changing_the_site_or_the_year_changes_the_figures(engine):
    seattle = _view(engine).table("rates").frame
    assert not seattle.equals(_view(engine, site="albany").table("rates").frame)
    assert not seattle.equals(_view(engine, period="2024").table("rates").frame)


def test_no_count_from_1_to_10_in_any_public_table(engine):
    for site in ("seattle", "albany", "santa-fe"):
        for period in ("2025", "2024", "2023-Q3"):
            for name in ("disparities", "disparity_headline"):
                view = _view(engine, site=site, period=period, precincts=(), name=name)
                for key, table in view.tables.items():
                    frame = table.frame
                    for column, dtype in frame.schema.items():
                        if dtype.is_integer():
                            small = [v for v in frame[column] if v is not None and 0 < v < 11]
                            assert not small, f"{site} {period} {key}.{column}: {small}"


def test_no_small_count_in_a_single_precinct_view(engine):
    for precinct in q.precincts(engine, RELEASE, "seattle")["precinct_id"]:
        view = _view(engine, precincts=(precinct,))
        for key, table in view.tables.items():
            for column, dtype in table.frame.schema.items():
                if dtype.is_integer():
                    values = [v for v in table.frame[column] if v is not None]
                    assert not [v for v in values if SMALL.match(str(v))], (precinct, key)


def test_staff_see_exact_rates_through_the_same_view(engine):
    public = _row(
        _view(engine).table("rates"), decision_point="eligible_contact_to_referral",
        race_ethnicity="asian",
    )  # fmt: skip
    staff = _row(
        _view(engine, audience=Audience.STAFF).table("rates"),
        decision_point="eligible_contact_to_referral",
        race_ethnicity="asian",
    )
    assert public["estimate"] is None
    assert staff["estimate"] is not None and staff["events"] is not None


def test_the_referral_flow_cube_passes_an_exact_audit_for_every_demo_site(engine):
    release = q.get_release(engine, RELEASE)
    for site in release.sites:
        report = audit_counts(_cube(engine, site), finest_table(engine, RELEASE, site))
        assert report.passed, f"{site}: {report}"


def test_a_site_without_eligible_contacts_or_population(tmp_path, sqlite_url):
    from release_builder import minimal_release

    from data_access.load import load_release

    release = minimal_release()
    del release.tables["eligible_contacts"]
    release.tables.pop("population", None)
    engine = make_engine(sqlite_url)
    load_release(engine, release.write(tmp_path / "release"))
    view = build("disparities", engine, Selection("test-2024-12", "sea", "2024"), Audience.PUBLIC)
    assert "population" not in view.tables
    assert any("does not publish eligible police contacts" in n for n in view.notes)
    rri = view.table("rri").frame
    assert rri.filter(pl.col("decision_point") == "eligible_contact_to_referral").is_empty()
    # Every figure of this tiny site is too small: nothing is shown, and nothing breaks.
    assert rri["estimate"].drop_nulls().to_list() in ([], [1.0])
    headline = build(
        "disparity_headline", engine, Selection("test-2024-12", "sea", "2024"), Audience.PUBLIC
    )
    assert headline.facts["found"] == "no"
