"""The costs views: worked examples on a small release, disclosure, and the demo sites.

The worked release (`costs_release`) gives site "sea" these costs, each
category row carrying its group's people:

    fiscal year  group       persons  jail     police  hospital  program
    2021         lead          8      40,000
    2021         comparison    9      45,000
    2022         lead         40      200,000  40,000  20,000    120,000
    2022         comparison   50      250,000  50,000  25,000    0
    2023         lead         40      120,000  32,000  16,000    140,000
    2023         comparison   50      300,000  60,000  30,000    0
    2024         lead         20      100,000                      60,000
    2024         comparison   25      150,000

Site "sfe" publishes no costs.
"""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from release_builder import minimal_release

import data_access.views.costs as costs
from briefing.sentences import cost_sentence
from data_access import queries as q
from data_access.audience import Audience
from data_access.db import make_engine
from data_access.disclosure import audit_counts
from data_access.load import load_release
from data_access.metrics.costs import fiscal_year_of_month
from data_access.periods import Period, parse_period
from data_access.views import Selection, build

CATEGORIES = ("jail", "police", "hospital", "program")
WORKED = {
    # (year, group): (persons, {category: dollars})
    (2021, "lead"): (8, {"jail": 40_000}),
    (2021, "comparison"): (9, {"jail": 45_000}),
    (2022, "lead"): (40, dict(zip(CATEGORIES, (200_000, 40_000, 20_000, 120_000), strict=True))),
    (2022, "comparison"): (50, dict(zip(CATEGORIES, (250_000, 50_000, 25_000, 0), strict=True))),
    (2023, "lead"): (40, dict(zip(CATEGORIES, (120_000, 32_000, 16_000, 140_000), strict=True))),
    (2023, "comparison"): (50, dict(zip(CATEGORIES, (300_000, 60_000, 30_000, 0), strict=True))),
    (2024, "lead"): (20, {"jail": 100_000, "program": 60_000}),
    (2024, "comparison"): (25, {"jail": 150_000}),
}


def costs_release(release_id: str = "test-2024-12", as_of: str = "2024-12-31"):
    release = minimal_release(release_id, as_of)
    release.tables["costs"] = [
        {
            "site_id": "sea",
            "fiscal_year": str(year),
            "group": group,
            "category": category,
            "persons": str(persons),
            "total_cost_usd": str(dollars),
        }
        for (year, group), (persons, spent) in WORKED.items()
        for category, dollars in spent.items()
    ]
    return release


