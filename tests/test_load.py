"""load_release: one transaction, all or nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from bad_inputs import CASES
from release_builder import minimal_release

from data_access.db import init_db, make_engine
from data_access.load import (
    LoadFailed,
    ReleaseAlreadyLoaded,
    ReleaseInvalid,
    list_releases,
    load_release,
)
from data_access.release_files import release_checksum
from data_access.schema import DATA_TABLES, metadata, releases


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order: the database's whole state."""
    with engine.connect() as conn:
        return {
            table.name: sorted(
                conn.execute(sa.select(table)).all(), key=lambda row: tuple(map(str, row))
            )
            for table in metadata.sorted_tables
        }


def test_every_bad_input_is_refused_and_changes_nothing(engine, tmp_path):
    load_release(engine, minimal_release("earlier-release", "2024-06-30").write(tmp_path / "ok"))
    before = snapshot(engine)
    assert len(before["referrals"]) == 4

    missed = []
    for case in CASES:
        folder = case.write(tmp_path / case.name)
        with pytest.raises(ReleaseInvalid) as refused:
            load_release(engine, folder)
        if not case.found_in(refused.value.report.problems):
            missed.append(case.name)
        assert snapshot(engine) == before, f"{case.name} changed the database"
    assert missed == []


def test_valid_release_loads_every_row_with_its_companions(engine, tmp_path):
    folder = minimal_release().write(tmp_path / "release")

    summary = load_release(engine, folder)

    assert summary.release_id == "test-2024-12" and not summary.replaced
    assert summary.row_counts == {
        "sites": 2, "precincts": 3, "referrals": 4, "screening": 6, "eligible_contacts": 3,
        "caseload": 3, "services": 3, "recidivism": 4, "costs": 2, "population": 3,
    }  # fmt: skip
    with engine.connect() as conn:
        register = conn.execute(sa.select(releases)).mappings().one()
        referrals = DATA_TABLES["referrals"]
        west = (
            conn.execute(sa.select(referrals).where(referrals.c.precinct_id == "west"))
            .mappings()
            .one()
        )
        recidivism = DATA_TABLES["recidivism"]
        cohorts = conn.execute(
            sa.select(recidivism.c.cohort, recidivism.c.cohort_year, recidivism.c.cohort_quarter)
        ).all()
        costs = DATA_TABLES["costs"]
        money = (
            conn.execute(sa.select(costs.c.total_cost_usd).order_by(costs.c.total_cost_usd))
            .scalars()
            .all()
        )
    assert register["as_of"] == date(2024, 12, 31)
    assert register["checksum"] == release_checksum(sorted(folder.iterdir()))
    assert register["row_counts"] == summary.row_counts
    assert register["sites"] == ["sea", "sfe"] and register["synthetic"] is True
    assert register["contract_version"] == "1"
    # month 2024-02 is in the first quarter: period_year 2024, period_quarter 1, period_month 2.
    assert (west["month"], west["period_year"], west["period_quarter"], west["period_month"]) == (
        "2024-02", 2024, 1, 2,
    )  # fmt: skip
    assert (west["referrals"], west["enrolled"], west["release_id"]) == (1, 1, "test-2024-12")
    assert set(cohorts) == {("2023-Q1", 2023, 1)}
    assert [Decimal(str(m)).quantize(Decimal("0.01")) for m in money] == [
        Decimal("98000.00"),
        Decimal("150000.50"),
    ]


def test_existing_release_is_refused_unless_replaced(engine, tmp_path):
    load_release(engine, minimal_release().write(tmp_path / "first"))
    before = snapshot(engine)
    corrected = minimal_release()
    corrected.tables["population"][0]["population"] = "5300"
    corrected.manifest["notes"] = "Corrected the North precinct's Black population"
    folder = corrected.write(tmp_path / "corrected")

    with pytest.raises(ReleaseAlreadyLoaded, match="test-2024-12 is already loaded"):
        load_release(engine, folder)
    assert snapshot(engine) == before

    summary = load_release(engine, folder, replace=True)

    assert summary.replaced
    after = snapshot(engine)
    assert len(after["releases"]) == 1 and len(after["population"]) == 3
    population = DATA_TABLES["population"]
    with engine.connect() as conn:
        values = (
            conn.execute(
                sa.select(population.c.population).where(population.c.race_ethnicity == "black")
            )
            .scalars()
            .all()
        )
        notes = conn.execute(sa.select(releases.c.notes)).scalar_one()
    assert values == [5300]
    assert notes == "Corrected the North precinct's Black population"


