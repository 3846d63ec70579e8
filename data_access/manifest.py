"""Check release.json: the release's name, its as-of date, the sites it covers and their terms."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from datetime import date

from data_access.contract import MANIFEST_FIELDS
from data_access.licences import (
    LICENCE,
    LICENCES,
    OPEN_DATA_FIELD,
    PRIVACY_POLICY_URL,
    TERM_KEYS,
    contact_problem,
    web_address_problem,
)
from data_access.problems import Problem, ProblemCollector, quoted
from data_access.release_files import MANIFEST_FILE

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SITE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_SLUG_LENGTH = 64
# release.json is shallow (its deepest value, open_data's terms, is an object in an object in
# the object); Python's
# parser recurses once per level and ends in a RecursionError near 1,000 levels.
MAX_NESTING = 20
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKET = re.compile(r"[\[\]{}]")


@dataclass(frozen=True)
class Manifest:
    """release.json as given (when it is a JSON object) and the fields that checked out."""

    data: dict | None
    release_id: str | None
    as_of: date | None
    sites: tuple[str, ...] | None
    sites_line: int | None = None  # where "sites" is written, for messages about it


def check_manifest(text: str | None, problems: ProblemCollector) -> Manifest:
    """Check release.json's text, recording each problem; fields that fail are None."""
    if text is None:
        fields = ", ".join(MANIFEST_FIELDS)
        problems.add(
            "manifest",
            Problem(
                MANIFEST_FILE,
                None,
                None,
                None,
                f"is missing; every release needs one, with the fields {fields}",
            ),
        )
        return Manifest(None, None, None, None)
    too_deep = _line_too_deep(text)
    if too_deep is not None:
        problems.add(
            "manifest",
            Problem(
                MANIFEST_FILE,
                too_deep,
                None,
                None,
                f"nests lists or objects more than {MAX_NESTING} levels deep; release.json is "
                "one object whose values are text, dates, true/false, a list of sites and "
                "the sites' open-data terms",
            ),
        )
        return Manifest(None, None, None, None)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.add(
            "manifest",
            Problem(
                MANIFEST_FILE,
                exc.lineno,
                None,
                None,
                f"is not valid JSON: {exc.msg} (character {exc.colno})",
            ),
        )
        return Manifest(None, None, None, None)
    if not isinstance(data, dict):
        problems.add(
            "manifest",
            Problem(
                MANIFEST_FILE,
                1,
                None,
                None,
                "must hold one JSON object, {...}, with the fields " + ", ".join(MANIFEST_FIELDS),
            ),
        )
        return Manifest(None, None, None, None)

    def report(name: str, value: object, message: str) -> None:
        shown = None if value is None else str(value)
        problems.add(
            "manifest", Problem(MANIFEST_FILE, line_of_field(text, name), name, shown, message)
        )

    for name, (required, description) in MANIFEST_FIELDS.items():
        if required and name not in data:
            report(name, None, f"the field {name!r} is missing: {description}")
    for name in data:
        if name not in MANIFEST_FIELDS:
            close = difflib.get_close_matches(name, list(MANIFEST_FIELDS), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            report(
                name,
                None,
                f"{name!r} is not a field of release.json; {hint}"
                f"the fields are {', '.join(MANIFEST_FIELDS)}",
            )

    release_id = _release_id(data.get("release_id"), "release_id" in data, report)
    as_of = _as_of(data.get("as_of"), "as_of" in data, report)
    sites = _sites(data.get("sites"), "sites" in data, report)
    for name in ("produced_by", "notes"):
        value = data.get(name)
        if name in data and not isinstance(value, str):
            report(name, value, f"{name} must be text in quotes, not {_json_type(value)}")
    if "produced_by" in data and isinstance(data["produced_by"], str):
        if not data["produced_by"].strip():
            report("produced_by", "", "produced_by is empty; name the office that produced it")
    if "synthetic" in data and not isinstance(data["synthetic"], bool):
        report(
            "synthetic",
            data["synthetic"],
            "synthetic must be true or false (without quotes), "
            f"not {_json_type(data['synthetic'])}",
        )
    if OPEN_DATA_FIELD in data:
        _open_data(data[OPEN_DATA_FIELD], sites, text, problems)
    return Manifest(data, release_id, as_of, sites, line_of_field(text, "sites"))


def _open_data(value: object, sites: tuple[str, ...] | None, text: str, problems) -> None:
    """Check `open_data`: per site of the release, an object of known terms with valid values."""

    def report(line: int | None, column: str, shown: object, message: str) -> None:
        shown = None if shown is None else str(shown)
        problems.add("manifest", Problem(MANIFEST_FILE, line, column, shown, message))

    start = line_of_field(text, OPEN_DATA_FIELD)
    example = '{"seattle": {"licence": "CC-BY-4.0", "contact": "opendata@seattle.example"}}'
    if not isinstance(value, dict):
        message = f"open_data must be an object naming sites, e.g. {example}, "
        report(start, OPEN_DATA_FIELD, None, message + f"not {_json_type(value)}")
        return
    for site, terms in value.items():
        site_line = line_of_field(text, site, after=(start or 1) - 1) or start
        where = f"{OPEN_DATA_FIELD}.{site}"
        if sites is not None and site not in sites:
            message = (
                f"open_data names {quoted(site)}, which is not one of the release's sites "
                f"({', '.join(sites)})"
            )
            report(site_line, where, site, message)
        if not isinstance(terms, dict):
            message = f"the terms of {quoted(site)} must be an object, e.g. {example}, "
            report(site_line, where, None, message + f"not {_json_type(terms)}")
            continue
        for key, given in terms.items():
            line = line_of_field(text, key, after=(site_line or 1) - 1) or site_line
            problem = _term_problem(key, given)
            if problem:
                report(line, f"{where}.{key}", None if key not in TERM_KEYS else given, problem)


def _term_problem(key: str, given: object) -> str | None:
    """What is wrong with one term of a site's open_data, else None."""
    licences = ", ".join(LICENCES)
    if key not in TERM_KEYS:
        close = difflib.get_close_matches(key, list(TERM_KEYS), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"{key!r} is not a term of open_data; {hint}the terms are {', '.join(TERM_KEYS)}"
    if not isinstance(given, str):
        expected = TERM_KEYS[key].format(licences=licences)
        return f"{key} must be text in quotes, not {_json_type(given)}: {expected}"
    if key == LICENCE:
        return None if given in LICENCES else _licence_problem(given, licences)
    problem = web_address_problem(given) if key == PRIVACY_POLICY_URL else contact_problem(given)
    return problem and f"{quoted(given)} {problem}"


def _licence_problem(given: str, licences: str) -> str:
    close = difflib.get_close_matches(given, list(LICENCES), n=1, cutoff=0.6)
    upper = {identifier.upper(): identifier for identifier in LICENCES}
    close = [upper[given.upper()]] if given.upper() in upper else close
    hint = f"did you mean {close[0]!r}? " if close else ""
    return (
        f"{quoted(given)} is not a licence the bundle can state; {hint}use one of {licences} "
        "(leave licence out for CC-BY-4.0)"
    )


def _release_id(value: object, present: bool, report) -> str | None:
    if not present:
        return None
    if not isinstance(value, str):
        report("release_id", value, f"release_id must be text, not {_json_type(value)}")
        return None
    if not SLUG.match(value) or len(value) > MAX_SLUG_LENGTH:
        report(
            "release_id",
            value,
            f"{quoted(value)} is not a slug: use lowercase letters, digits and single '-' "
            f"between them, at most {MAX_SLUG_LENGTH} characters (e.g. seattle-2025-q4)",
        )
        return None
    return value


def _as_of(value: object, present: bool, report) -> date | None:
    if not present:
        return None
    if isinstance(value, str) and ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    report(
        "as_of",
        value,
        f"{quoted(value)} is not a date written YYYY-MM-DD (e.g. 2025-12-31); "
        "as_of is the last day the data are complete through",
    )
    return None


def _sites(value: object, present: bool, report) -> tuple[str, ...] | None:
    if not present:
        return None
    if not isinstance(value, list) or not value:
        report(
            "sites",
            value,
            'sites must be a non-empty list of site_id in quotes, e.g. ["seattle", "santa-fe"]',
        )
        return None
    valid: list[str] = []
    for item in value:
        if not isinstance(item, str) or not SITE_ID.match(item):
            report(
                "sites",
                item,
                f"{quoted(item)} is not a site_id: use letters, digits, '_' and '-' only",
            )
        elif item in valid:
            report("sites", item, f"{quoted(item)} is listed twice")
        else:
            valid.append(item)
    return tuple(valid)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "text"


def _line_too_deep(text: str) -> int | None:
    """The line where `text` first opens more than MAX_NESTING lists or objects, else None.

    Counted without parsing (brackets inside strings do not count), so no depth
    can exhaust the parser's recursion.
    """
    # Strings emptied (their newlines kept, so lines still count right) before counting.
    bare = _JSON_STRING.sub(lambda m: '"' + "\n" * m.group().count("\n") + '"', text)
    depth = 0
    for match in _BRACKET.finditer(bare):
        depth += 1 if match.group() in "[{" else -1
        if depth > MAX_NESTING:
            return bare.count("\n", 0, match.start()) + 1
    return None


def line_of_field(text: str, name: str, after: int | None = None) -> int | None:
    """The first line (after line `after`, if given) where the field `name` is written."""
    # Pointing at the line lets an analyst find the field in a long file.
    pattern = re.compile(r'"' + re.escape(name) + r'"\s*:')
    for number, line in enumerate(text.splitlines(), start=1):
        if (after is None or number > after) and pattern.search(line):
            return number
    return None