@pytest.fixture
def worked_url(sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    load_release(engine, costs_release().write(tmp_path / "release"))
    engine.dispose()
    return sqlite_url


def _build(url: str, name: str, period: str, site: str = "sea", **kwargs) -> costs.ViewResult:
    audience = kwargs.pop("audience", Audience.PUBLIC)
    release = kwargs.pop("release", "test-2024-12")
    engine = make_engine(url)
    try:
        return build(name, engine, Selection(release, site, period, **kwargs), audience)
    finally:
        engine.dispose()


def _row(result, table: str, **equal) -> dict:
    frame = result.table(table).frame
    for column, value in equal.items():
        frame = frame.filter(pl.col(column) == value)
    assert frame.height == 1, f"{table} {equal}: {frame.height} rows"
    return frame.row(0, named=True)


# ---------------------------------------------------------------- worked examples


def test_saving_range_worked_example_on_both_databases(database_url, tmp_path):
    engine = make_engine(database_url)
    load_release(engine, costs_release().write(tmp_path / "release"))
    engine.dispose()
    result = _build(database_url, "costs", "2023-Q2")
    assert result.facts["fiscal_year"] == "2023"
    # Baseline 2022: 2021 had 8 and 9 people (withheld), 2022 has 40 and 50.
    assert result.facts["baseline_year"] == "2022"
    assert result.facts["followup_year"] == "2023"
    # Marginal = jail only (police is a fixed cost; hospital is not legal-system):
    #   LEAD 200,000/40 = 5,000 -> 120,000/40 = 3,000: change -2,000
    #   comparison 250,000/50 = 5,000 -> 300,000/50 = 6,000: change +1,000
    #   saving = 1,000 - (-2,000) = 3,000
    marginal = _row(result, "saving", scope="marginal")
    assert marginal["saving"] == pytest.approx(3_000)
    assert (marginal["lead_pre"], marginal["lead_post"]) == pytest.approx((5_000, 3_000))
    # Fully loaded = jail + police:
    #   LEAD 240,000/40 = 6,000 -> 152,000/40 = 3,800: change -2,200
    #   comparison 300,000/50 = 6,000 -> 360,000/50 = 7,200: change +1,200
    #   saving = 1,200 + 2,200 = 3,400
    loaded = _row(result, "saving", scope="fully_loaded")
    assert loaded["saving"] == pytest.approx(3_400)
    assert (loaded["comparison_pre"], loaded["comparison_post"]) == pytest.approx((6_000, 7_200))
    # Net: the program cost 140,000/40 = 3,500 per LEAD person-year in 2023.
    assert marginal["net_saving"] == pytest.approx(3_000 - 3_500)
    assert loaded["net_saving"] == pytest.approx(3_400 - 3_500)
    assert loaded["program_per_person_year"] == pytest.approx(3_500)


def test_which_pocket_saves_worked_example(worked_url):
    result = _build(worked_url, "costs", "2023")
    pockets = result.table("saving_by_category").frame
    saving = dict(zip(pockets["category"], pockets["saving"], strict=True))
    # jail: (6,000 - 5,000) - (3,000 - 5,000) = 3,000
    # police: (1,200 - 1,000) - (800 - 1,000) = 400
    # hospital: (600 - 500) - (400 - 500) = 200  (health costs count in the pockets view)
    assert saving == pytest.approx({"jail": 3_000, "police": 400, "hospital": 200})
    payers = dict(zip(pockets["category"], pockets["payer"], strict=True))
    assert payers["jail"] == "the county or city jail" and "Medicaid" in payers["hospital"]


def test_cost_per_person_year_by_category_and_total(worked_url):
    result = _build(worked_url, "costs", "2023")
    jail = _row(result, "by_category", group="lead", category="jail")
    assert jail["estimate"] == pytest.approx(120_000 / 40)
    assert jail["total_cost_usd"] == pytest.approx(120_000)
    # The program is not a public-system category: it has its own table.
    assert "program" not in result.table("by_category").frame["category"].to_list()
    # All public costs, LEAD 2023: (120,000 + 32,000 + 16,000) / 40 = 4,200;
    # comparison: (300,000 + 60,000 + 30,000) / 50 = 7,800.
    lead = _row(result, "totals", fiscal_year=2023, group="lead")
    comparison = _row(result, "totals", fiscal_year=2023, group="comparison")
    assert (lead["estimate"], comparison["estimate"]) == pytest.approx((4_200, 7_800))
    program = _row(result, "program", fiscal_year=2023)
    assert program["estimate"] == pytest.approx(140_000 / 40)
    assert program["program_total_usd"] == pytest.approx(140_000)
    # Legal-system trend, LEAD 2022: (200,000 + 40,000) / 40 = 6,000.
    assert _row(result, "legal_trend", fiscal_year=2022, group="lead")["estimate"] == pytest.approx(
        6_000
    )


def test_headline_sentence_says_the_range_and_the_years(worked_url):
    result = _build(worked_url, "cost_headline", "2023")
    # The headline uses the latest complete fiscal year: 2024, whose groups (20, 25 people)
    # are too small for a dependable saving.
    assert result.facts["followup_year"] == "2024"
    text = cost_sentence(**costs.sentence_arguments(result))
    assert text == (
        "Too few people were counted in fiscal year 2024 for a dependable cost comparison."
    )
    page = _build(worked_url, "costs", "2023-Q4")
    text = cost_sentence(**costs.sentence_arguments(page))
    assert text.startswith(
        "Compared with the comparison group, LEAD saved an estimated $3,000 to $3,400 per "
        "participant-year in criminal-justice costs in fiscal year 2023, measured against "
        "fiscal year 2022."
    )
    assert "The program itself cost $3,500 per participant-year." in text
    assert "the net cost is $100 to $500 per participant-year" in text


# ---------------------------------------------------------------- disclosure


def test_small_groups_withhold_the_cost_and_its_total(worked_url):
    result = _build(worked_url, "costs", "2024")
    persons = result.table("persons").frame
    withheld = persons.filter(pl.col("fiscal_year") == 2021)
    assert withheld["persons"].to_list() == [None, None]
    assert set(withheld["persons_flag"]) == {"fewer than 11"}
    # 20 and 25 people are published counts, but too few for a cost per person;
    # the total goes too, since total / 20 would give the cost back.
    assert sorted(persons.filter(pl.col("fiscal_year") == 2024)["persons"]) == [20, 25]
    for year, reason in ((2021, "based on a withheld count"), (2024, "denominator under 30")):
        row = _row(result, "totals", fiscal_year=year, group="lead")
        shown = (row["estimate"], row["total_cost_usd"], row["estimate_flag"])
        assert shown == (None, None, reason)
    assert _row(result, "program", fiscal_year=2024)["program_total_usd"] is None
    jail = _row(result, "by_category", group="comparison", category="jail")
    assert jail["estimate"] is None and jail["total_cost_usd"] is None


def test_saving_from_groups_under_30_is_withheld(worked_url):
    result = _build(worked_url, "costs", "2024")
    for scope in ("marginal", "fully_loaded"):
        row = _row(result, "saving", scope=scope)
        assert row["saving"] is None and row["net_saving"] is None
        assert row["saving_flag"] == "denominator under 30"
        assert row["lead_post"] is None


def test_staff_see_exact_figures_through_the_same_view(worked_url):
    result = _build(worked_url, "costs", "2024", audience=Audience.STAFF)
    assert result.table("persons").exact
    persons = result.table("persons").frame.filter(pl.col("fiscal_year") == 2021)
    assert sorted(persons["persons"]) == [8, 9]
    # 40,000 / 8 = 5,000
    assert _row(result, "totals", fiscal_year=2021, group="lead")["estimate"] == pytest.approx(
        5_000
    )
    assert "program_per_month" in result.tables


def test_public_get_no_per_month_figure(worked_url):
    # Participant-months are a sum of the caseload that no public table publishes.
    assert "program_per_month" not in _build(worked_url, "costs", "2024").tables


# ---------------------------------------------------------------- edge cases


def test_a_site_without_costs_says_so(worked_url):
    for name in ("costs", "cost_headline"):
        result = _build(worked_url, name, "2024", site="sfe")
        assert result.facts["costs_published"] == "no"
        assert result.tables == {}
        arguments = costs.sentence_arguments(result)
        assert cost_sentence(**arguments).endswith("not published for this site.")


def test_a_period_in_the_baseline_year_explains_why_there_is_no_saving(worked_url):
    result = _build(worked_url, "costs", "2022-Q3")
    assert result.facts["fiscal_year"] == "2022"
    assert "saving" not in result.tables
    assert "choose a period in a later fiscal year" in result.facts["saving_status"]


def test_an_incomplete_fiscal_year_is_replaced_by_the_latest_complete_one(sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    load_release(engine, costs_release("test-2024-06", "2024-06-30").write(tmp_path / "r"))
    engine.dispose()
    result = _build(sqlite_url, "costs", "2024-Q1", release="test-2024-06")
    assert result.facts["selected_fiscal_year"] == "2024"
    assert result.facts["fiscal_year"] == "2023"
    assert result.facts["incomplete_years"] == "2024"
    assert any("2024 is not complete" in note for note in result.notes)
    # The part-year is nowhere: not in the trend, not among the people counts.
    assert 2024 not in result.table("legal_trend").frame["fiscal_year"].to_list()
    assert 2024 not in result.table("persons").frame["fiscal_year"].to_list()


def test_a_precinct_selection_shows_the_whole_site_and_says_so(worked_url):
    site = _build(worked_url, "costs", "2023")
    precinct = _build(worked_url, "costs", "2023", precinct_ids=("north",))
    assert any("whole site only" in note for note in precinct.notes)
    assert_frame_equal(site.table("totals").frame, precinct.table("totals").frame)


@settings(max_examples=80, deadline=None)
@given(
    year=st.integers(2000, 2040),
    grain=st.sampled_from(["quarter", "year"]),
    number=st.integers(1, 4),
    start=st.integers(1, 12),
)
def test_period_to_fiscal_year_agrees_with_the_metrics(year, grain, number, start):
    period = Period(grain, year, number if grain == "quarter" else 1)
    months = pl.DataFrame({"month": [period.end_month]})
    expected = months.select(fiscal_year_of_month("month", start)).item()
    assert costs.fiscal_year_of(period, start) == expected
    # The fiscal year ends after the period's last day and within 12 months of it.
    end = costs.fiscal_year_end(costs.fiscal_year_of(period, start), start)
    assert period.end_date <= end
    assert (end.year - period.end_date.year) * 12 + end.month - period.end_date.month < 12


# ---------------------------------------------------------------- the demo sites


DEMO_SITES = ("seattle", "santa-fe", "albany")


@pytest.mark.parametrize("site", DEMO_SITES)
def test_the_people_counts_pass_the_exact_audit(demo_sqlite_url, site):
    engine = make_engine(demo_sqlite_url)
    for release_id in ("demo-2025-06", "demo-2025-12"):
        release = q.get_release(engine, release_id)
        cube = costs.site_costs(engine, release_id, release.checksum, site, Audience.PUBLIC)
        assert audit_counts(cube.persons).passed, (release_id, site)
    engine.dispose()


@pytest.mark.parametrize("site", DEMO_SITES)
def test_no_count_from_1_to_10_in_any_public_table(demo_sqlite_url, site):
    for name, period in (("costs", "2025-Q4"), ("costs", "2017"), ("cost_headline", "2025")):
        result = _build(demo_sqlite_url, name, period, site=site, release="demo-2025-12")
        for key, table in result.tables.items():
            frame = table.frame
            for column in ("persons", "participant_months"):
                if column in frame.columns:
                    small = frame.filter(pl.col(column).is_between(1, 10))
                    assert small.is_empty(), (site, key, small)


def test_demo_seattle_saves_more_when_fully_loaded(demo_sqlite_url):
    result = _build(demo_sqlite_url, "costs", "2025-Q4", site="seattle", release="demo-2025-12")
    assert result.facts["baseline_year"] == "2012"  # 2011: the launch year, fewer than 11 each
    marginal = _row(result, "saving", scope="marginal")["saving"]
    loaded = _row(result, "saving", scope="fully_loaded")["saving"]
    # The demo's legal costs fall for LEAD and rise for the comparison group (Collins 2019).
    assert 0 < marginal < loaded
    pockets = result.table("saving_by_category").frame.sort("saving", descending=True)
    assert pockets["category"][0] == "jail"


def test_changing_the_period_changes_the_figures(demo_sqlite_url):
    a = _build(demo_sqlite_url, "costs", "2024", site="seattle", release="demo-2025-12")
    b = _build(demo_sqlite_url, "costs", "2025", site="seattle", release="demo-2025-12")
    assert a.facts["fiscal_year"] == "2024" and b.facts["fiscal_year"] == "2025"
    assert a.table("by_category").frame["estimate"].to_list() != (
        b.table("by_category").frame["estimate"].to_list()
    )


def test_the_headline_uses_the_latest_complete_fiscal_year(demo_sqlite_url):
    for release_id, latest in (("demo-2025-06", "2024"), ("demo-2025-12", "2025")):
        result = _build(demo_sqlite_url, "cost_headline", "2025", site="albany", release=release_id)
        assert result.facts["followup_year"] == latest
        assert result.table("program").frame["fiscal_year"].to_list() == [int(latest)]
        assert cost_sentence(**costs.sentence_arguments(result)).startswith(
            "Compared with the comparison group, LEAD saved"
        )


def test_same_figures_on_sqlite_and_postgresql(demo_sqlite_url, demo_postgres_url):
    for site in DEMO_SITES:
        a = _build(demo_sqlite_url, "costs", "2025", site=site, release="demo-2025-12")
        b = _build(demo_postgres_url, "costs", "2025", site=site, release="demo-2025-12")
        assert a.facts == b.facts
        for key in a.tables:
            assert_frame_equal(a.table(key).frame, b.table(key).frame, check_exact=False)


def test_periods_named_by_the_selection_are_whole_quarters_or_years():
    assert costs.fiscal_year_of(parse_period("2025-Q4")) == 2025
    # A July-June fiscal year: Q3 2025 (July-September) falls in fiscal year 2026.
    assert costs.fiscal_year_of(parse_period("2025-Q3"), start_month=7) == 2026
    assert costs.fiscal_year_end(2026, start_month=7).isoformat() == "2026-06-30"