def _refuse_inserts_into_costs(engine) -> None:
    """A real database error in the middle of a load: costs comes after seven other tables."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_costs BEFORE INSERT ON costs "
                "BEGIN SELECT RAISE(ABORT, 'disk full (simulated)'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'disk full (simulated)'; END $$"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_costs BEFORE INSERT ON costs "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )


def test_a_database_error_mid_load_rolls_everything_back(engine, tmp_path):
    init_db(engine)
    _refuse_inserts_into_costs(engine)
    before = snapshot(engine)

    with pytest.raises(LoadFailed, match="disk full") as failed:
        load_release(engine, minimal_release().write(tmp_path / "release"))

    assert "nothing was changed" in str(failed.value)
    assert snapshot(engine) == before


def test_a_failed_replace_keeps_the_release_it_was_replacing(engine, tmp_path):
    load_release(engine, minimal_release().write(tmp_path / "first"))
    _refuse_inserts_into_costs(engine)
    before = snapshot(engine)

    with pytest.raises(LoadFailed):
        load_release(engine, minimal_release().write(tmp_path / "again"), replace=True)

    assert snapshot(engine) == before


def test_script_tag_precinct_name_is_stored_unchanged(engine, tmp_path):
    release = minimal_release()
    release.tables["precincts"][0]["precinct_name"] = "<script>alert(1)</script>"
    load_release(engine, release.write(tmp_path / "release"))

    precincts = DATA_TABLES["precincts"]
    with engine.connect() as conn:
        name = conn.execute(
            sa.select(precincts.c.precinct_name).where(precincts.c.precinct_id == "north")
        ).scalar_one()
    assert name == "<script>alert(1)</script>"


def test_parquet_and_spreadsheet_csv_load_the_same_rows_as_plain_csv(engine, tmp_path):
    plain = minimal_release("plain")
    parquet = minimal_release("parquet")
    exported = minimal_release("exported")
    load_release(engine, plain.write(tmp_path / "plain"))
    load_release(engine, parquet.write(tmp_path / "parquet", parquet=["referrals", "costs"]))
    load_release(engine, exported.write(tmp_path / "exported", bom=True, crlf=True))

    referrals, costs = DATA_TABLES["referrals"], DATA_TABLES["costs"]

    def rows(release_id):
        with engine.connect() as conn:
            return [
                sorted(
                    tuple(row)[1:]
                    for row in conn.execute(sa.select(t).where(t.c.release_id == release_id))
                )
                for t in (referrals, costs)
            ]

    assert rows("parquet") == rows("plain") == rows("exported")
    assert len(rows("plain")[0]) == 4


def test_releases_are_listed_newest_as_of_first(engine, tmp_path):
    assert list_releases(engine).height == 0  # no tables yet: an empty list, not an error
    load_release(engine, minimal_release("release-2024-12", "2024-12-31").write(tmp_path / "a"))
    older = minimal_release("release-2024-06", "2024-06-30")
    older.tables = {
        k: v for k, v in older.tables.items() if k in ("sites", "precincts", "referrals")
    }
    load_release(engine, older.write(tmp_path / "b"))

    listing = list_releases(engine)

    assert listing["release_id"].to_list() == ["release-2024-12", "release-2024-06"]
    assert listing["as_of"].to_list() == [date(2024, 12, 31), date(2024, 6, 30)]
    # 2 sites + 3 precincts + 4 referrals = 9 rows in the older, required-only release.
    assert listing["rows"].to_list() == [33, 9]
    assert listing["sites"].to_list() == [["sea", "sfe"], ["sea", "sfe"]]
    assert listing["loaded_at"].to_list()[0] <= datetime.now(UTC)
    assert listing["synthetic"].to_list() == [True, True]
