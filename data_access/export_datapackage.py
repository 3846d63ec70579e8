"""datapackage.json: the bundle described for open-data portals and Frictionless tools.

A Data Package v2 descriptor (https://datapackage.org/standard/data-package/,
which frictionless-py 5 reads and validates by default; it only adds to v1, so
v1 readers read it too, ignoring `$schema`, a resource's `type` and `roles`).
One tabular resource per CSV file, each with a Table Schema whose fields are
described as data-dictionary.csv describes them (`export_dictionary.describe`):
the same types and meanings, mapped onto Table Schema types, so a column is
described in one place. Also the licence, the contacts, the release, its as-of
date, the period covered, the sites with their terms, and what produced the files.

Every CSV cell the bundle leaves empty (a withheld or not-computable number, a
`_flag` of a shown value) is the one missing value, "": `missingValues` says so.
A count table's key is its site and level columns (one row per combination, zeros
written as 0); the reference tables have their natural keys; the view tables are
the pages' tables and declare none.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from data_access import __version__
from data_access.audience import Audience
from data_access.contract import CONTRACT_VERSION
from data_access.disclosure import Policy
from data_access.export_dictionary import (
    AVERAGE,
    CODE,
    COUNT,
    DATE,
    DIFFERENCE,
    DOLLARS,
    FLAG_SUFFIX,
    IDENTIFIER,
    MONTHS,
    NOTE,
    NUMBER,
    PERIOD,
    PROPORTION,
    RATIO,
    REASON,
    TEXT,
    TYPES,
    YES_NO,
    describe,
)
from data_access.export_text import (
    SYNTHETIC_LABEL,
    bundle_title,
    introduction,
    privacy_rules,
)
from data_access.licences import SiteTerms
from data_access.periods import QUARTER, Period
from data_access.queries import Release

PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
MISSING = ""  # how the bundle writes every empty cell (csv_safety.safe_csv_bytes)
# Any period code: a quarter (2025-Q4), a year (2025) or a month (2025-03).
PERIOD_PATTERN = "[0-9]{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?"


@dataclass(frozen=True)
class FieldType:
    """How a data-dictionary type is written as a Table Schema field."""

    type: str
    constraints: dict | None = None


FIELD_TYPES: dict[str, FieldType] = {
    IDENTIFIER: FieldType("string"),
    CODE: FieldType("string"),
    TEXT: FieldType("string"),
    PERIOD: FieldType("string", {"pattern": PERIOD_PATTERN}),
    DATE: FieldType("date"),
    COUNT: FieldType("integer", {"minimum": 0}),
    AVERAGE: FieldType("number", {"minimum": 0}),
    DIFFERENCE: FieldType("number"),  # of two counts, or of two averages
    PROPORTION: FieldType("number"),
    RATIO: FieldType("number"),
    DOLLARS: FieldType("number"),
    NUMBER: FieldType("number"),
    MONTHS: FieldType("integer", {"minimum": 0}),
    YES_NO: FieldType("boolean"),
    REASON: FieldType("string"),
    NOTE: FieldType("string"),
}
if set(FIELD_TYPES) != set(TYPES):  # a new dictionary type needs its Table Schema type
    raise RuntimeError(f"FIELD_TYPES does not cover {sorted(set(TYPES) - set(FIELD_TYPES))}")

KEYWORDS = (
    "LEAD",
    "Law Enforcement Assisted Diversion",
    "pre-booking diversion",
    "criminal justice",
    "public safety",
    "aggregate statistics",
)


@dataclass(frozen=True)
class ResourceNote:
    """One CSV file as the descriptor lists it."""

    name: str  # its table name in data-dictionary.csv
    file_name: str
    about: str
    content: bytes
    columns: dict[str, pl.DataType]  # as written, in order
    key: tuple[str, ...] = ()


def generator_version() -> str:
    """The dashboard's version (data_access.__version__, its one source; installed or not)."""
    return __version__


def temporal_coverage(periods: Sequence[Period]) -> str | None:
    """The whole quarters and years published, as an ISO 8601 interval (start/end).

    It starts with the first quarter: a site's launch year is published whole, but
    its data start in the quarter of its launch.
    """
    if not periods:
        return None
    quarters = [p for p in periods if p.grain == QUARTER] or list(periods)
    start = min(f"{p.start_month}-01" for p in quarters)
    end = max(p.end_date for p in periods).isoformat()
    return f"{start}/{end}"


