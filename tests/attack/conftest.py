"""The demo releases' public bundles, exported once per test run for the attacker."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def demo_public_bundles(request, tmp_path_factory) -> list[Path]:
    """One public bundle per demo release (oldest first), as `python -m data_access export`.

    data_access is used here only to produce the files; the attacker reads the CSVs.
    """
    from data_access import queries as q
    from data_access.db import make_engine
    from data_access.export import write_bundle

    root = tmp_path_factory.mktemp(f"public-bundles-{request.param}")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("LEAD_DISCLOSURE_K", raising=False)  # the default k the attacker assumes
        engine = make_engine(request.getfixturevalue(f"demo_{request.param}_url"))
        try:
            folders = []
            for release in sorted(q.list_releases(engine), key=lambda r: r.as_of):
                out = root / release.release_id
                write_bundle(engine, out, release_id=release.release_id)
                folders.append(out)
        finally:
            engine.dispose()
    return folders
