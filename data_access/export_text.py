"""The words of the open-data bundle: its README and the disclosure rules in plain language.

The rules are written from the policy's thresholds (k comes from the Protected
tables that were exported), so the README, the methods page and the numbers
cannot disagree. The methods page shows the same `privacy_rules` sentences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from data_access.disclosure import Policy, policy_from_environment
from data_access.licences import SiteTerms
from data_access.metrics.registry import MetricDefinition, list_metrics
from data_access.queries import Release

STAFF_LABEL = "STAFF ONLY — exact counts, not for publication"
SYNTHETIC_LABEL = "Synthetic demonstration data: not real LEAD results"


def privacy_rules(policy: Policy) -> list[str]:
    """The disclosure-control rules, one plain sentence (or two) each."""
    k, small = policy.k, policy.small_reason
    return [
        f"A count of 1 to {k - 1} people is never published: it is shown as "
        f'"{small}". A true zero is shown as 0.',
        "Where a hidden count could be worked out by subtracting published numbers from a "
        "published total (precincts against the site, quarters against the year, race groups "
        "against everyone), further counts are hidden as well, marked "
        f'"{policy.complementary_reason}". A mathematical audit then checks that every '
        "hidden count could still be any of at least two whole numbers.",
        "A share, rate, ratio, interval or cost is hidden when it is built on a hidden count "
        f'("{policy.derived_withheld_reason}"), when it is about 1 to {k - 1} people, or when '
        f"1 to {k - 1} people of the group are outside it; and no rate or share is published "
        f'for fewer than {policy.min_denominator} people ("{policy.small_denominator_reason}").',
        f"An estimate whose numerator is {k} to {policy.unstable_below - 1} is published but "
        f'marked "unstable": a few people more or less would change it a lot.',
        "Figures are published by quarter and year, never by month, and precinct-by-race "
        "figures by year only; race groups too small for a table may be combined into "
        '"Other races (combined)", and the table\'s note says which.',
        f'Where several "{small}" cells would together reveal each other\'s exact values, '
        f'the zeros among them are hidden too, marked "{policy.small_or_zero_reason}".',
    ]


@dataclass(frozen=True)
class FileNote:
    """One file of the bundle as the README lists it."""

    name: str
    rows: int
    about: str


def _definition(d: MetricDefinition) -> list[str]:
    lines = [
        f"### {d.name} (`{d.id}`)",
        "",
        d.description,
        "",
        f"- Numerator: {d.numerator}",
        f"- Denominator: {d.denominator}",
        f"- Unit: {d.unit}",
        f"- Method: {d.method}",
        f"- Interval: {d.interval}",
        f"- Reliability: {d.reliability}",
    ]
    lines += [f"- Caveat: {c}" for c in d.caveats]
    lines += [f"- Source: {s}" for s in d.sources]
    return [*lines, ""]


def bundle_title(release: Release, staff: bool) -> str:
    """The bundle's title: README's first line and datapackage.json's `title`."""
    title = f"LEAD open data: release {release.release_id}"
    return title + (f" ({STAFF_LABEL})" if staff else "")


def introduction(staff: bool) -> str:
    """What the files are, in one sentence (README and datapackage.json's description)."""
    return (
        "These files hold the figures the LEAD (Law Enforcement Assisted Diversion) dashboard "
        "shows" + (" to program staff" if staff else " the public") + ", exactly as it shows "
        "them, for anyone who wants to analyse, chart or check them."
    )


def _one_or_per_site(values: Sequence[tuple[str, str]]) -> list[str]:
    """One value for every site, or one line per site ("Seattle (sea): ...")."""
    if len({value for _, value in values}) == 1:
        return [values[0][1]]
    return [f"{site}: {value}" for site, value in values]


def terms_lines(release: Release, terms: Sequence[tuple[str, SiteTerms]], staff: bool) -> list[str]:
    """README's "Licence, contact and privacy" section: what a reuser may do, whom to ask."""
    lines = ["## Licence, contact and privacy", ""]
    if staff:
        lines += [
            "- Licence: none. A staff export is not open data and must not be published; "
            "the public bundle states the licence the site publishes under.",
        ]
    else:
        # A bundle mixes its sites' rows in each file, so it has one licence (export.py).
        licence = terms[0][1].licence
        credit = (
            f" Credit {release.produced_by}, LEAD open data release {release.release_id}."
            if licence.attribution
            else ""
        )
        lines += [
            f"- Licence: {licence.title} (`{licence.id}`), {licence.url}. You may copy, share "
            f"and adapt these files under its terms.{credit}",
        ]
    no_contact = f"none given with this release (it was produced by {release.produced_by})"
    no_policy = (
        "no web address was given with this release; the dashboard's policy is "
        "docs/privacy.md in its source code"
    )
    contacts = [(site, t.contact or no_contact) for site, t in terms]
    policies = [(site, t.privacy_policy_url or no_policy) for site, t in terms]
    for label, values in (("Contact", contacts), ("Privacy policy", policies)):
        shown = _one_or_per_site(values)
        if len(shown) == 1:
            lines.append(f"- {label}: {shown[0]}")
        else:
            lines += [f"- {label}:", *[f"  - {line}" for line in shown]]
    lines += [
        "- `datapackage.json` describes every CSV file (its columns, their types and meanings, "
        "its key), the licence and the contact as a Frictionless Data Package (v2), for open-"
        "data portals and the tools that read one.",
        "",
    ]
    return lines