def _schema(resource: ResourceNote, site_keys: dict[str, tuple[str, ...]]) -> dict:
    """The resource's Table Schema: each column as data-dictionary.csv describes it."""
    names = set(resource.columns)
    fields = []
    for column, dtype in resource.columns.items():
        entry, _ = describe(resource.name, column, dtype)
        kind = FIELD_TYPES[entry.type]
        description = entry.meaning
        if f"{column}{FLAG_SUFFIX}" in names:
            description += f" Empty when not shown: `{column}{FLAG_SUFFIX}` says why."
        field: dict = {"name": column, "type": kind.type, "description": description}
        constraints = dict(kind.constraints or {})
        if "pattern" in constraints and entry.also:
            # One group: readers anchor a pattern at both ends ("^(...)$").
            words = "|".join([constraints["pattern"], *map(re.escape, entry.also)])
            constraints["pattern"] = f"({words})"
        if column in resource.key:
            constraints["required"] = True
        if constraints:
            field["constraints"] = constraints
        fields.append(field)
    schema: dict = {"fields": fields, "missingValues": [MISSING]}
    if resource.key:
        schema["primaryKey"] = list(resource.key)
    # Identifiers join the reference tables (docs/open-data.md, "Joining the tables").
    foreign = [
        {"fields": list(key), "reference": {"resource": target, "fields": list(key)}}
        for target, key in site_keys.items()
        if target != resource.name and set(key) <= names
    ]
    if foreign:
        schema["foreignKeys"] = foreign
    return schema


def _licence(terms: SiteTerms) -> dict:
    licence = terms.licence
    return {"name": licence.id, "path": licence.url, "title": licence.title}


def _contributors(release: Release, terms: Sequence[tuple[str, SiteTerms]]) -> list[dict]:
    """The producer of the release, then each contact address with the sites it answers for."""
    people: list[dict] = [{"title": release.produced_by, "roles": ["creator"]}]
    by_address: dict[str, list[str]] = {}
    for name, t in terms:
        if t.contact:
            by_address.setdefault(t.contact, []).append(name)
    for address, names in by_address.items():
        contact = {"title": f"Open-data contact for {', '.join(names)}", "roles": ["contact"]}
        contact["email" if "@" in address and "://" not in address else "path"] = address
        people.append({**contact, "organization": release.produced_by})
    return people


def _description(release: Release, policy: Policy | None, staff: bool) -> str:
    """Markdown: what the package holds and how people are protected (as in the README)."""
    parts = []
    if staff:
        parts.append("**STAFF ONLY: exact counts, not for publication.** No disclosure control.")
    if release.synthetic:
        parts.append(f"**{SYNTHETIC_LABEL}.**")
    parts.append(
        introduction(staff) + f" Release {release.release_id}, data complete through "
        f"{release.as_of.isoformat()}. README.md and data-dictionary.csv explain every file "
        "and column; an empty number is never a zero, and its `_flag` column says why it is "
        "empty."
    )
    if policy is not None:
        rules = "\n".join(f"- {rule}" for rule in privacy_rules(policy))
        parts.append(f"How people are protected (k = {policy.k}):\n\n{rules}")
    return "\n\n".join(parts)


def datapackage_json(
    *,
    name: str,
    release: Release,
    audience: Audience,
    policy: Policy | None,
    sites: pl.DataFrame,
    terms: Sequence[tuple[str, SiteTerms]],
    periods: Sequence[Period],
    resources: Sequence[ResourceNote],
) -> bytes:
    """The descriptor, as UTF-8 JSON.

    `sites`: sites.csv's rows (site_id, site_name, state, launched and the terms);
    `terms`: each site's label and terms in the same order; `periods`: every whole
    quarter and year the bundle publishes. A public bundle has one licence
    (export.py refuses one whose sites differ); a staff export has none, for it is
    not to be published.
    """
    staff = audience is Audience.STAFF
    keys = {r.name: r.key for r in resources}
    site_keys = {t: keys[t] for t in ("sites", "precincts") if keys.get(t)}
    descriptor: dict = {
        "$schema": PROFILE,
        "name": name.lower(),
        "title": bundle_title(release, staff),
        "description": _description(release, policy, staff),
        "keywords": [*KEYWORDS, *(["synthetic data"] if release.synthetic else [])],
    }
    if not staff:
        descriptor["licenses"] = [_licence(terms[0][1])]
    descriptor |= {
        "contributors": _contributors(release, terms),
        "sources": [{"title": f"{release.produced_by}: release {release.release_id}"}],
        # Beyond the standard (Data Package allows more properties): what a reader of the
        # bundle needs to know before using it, under the names its CSV files use.
        "release_id": release.release_id,
        "as_of": release.as_of.isoformat(),
        "synthetic": release.synthetic,
        "audience": audience.value,
        "disclosure_threshold_k": policy.k if policy else None,
        "temporalCoverage": temporal_coverage(periods),
        "sites": sites.to_dicts(),
        "generator": {
            "name": "LEAD public dashboard (python -m data_access export)",
            "version": generator_version(),
            "contract_version": CONTRACT_VERSION,
        },
        "resources": [
            {
                "name": r.name,
                "type": "table",
                "path": r.file_name,
                "description": r.about,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "bytes": len(r.content),
                "hash": f"sha256:{hashlib.sha256(r.content).hexdigest()}",
                "schema": _schema(r, site_keys),
            }
            for r in resources
        ],
    }
    return (json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
