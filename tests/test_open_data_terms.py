"""Each site's open-data terms (release.json's `open_data`) as loaded, replaced and read back.

What the bundle then states is tested in tests/test_export.py; what is refused at the
edge, in tests/bad_inputs.py (validation and load, both databases).
"""

from __future__ import annotations

import sqlalchemy as sa
from release_builder import minimal_release

from data_access import queries as q
from data_access.db import make_engine
from data_access.load import load_release

TERMS = {"sea": {"licence": "CC0-1.0", "contact": "opendata@sea.example.org"}}


def _terms(engine) -> dict[str, tuple]:
    found = q.open_data_terms_of(engine, "test-2024-12", ["sea", "sfe"])
    return {s: (t.licence.id, t.contact, t.privacy_policy_url) for s, t in found.items()}


def test_terms_are_loaded_per_site_and_replaced_with_their_release(tmp_path, database_url):
    engine = make_engine(database_url)
    release = minimal_release()
    release.manifest["open_data"] = TERMS
    load_release(engine, release.write(tmp_path / "first"))
    # A site the release names no terms for publishes under the default licence.
    assert _terms(engine) == {
        "sea": ("CC0-1.0", "opendata@sea.example.org", None),
        "sfe": ("CC-BY-4.0", None, None),
    }
    corrected = minimal_release()
    corrected.manifest["open_data"] = {"sfe": {"privacy_policy_url": "https://sfe.example.org/p"}}
    load_release(engine, corrected.write(tmp_path / "second"), replace=True)
    # Nothing of the replaced release's terms is left behind.
    assert _terms(engine) == {
        "sea": ("CC-BY-4.0", None, None),
        "sfe": ("CC-BY-4.0", None, "https://sfe.example.org/p"),
    }
    engine.dispose()


def test_a_database_made_before_the_terms_table_reads_the_default_licence(tmp_path, sqlite_url):
    engine = make_engine(sqlite_url)
    release = minimal_release()
    release.manifest["open_data"] = TERMS
    load_release(engine, release.write(tmp_path / "release"))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE open_data_terms"))
    assert _terms(engine) == {"sea": ("CC-BY-4.0", None, None), "sfe": ("CC-BY-4.0", None, None)}
    engine.dispose()