def readme(
    *,
    release: Release,
    site_names: Sequence[str],
    policy: Policy | None,
    files: Sequence[FileNote],
    terms: Sequence[tuple[str, SiteTerms]],
    notes: Sequence[str] = (),
) -> str:
    """README.md of the bundle. `policy` is None for a staff (exact) export.

    `terms`: each site's label ("Seattle (seattle)") and open-data terms, in site order.
    """
    staff = policy is None
    # A staff export states the rules the public bundle is protected with.
    shown = policy or policy_from_environment()
    lines = [f"# {bundle_title(release, staff)}", ""]
    if staff:
        lines += [
            f"**{STAFF_LABEL}.** These files hold exact aggregates: no disclosure control was "
            "applied, so small counts that could identify people are present. Keep them inside "
            "the program; publish the public bundle instead.",
            "",
        ]
    if release.synthetic:
        lines += [
            f"**{SYNTHETIC_LABEL}.** Every number here was generated to look like a LEAD "
            "program's data; none describes real people.",
            "",
        ]
    lines += [
        introduction(staff),
        "",
        f"- Release: `{release.release_id}`",
        f"- Data complete through (as_of): {release.as_of.isoformat()}",
        f"- Sites: {', '.join(site_names)}",
        f"- Produced by: {release.produced_by}",
        f"- Synthetic demonstration data: {'yes' if release.synthetic else 'no'}",
        "",
    ]
    if release.notes:
        lines += ["Release notes (what changed, corrections):", "", f"> {release.notes}", ""]
    lines += terms_lines(release, terms, staff)
    lines += [
        "## How to read the files",
        "",
        "- Every file is a CSV in UTF-8 with a header row. Each column is described in "
        "`data-dictionary.csv` (table, column, type, meaning); codes are explained in "
        "`codes.csv`; metric definitions are below and in `metric-definitions.csv`.",
        "- Files named `count-...` hold counts of people at one level of detail, for every "
        "quarter or year (`count-referral_flow-by-pathway-quarter` is people by pathway and "
        "quarter). Files named `view-...` hold the tables behind the dashboard's charts: "
        "`site_id` and `selected_period` say which site and period the dashboard was set to. "
        "A view table that is the same whatever the period has no `selected_period`.",
        "- Views are exported for whole sites; the figures for each precinct are in the "
        "`count-...` files that have a `precinct_id` column.",
        "- An empty number is never a zero: a zero is written 0. Every number column has a "
        "companion column `<column>_flag` that says why the number is empty (for example "
        f'"{shown.small_reason}", "{shown.complementary_reason}", '
        f'"{shown.derived_withheld_reason}", '
        '"not available"); it is empty when the number is shown. A `<column>_reliability` '
        'column marks shown estimates to read with care ("unstable: ...").',
        "- `SHA256SUMS` lists the SHA-256 fingerprint of every other file of the bundle "
        "(`sha256sum -c SHA256SUMS` checks a copy); compare it with the one the program "
        "publishes to know that you hold the files it released.",
        "- Shares are fractions: 0.25 means 25%. Intervals are 95% intervals.",
        "- Cells that begin with `=`, `+`, `-` or `@` start with an apostrophe so that a "
        "spreadsheet shows them as text instead of running them as a formula.",
        "",
        "## How people are protected",
        "",
    ]
    if staff:
        lines += [
            "This is a staff export: the rules below were **not** applied. They are applied "
            "to the public bundle and the public dashboard.",
            "",
        ]
    lines += [f"- {rule}" for rule in privacy_rules(shown)]
    lines += [
        "",
        f"Threshold used: k = {policy.k} (counts from 1 to {policy.k - 1} are withheld)."
        if policy
        else "Threshold: none (exact counts).",
        "The full policy, its sources and the risks it accepts: docs/privacy.md in the "
        "dashboard's source code.",
        "",
    ]
    if notes:
        lines += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    lines += ["## Files", "", "| file | rows | what it holds |", "|---|---|---|"]
    lines += [f"| `{f.name}` | {f.rows:,} | {f.about} |" for f in files]
    lines += ["", "## Metric definitions", ""]
    for definition in list_metrics():
        lines += _definition(definition)
    return "\n".join(lines).rstrip() + "\n"
