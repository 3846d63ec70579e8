"""Protected cubes are audited once per release and kept in the database.

What a user notices: after a server restart (memos cleared) a site's figures
come back without the audit running again; a replaced release never shows the
old figures; a threshold change is a different cube; a damaged or foreign
stored row is never trusted; a read-only database still serves every page.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import polars as pl
import pytest
import sqlalchemy as sa
from release_builder import minimal_release

from data_access import cube_store, queries
from data_access.audience import Audience
from data_access.db import init_db, make_engine
from data_access.disclosure import AuditRecord, StorageError
from data_access.disclosure.storage import MAGIC, from_bytes, to_bytes
from data_access.load import load_release
from data_access.precompute import precompute_release
from data_access.schema import DATA_TABLES, protected_cubes
from data_access.views.base import clear_memos
from data_access.views.caseload_cube import caseload_services
from data_access.views.costs import site_costs
from data_access.views.recidivism import recidivism_cube
from data_access.views.referral_flow import referral_flow

RELEASE = "test-2024-12"


@pytest.fixture
def loaded(database_url, tmp_path, monkeypatch):
    """A fresh database holding the minimal release; memos cleared before and after."""
    monkeypatch.delenv("LEAD_DISCLOSURE_K", raising=False)
    monkeypatch.delenv(cube_store.SWITCH, raising=False)
    engine = make_engine(database_url)
    init_db(engine)
    load_release(engine, minimal_release().write(tmp_path / "release"))
    clear_memos()
    yield engine
    clear_memos()
    engine.dispose()


def _release(engine):
    return queries.get_release(engine, RELEASE)


def _flow(engine, site="sea"):
    release = _release(engine)
    return referral_flow(engine, RELEASE, release.checksum, site, Audience.PUBLIC)


def _frames(value) -> list[pl.DataFrame]:
    """Every frame inside a cube, in a fixed order."""
    if isinstance(value, pl.DataFrame):
        return [value]
    if dataclasses.is_dataclass(value):
        return [
            f for field in dataclasses.fields(value) for f in _frames(getattr(value, field.name))
        ]
    if isinstance(value, dict):
        return [f for key in sorted(value, key=str) for f in _frames(value[key])]
    if isinstance(value, tuple | list):
        return [f for item in value for f in _frames(item)]
    return []


def _same(a, b) -> bool:
    fa, fb = _frames(a), _frames(b)
    if len(fa) != len(fb):
        return False
    return all(x.equals(y) and x.schema == y.schema for x, y in zip(fa, fb, strict=True))


def _referrals_in_store(engine) -> list[dict]:
    return [r for r in cube_store.stored_cubes(engine, RELEASE) if "referral_flow" in r["cube"]]


def test_every_cube_type_survives_storage_unchanged(demo_sqlite_url):
    engine = make_engine(demo_sqlite_url)
    release = queries.get_release(engine, "demo-2025-12")
    key = (release.release_id, release.checksum, "albany")
    cubes = [
        referral_flow(engine, *key, Audience.PUBLIC),
        recidivism_cube(engine, *key, Audience.PUBLIC),
        site_costs(engine, *key, Audience.PUBLIC),
        caseload_services(engine, *key, 2025, Audience.PUBLIC),
        referral_flow(engine, *key, Audience.STAFF),
    ]
    for cube in cubes:
        back = from_bytes(to_bytes(cube))
        assert type(back) is type(cube)
        assert _frames(cube) and _same(back, cube)
        # Words, audit logs and designs come back too, not only the numbers.
        for field in dataclasses.fields(cube):
            if not _frames(getattr(cube, field.name)) and field.name != "_seal":
                assert getattr(back, field.name) == getattr(cube, field.name), field.name
    flow = from_bytes(to_bytes(cubes[0]))
    assert (
        flow.level(("referred", "year")).audit_log == cubes[0].level(("referred", "year")).audit_log
    )
    assert flow.level(("referred", "year")).k == cubes[0].level(("referred", "year")).k == 11
    engine.dispose()


def test_stored_bytes_cannot_name_any_other_class():
    # A pickle would run what its bytes name; stored cubes may only name our own types.
    document = b'{"class":"Path","fields":{},"id":0}'
    hostile = MAGIC + len(document).to_bytes(8, "big") + document
    with pytest.raises(StorageError, match="unknown class 'Path'"):
        from_bytes(hostile)
    with pytest.raises(StorageError, match="unknown header"):
        from_bytes(b"\x80\x04\x95 a pickle")
    good = to_bytes((pl.DataFrame({"a": [1, 2]}),))
    with pytest.raises(StorageError, match="truncated"):
        from_bytes(good[:-10])


def test_audit_logs_survive_storage_whatever_their_cell_values():
    # Logs are stored as one table with JSON cells; a value JSON cannot hold (a date)
    # must still come back as it was, through the general form.
    plain = tuple(
        AuditRecord("v", "persons", (("quarter", "2025-Q1"), ("n", i)), "primary", "fewer")
        for i in range(3)
    )
    dated = (AuditRecord("v", "persons", (("month", dt.date(2025, 1, 1)),), "primary", "x"),)
    shared = (plain, plain, dated)
    back = from_bytes(to_bytes(shared))
    assert back == shared
    assert back[0] is back[1]  # one log referenced twice is stored once


def test_a_restarted_server_reads_the_stored_cube_instead_of_auditing_again(loaded):
    first = _flow(loaded)
    rows = _referrals_in_store(loaded)
    assert len(rows) == 1 and rows[0]["bytes"] > 0 and rows[0]["compute_seconds"] > 0
    # Change the data behind the loader's back (never done in production: a release
    # changes only through `load --replace`). A recomputed cube would show it; the
    # stored one, keyed by the release's checksum, does not.
    referrals = DATA_TABLES["referrals"]
    with loaded.begin() as conn:
        conn.execute(sa.update(referrals).values(referrals=referrals.c.referrals + 50))
    clear_memos()  # what a server restart does to the memory
    again = _flow(loaded)
    assert again is not first and _same(again, first)
    assert len(_referrals_in_store(loaded)) == 1


def test_replacing_a_release_drops_its_stored_cubes(loaded, tmp_path):
    before = _flow(loaded).level(("referred", "year")).frame
    changed = minimal_release()
    # Twenty more people referred and enrolled in Seattle North, January 2024.
    changed.tables["referrals"][0].update(referrals=23, enrolled=22)
    for row in changed.tables["screening"]:
        if (row["precinct_id"], row["outcome"]) == ("north", "enrolled"):
            row["persons"] = 23
    load_release(loaded, changed.write(tmp_path / "changed"), replace=True)
    assert cube_store.stored_cubes(loaded, RELEASE) == []
    after = _flow(loaded).level(("referred", "year")).frame
    assert after["persons"].to_list() != before["persons"].to_list()


def test_another_threshold_is_another_stored_cube(loaded, monkeypatch):
    _flow(loaded)
    monkeypatch.setenv("LEAD_DISCLOSURE_K", "5")
    stricter = _flow(loaded)
    assert stricter.level(("referred", "year")).k == 5
    assert len(_referrals_in_store(loaded)) == 2


def test_an_unreadable_stored_cube_is_recomputed_and_replaced(loaded):
    first = _flow(loaded)
    with loaded.begin() as conn:
        conn.execute(sa.update(protected_cubes).values(payload=b"not a cube"))
    clear_memos()
    again = _flow(loaded)
    assert _same(again, first)
    with loaded.connect() as conn:
        payloads = conn.execute(sa.select(protected_cubes.c.payload)).scalars().all()
    assert all(bytes(p).startswith(MAGIC) for p in payloads)


def test_two_visitors_asking_for_a_cold_cube_share_one_audit(loaded):
    barrier = threading.Barrier(3)
    results = []

    def visit():
        barrier.wait()
        results.append(_flow(loaded))

    threads = [threading.Thread(target=visit) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One audit: every visitor got the very object the first computation made.
    assert len(results) == 3 and all(r is results[0] for r in results)
    assert len(_referrals_in_store(loaded)) == 1


def test_the_store_can_be_switched_off(loaded, monkeypatch):
    monkeypatch.setenv(cube_store.SWITCH, "off")
    _flow(loaded)
    monkeypatch.delenv(cube_store.SWITCH)
    assert _referrals_in_store(loaded) == []


def test_a_read_only_database_still_serves_cubes_and_reads_stored_ones(tmp_path):
    path = tmp_path / "lead.sqlite"
    writer = make_engine(f"sqlite:///{path}")
    init_db(writer)
    load_release(writer, minimal_release().write(tmp_path / "release"))
    read_only = make_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    clear_memos()
    computed = _flow(read_only, "sfe")  # nothing can be written: computed in memory
    assert cube_store.stored_cubes(writer, RELEASE) == []
    # An administrator precomputes with write access; the read-only server then reads.
    precompute_release(writer, RELEASE, ["sfe"])
    clear_memos()
    assert _same(_flow(read_only, "sfe"), computed)
    writer.dispose()
    read_only.dispose()


def test_precompute_fills_the_store_for_every_site(loaded):
    reported = []
    results = precompute_release(loaded, RELEASE, report=reported.append)
    assert (
        sorted(r.site_id for r in results) == ["sea", "sfe"] == sorted(r.site_id for r in reported)
    )
    stored = cube_store.stored_cubes(loaded, RELEASE)
    assert len(stored) == sum(r.cubes for r in results)
    assert {r["cube"] for r in stored} == {
        "referral_flow.referral_flow",
        "recidivism.recidivism_cube",
        "costs.site_costs",
        "caseload_cube.caseload_services",
    }
    with pytest.raises(LookupError, match="no site nowhere"):
        precompute_release(loaded, RELEASE, ["nowhere"])
