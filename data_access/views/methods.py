"""Views that hold words about the data, not numbers about people.

`release_history`: every loaded release with its as-of date and notes, the
corrections log of the methods page and the open-data bundle. `places`: the
release's sites and precincts with their names, which the open-data bundle
ships beside the figures so a reader can put names to identifiers, and each
site's open-data terms (licence, contact, privacy policy address).

Both go through `publish_reference`, which refuses any numeric column: row
counts per table and dates are turned into text first. Row counts are not
counts of people (a row is one combination of month, precinct, race and so on,
and zero rows are allowed), so they may be shown.
"""

from __future__ import annotations

import json

import polars as pl
import sqlalchemy as sa

from data_access import queries as q
from data_access.audience import Audience
from data_access.disclosure import policy_from_environment, publish_reference
from data_access.licences import TERM_KEYS
from data_access.views.base import Selection, ViewResult, view, words

TERM_COLUMNS = tuple(TERM_KEYS)  # licence, contact, privacy_policy_url
RELEASE_COLUMNS = (
    "release_id",
    "as_of",
    "loaded_at",
    "synthetic",
    "sites",
    "rows_per_table",
    "produced_by",
    "notes",
    "contract_version",
    "checksum",
)


def _rows_in_words(row_counts: str) -> str:
    """'{"referrals": 1200, "sites": 3}' -> "referrals 1,200; sites 3" (text, not numbers)."""
    counts = json.loads(row_counts) if row_counts else {}
    return "; ".join(f"{table} {rows:,}" for table, rows in sorted(counts.items()))


def release_table(history: pl.DataFrame) -> pl.DataFrame:
    """The release list as text only: one row per release, newest as_of first."""
    rows = [
        {
            "release_id": r["release_id"],
            "as_of": r["as_of"].isoformat(),
            "loaded_at": r["loaded_at"].strftime("%Y-%m-%d %H:%M UTC"),
            "synthetic": "yes" if r["synthetic"] else "no",
            "sites": ", ".join(r["sites"]),
            "rows_per_table": _rows_in_words(r["row_counts"]),
            "produced_by": r["produced_by"] or "",
            "notes": r["notes"] or "",
            "contract_version": r["contract_version"] or "",
            "checksum": r["checksum"] or "",
        }
        for r in history.iter_rows(named=True)
    ]
    return pl.DataFrame(rows, schema={c: pl.String for c in RELEASE_COLUMNS}, orient="row")


@view("release_history")
def release_history_view(engine: sa.Engine, selection: Selection, audience: Audience) -> ViewResult:
    """Every loaded release (not only the selected one): the corrections log."""
    history = q.release_history(engine)
    # The k recorded here is what the methods page states as the public threshold.
    table = publish_reference(
        release_table(history),
        view="release_history.releases",
        audience=audience,
        policy=policy_from_environment(),
    )
    selected = history.filter(pl.col("release_id") == selection.release_id)
    facts = words(
        {
            "selected_release": selection.release_id,
            "latest_release": history["release_id"][0] if history.height else "",
            "selected_as_of": selected["as_of"][0].isoformat() if selected.height else "",
            "selected_synthetic": (
                ("yes" if selected["synthetic"][0] else "no") if selected.height else ""
            ),
        }
    )
    return ViewResult("release_history", {"releases": table}, facts)


@view("places")
def places_view(engine: sa.Engine, selection: Selection, audience: Audience) -> ViewResult:
    """The release's sites and precincts, with the names the public knows them by."""
    sites = q.sites(engine, selection.release_id)
    precincts = q.precincts(engine, selection.release_id)
    policy = policy_from_environment()
    # What each site's open data may be reused under and whom to ask: the bundle states it.
    terms = q.open_data_terms_of(engine, selection.release_id, sites["site_id"].to_list())
    stated = pl.DataFrame(
        [
            {
                "site_id": site,
                "licence": t.licence.id,
                "contact": t.contact,  # None (an empty cell) when none was given
                "privacy_policy_url": t.privacy_policy_url,
            }
            for site, t in terms.items()
        ],
        schema={c: pl.String for c in ("site_id", *TERM_COLUMNS)},
    )
    sites = sites.join(stated, on="site_id", how="left", maintain_order="left")
    tables = {
        "sites": publish_reference(
            sites.select(
                "site_id",
                "site_name",
                "state",
                pl.col("launched").cast(pl.String),
                *TERM_COLUMNS,
            ),
            view="places.sites",
            audience=audience,
            policy=policy,
        ),
        "precincts": publish_reference(
            precincts.select("site_id", "precinct_id", "precinct_name"),
            view="places.precincts",
            audience=audience,
            policy=policy,
        ),
    }
    return ViewResult("places", tables)
