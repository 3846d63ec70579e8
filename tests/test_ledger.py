"""The publication ledger: what the public was shown stays recorded, and releases go forward.

Real databases of each kind, small releases made with tests/release_builder.py.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from data_access import cube_store, ledger
from data_access.audience import Audience
from data_access.db import make_engine
from data_access.load import ReleaseOutOfOrder, load_release
from data_access.precompute import precompute_release
from data_access.queries import get_release
from data_access.views.base import clear_memos
from data_access.views.referral_flow import referral_flow
from tests.release_builder import minimal_release


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    clear_memos()
    yield engine
    clear_memos()
    engine.dispose()


def _load(engine, tmp_path, release_id: str, as_of: str, *, replace: bool = False):
    release = minimal_release(release_id, as_of)
    return load_release(engine, release.write(tmp_path / release_id), replace=replace)


def _snapshot(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text("SELECT * FROM releases ORDER BY 1"))]


def test_publishing_a_newer_release_records_the_older_first(engine, tmp_path):
    _load(engine, tmp_path, "test-2024-06", "2024-06-30")
    _load(engine, tmp_path, "test-2024-12", "2024-12-31")
    precompute_release(engine)  # the newest; the older is published first, by the cubes
    published = [(e["release_id"], e["cube"]) for e in ledger.entries(engine)]
    flows = [r for r, cube in published if cube == "referral_flow.referral_flow"]
    assert flows[0] == "test-2024-06" and "test-2024-12" in flows
    first_older = published.index(("test-2024-06", "referral_flow.referral_flow"))
    first_newer = published.index(("test-2024-12", "referral_flow.referral_flow"))
    assert first_older < first_newer


def test_the_ledger_outlives_the_cube_store(engine, tmp_path):
    _load(engine, tmp_path, "test-2024-12", "2024-12-31")
    release = get_release(engine)
    site = release.sites[0]
    referral_flow(engine, release.release_id, release.checksum, site, Audience.PUBLIC)
    before = ledger.entries(engine, release.release_id)
    with engine.begin() as conn:
        cube_store.forget_release(conn, release.release_id)
    clear_memos()
    # Served again (recomputed): the same cells, so no second entry.
    referral_flow(engine, release.release_id, release.checksum, site, Audience.PUBLIC)
    assert ledger.entries(engine, release.release_id) == before
    # Staff figures are exact and never public: nothing recorded.
    referral_flow(engine, release.release_id, release.checksum, site, Audience.STAFF)
    assert ledger.entries(engine, release.release_id) == before


def test_an_older_release_after_a_published_newer_one_is_refused(engine, tmp_path):
    _load(engine, tmp_path, "test-2024-12", "2024-12-31")
    precompute_release(engine)
    before = _snapshot(engine)
    with pytest.raises(ReleaseOutOfOrder, match="published in date order"):
        _load(engine, tmp_path, "test-2024-06", "2024-06-30")
    assert _snapshot(engine) == before


def test_replacing_a_release_once_a_later_one_is_public_is_refused(engine, tmp_path):
    _load(engine, tmp_path, "test-2024-06", "2024-06-30")
    _load(engine, tmp_path, "test-2024-12", "2024-12-31")
    precompute_release(engine)
    before = _snapshot(engine)
    with pytest.raises(ReleaseOutOfOrder, match="test-2024-12"):
        _load(engine, tmp_path, "test-2024-06", "2024-06-30", replace=True)
    assert _snapshot(engine) == before
    # The newest may still be replaced: it is protected against its own earlier publication.
    _load(engine, tmp_path, "test-2024-12", "2024-12-31", replace=True)
