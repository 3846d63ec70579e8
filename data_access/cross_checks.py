"""Checks across rows and across files of a release, done with polars joins and group-bys.

Each check takes the typed frames from validation (a value that failed its
own check is null there and is left out here) and reports rows that break a
rule, naming both files and their lines when two files disagree.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from data_access.contract import TABLES_BY_NAME, Kind
from data_access.manifest import Manifest
from data_access.problems import Problem, ProblemCollector, quoted
from data_access.release_files import LINE, MANIFEST_FILE

MONTH_KEY = ["site_id", "precinct_id", "month"]
RACE_MONTH_KEY = [*MONTH_KEY, "race_ethnicity"]
COHORT_GROUP = ["site_id", "cohort", "group", "race_ethnicity"]


def check_consistency(
    frames: dict[str, pl.DataFrame],
    files: dict[str, str],
    manifest: Manifest,
    problems: ProblemCollector,
    *,
    incomplete: set[str] = frozenset(),
) -> None:
    """Run every cross-row and cross-file check the available frames allow.

    A table in `incomplete` lost rows to reading problems (reported already);
    checks that compare other rows against it are skipped rather than report
    differences caused by the missing rows.
    """
    frames = dict(frames)
    checks = _Checks(frames, files, manifest, problems, incomplete)
    checks.manifest_sites()
    for name in frames:
        checks.site_known(name)
        checks.precinct_known(name)
        checks.dates(name)
    checks.enrolled_within_referrals()
    checks.screening_matches_referrals()
    checks.services_within_caseload()
    checks.recidivism()


def _has(frame: pl.DataFrame | None, *columns: str) -> bool:
    return frame is not None and all(c in frame.columns for c in columns)


def _complete(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    return frame.filter(pl.all_horizontal(pl.col(c).is_not_null() for c in columns))


def _month_index(column: str) -> pl.Expr:
    # Months as a single integer make "before" and "after" plain comparisons.
    text = pl.col(column)
    return text.str.slice(0, 4).cast(pl.Int32) * 12 + text.str.slice(5, 2).cast(pl.Int32) - 1


def _cohort_start_index(column: str) -> pl.Expr:
    text = pl.col(column)
    return text.str.slice(0, 4).cast(pl.Int32) * 12 + (text.str.slice(6, 1).cast(pl.Int32) - 1) * 3


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def people(count: int) -> str:
    return f"{count:,} " + ("person" if count == 1 else "people")


def lines_text(lines: list[int], shown: int = 3) -> str:
    """'line 3', 'lines 3, 5 and 8' or 'lines 3, 5, 8 and 12 more'."""
    lines = sorted(lines)
    if len(lines) == 1:
        return f"line {lines[0]}"
    if len(lines) <= shown + 1:
        return "lines " + ", ".join(map(str, lines[:-1])) + f" and {lines[-1]}"
    return "lines " + ", ".join(map(str, lines[:shown])) + f" and {len(lines) - shown} more"


class _Checks:
    def __init__(self, frames, files, manifest: Manifest, problems: ProblemCollector, incomplete):
        self.frames: dict[str, pl.DataFrame] = frames
        self.incomplete: set[str] = set(incomplete)
        self.files: dict[str, str] = files
        self.manifest = manifest
        self.problems = problems
        sites = frames.get("sites")
        self.known_sites: set[str] | None = (
            set(sites["site_id"].drop_nulls().to_list())
            if _has(sites, "site_id") and "sites" not in self.incomplete
            else None
        )

    def file(self, name: str) -> str:
        return self.files.get(name, f"{name}.csv")

    def report(
        self,
        rule: str,
        table: str,
        offenders: pl.DataFrame,
        make: Callable[[dict], Problem],
    ) -> None:
        offenders = (
            offenders.sort(LINE, nulls_last=True) if LINE in offenders.columns else offenders
        )
        self.problems.add_many(
            rule,
            self.file(table),
            offenders.height,
            offenders.head(self.problems.limit).iter_rows(named=True),
            make,
        )

    # -- sites and precincts ------------------------------------------------------------

    def manifest_sites(self) -> None:
        listed = self.manifest.sites
        sites = self.frames.get("sites")
        if listed is None or self.known_sites is None:
            return
        sites_file = self.file("sites")
        extra = _complete(sites, ["site_id"]).filter(~pl.col("site_id").is_in(list(listed)))
        self.report(
            "site-not-in-manifest",
            "sites",
            extra,
            lambda row: Problem(
                sites_file,
                row[LINE],
                "site_id",
                row["site_id"],
                f"{quoted(row['site_id'])} is not listed in {MANIFEST_FILE}'s sites "
                f"({', '.join(listed)}); list every site of the release in both places",
            ),
        )
        line = self.manifest.sites_line
        for site in listed:
            if site not in self.known_sites:
                self.problems.add(
                    "manifest-site-unknown",
                    Problem(
                        MANIFEST_FILE,
                        line,
                        "sites",
                        site,
                        f"{quoted(site)} is listed in sites but has no row in {sites_file}",
                    ),
                )

    def site_known(self, name: str) -> None:
        frame = self.frames[name]
        if name == "sites" or self.known_sites is None or not _has(frame, "site_id"):
            return
        sites_file = self.file("sites")
        unknown = _complete(frame, ["site_id"]).filter(
            ~pl.col("site_id").is_in(sorted(self.known_sites))
        )
        self.report(
            "site-unknown",
            name,
            unknown,
            lambda row: Problem(
                self.file(name),
                row[LINE],
                "site_id",
                row["site_id"],
                f"{quoted(row['site_id'])} is not a site declared in {sites_file}",
            ),
        )

    def precinct_known(self, name: str) -> None:
        frame = self.frames[name]
        precincts = self.frames.get("precincts")
        if (
            name == "precincts"
            or self.known_sites is None
            or not _has(frame, "site_id", "precinct_id")
            or not _has(precincts, "site_id", "precinct_id")
            or "precincts" in self.incomplete
        ):
            return
        pairs = _complete(precincts, ["site_id", "precinct_id"]).select("site_id", "precinct_id")
        unknown = (
            _complete(frame, ["site_id", "precinct_id"])
            .filter(pl.col("site_id").is_in(sorted(self.known_sites)))
            .join(pairs.unique(), on=["site_id", "precinct_id"], how="anti")
        )
        precincts_file = self.file("precincts")
        self.report(
            "precinct-unknown",
            name,
            unknown,
            lambda row: Problem(
                self.file(name),
                row[LINE],
                "precinct_id",
                row["precinct_id"],
                f"{quoted(row['precinct_id'])} is not a precinct of site "
                f"{quoted(row['site_id'])} in {precincts_file}",
            ),
        )

    # -- dates ----------------------------------------------------------------------------

    def _launches(self) -> pl.DataFrame | None:
        sites = self.frames.get("sites")
        if not _has(sites, "site_id", "launched") or "sites" in self.incomplete:
            return None
        return (
            _complete(sites, ["site_id", "launched"])
            .sort(LINE)
            .unique("site_id", keep="first", maintain_order=True)
            .select(
                "site_id",
                pl.col("launched").alias("_launched"),
                _month_index("launched").alias("_launch_index"),
                pl.col(LINE).alias("_launch_line"),
            )
        )

    def dates(self, name: str) -> None:
        frame = self.frames[name]
        table = TABLES_BY_NAME[name]
        as_of = self.manifest.as_of
        launches = self._launches()
        file = self.file(name)
        sites_file = self.file("sites")
        for column in table.columns:
            if column.name not in frame.columns:
                continue
            if column.kind not in (Kind.MONTH, Kind.COHORT, Kind.YEAR):
                continue
            col = column.name
            values = _complete(frame, [col])
            if column.kind is Kind.MONTH:
                start = _month_index(col)
                end = start
            elif column.kind is Kind.COHORT:
                start = _cohort_start_index(col)
                end = start + 2
            else:
                start = end = None
            if as_of is not None:
                as_of_text = f"the release's as_of date ({as_of.isoformat()}, {MANIFEST_FILE})"
                if start is not None:
                    late = values.filter(start > as_of.year * 12 + as_of.month - 1)
                    what = "month" if column.kind is Kind.MONTH else "quarter"
                    message = f"is a {what} after {as_of_text}"
                else:
                    # A fiscal year is named for the calendar year it ends in.
                    ahead = 1 if col == "fiscal_year" else 0
                    late = values.filter(pl.col(col) > as_of.year + ahead)
                    message = f"is a year after {as_of_text}"
                self.report(
                    f"after-as-of:{col}",
                    name,
                    late,
                    lambda row, col=col, message=message: Problem(
                        file, row[LINE], col, str(row[col]), f"{quoted(row[col])} {message}"
                    ),
                )
            if end is None or name == "sites" or launches is None or "site_id" not in frame:
                continue
            early = values.join(launches, on="site_id", how="inner").filter(
                end < pl.col("_launch_index")
            )
            self.report(
                f"before-launch:{col}",
                name,
                early,
                lambda row, col=col: Problem(
                    file,
                    row[LINE],
                    col,
                    row[col],
                    f"{quoted(row[col])} is before site {quoted(row['site_id'])} launched "
                    f"({row['_launched']}, {sites_file} line {row['_launch_line']})",
                ),
            )

    # -- counts within and across files ---------------------------------------------------

    def enrolled_within_referrals(self) -> None:
        referrals = self.frames.get("referrals")
        if not _has(referrals, "referrals", "enrolled"):
            return
        over = referrals.filter(pl.col("enrolled") > pl.col("referrals"))
        self.report(
            "enrolled-over-referrals",
            "referrals",
            over,
            lambda row: Problem(
                self.file("referrals"),
                row[LINE],
                "enrolled",
                str(row["enrolled"]),
                f"{row['enrolled']} enrolled is more than the {row['referrals']} referrals "
                "on the same row; enrolled counts people among those referred",
            ),
        )

    def screening_matches_referrals(self) -> None:
        referrals = self.frames.get("referrals")
        screening = self.frames.get("screening")
        if not _has(referrals, *MONTH_KEY, "referrals", "enrolled") or not _has(
            screening, *MONTH_KEY, "outcome", "persons"
        ):
            return
        if self.incomplete & {"referrals", "screening"}:
            return
        ref = (
            _complete(referrals, MONTH_KEY)
            .group_by(MONTH_KEY)
            .agg(
                pl.col("referrals").sum().alias("_referred"),
                pl.col("enrolled").sum().alias("_enrolled"),
                (pl.col("referrals").is_null() | pl.col("enrolled").is_null())
                .any()
                .alias("_ref_bad"),
                pl.col(LINE).alias("_ref_lines"),
            )
        )
        is_enrolled = pl.col("outcome") == "enrolled"
        scr = (
            _complete(screening, MONTH_KEY)
            .group_by(MONTH_KEY)
            .agg(
                pl.col("persons").sum().alias("_persons"),
                pl.col("persons").filter(is_enrolled).sum().alias("_screened_enrolled"),
                (pl.col("persons").is_null() | pl.col("outcome").is_null()).any().alias("_scr_bad"),
                pl.col(LINE).min().alias(LINE),
                pl.col(LINE).filter(is_enrolled).min().alias("_enrolled_line"),
            )
        )
        joined = (
            ref.join(scr, on=MONTH_KEY, how="full", coalesce=True)
            .filter(~pl.col("_ref_bad").fill_null(False) & ~pl.col("_scr_bad").fill_null(False))
            .with_columns(
                pl.col("_referred", "_enrolled", "_persons", "_screened_enrolled").fill_null(0)
            )
        )
        ref_file, scr_file = self.file("referrals"), self.file("screening")

        def where(row: dict) -> str:
            return (
                f"site {quoted(row['site_id'])}, precinct {quoted(row['precinct_id'])}, "
                f"month {row['month']}"
            )

        def referrals_said(row: dict, what: str) -> str:
            if not row["_ref_lines"]:
                return f"{ref_file} has no rows for it"
            return f"{ref_file} ({lines_text(row['_ref_lines'])}) counts {what}"

        def mismatch(row: dict, counted: str, theirs: str) -> str:
            if row[LINE] is None:
                return f"has no rows for {where(row)}, but {referrals_said(row, theirs)}"
            return f"for {where(row)}, {counted}, but {referrals_said(row, theirs)}"

        totals = joined.filter(pl.col("_persons") != pl.col("_referred"))
        self.report(
            "screening-total",
            "screening",
            totals,
            lambda row: Problem(
                scr_file,
                row[LINE],
                "persons",
                str(row["_persons"]),
                mismatch(
                    row,
                    f"the screening outcomes add up to {people(row['_persons'])}",
                    plural(row["_referred"], "referral"),
                )
                + "; a month's screening outcomes must add up to its referrals",
            ),
        )
        enrolled = joined.filter(pl.col("_screened_enrolled") != pl.col("_enrolled"))
        self.report(
            "screening-enrolled",
            "screening",
            enrolled.with_columns(pl.coalesce("_enrolled_line", LINE).alias(LINE)),
            lambda row: Problem(
                scr_file,
                row[LINE],
                "persons",
                str(row["_screened_enrolled"]),
                mismatch(
                    row,
                    f"the 'enrolled' outcome counts {people(row['_screened_enrolled'])}",
                    f"{row['_enrolled']} enrolled",
                )
                + "; the two must be equal",
            ),
        )

    def services_within_caseload(self) -> None:
        services = self.frames.get("services")
        caseload = self.frames.get("caseload")
        if not _has(services, *RACE_MONTH_KEY, "service", "participants_served"):
            return
        services_file, caseload_file = self.file("services"), self.file("caseload")
        if not _has(caseload, *RACE_MONTH_KEY, "active_participants"):
            if "caseload" not in self.files and services.height:
                self.problems.add(
                    "services-need-caseload",
                    Problem(
                        services_file,
                        None,
                        None,
                        None,
                        "is present but caseload.csv is not; participants served are checked "
                        "against each month's active participants, so publish caseload.csv too",
                    ),
                )
            return
        if "caseload" in self.incomplete:
            return
        active = (
            _complete(caseload, RACE_MONTH_KEY)
            .sort(LINE)
            .unique(RACE_MONTH_KEY, keep="first", maintain_order=True)
            .select(*RACE_MONTH_KEY, "active_participants", pl.col(LINE).alias("_caseload_line"))
        )
        joined = _complete(services, RACE_MONTH_KEY).join(active, on=RACE_MONTH_KEY, how="left")

        def cell(row: dict) -> str:
            return (
                f"site {quoted(row['site_id'])}, precinct {quoted(row['precinct_id'])}, "
                f"month {row['month']}, race_ethnicity {row['race_ethnicity']}"
            )

        self.report(
            "services-without-caseload",
            "services",
            joined.filter(pl.col("_caseload_line").is_null()),
            lambda row: Problem(
                services_file,
                row[LINE],
                "race_ethnicity",
                row["race_ethnicity"],
                f"{caseload_file} has no row for {cell(row)}, so the people served cannot be "
                "checked against the active participants",
            ),
        )
        self.report(
            "services-over-caseload",
            "services",
            joined.filter(pl.col("participants_served") > pl.col("active_participants")),
            lambda row: Problem(
                services_file,
                row[LINE],
                "participants_served",
                str(row["participants_served"]),
                f"{row['participants_served']} served with {row['service']} is more than the "
                f"{row['active_participants']} active participants in {caseload_file} line "
                f"{row['_caseload_line']} ({cell(row)})",
            ),
        )

    def recidivism(self) -> None:
        frame = self.frames.get("recidivism")
        counts = ["cohort_size", "rearrested", "new_felony_charge"]
        if not _has(frame, *COHORT_GROUP, "followup_months", *counts):
            return
        file = self.file("recidivism")
        for column in ("rearrested", "new_felony_charge"):
            self.report(
                f"over-cohort:{column}",
                "recidivism",
                frame.filter(pl.col(column) > pl.col("cohort_size")),
                lambda row, column=column: Problem(
                    file,
                    row[LINE],
                    column,
                    str(row[column]),
                    f"{row[column]} {column} is more than the cohort_size of "
                    f"{row['cohort_size']} on the same row",
                ),
            )
        series = (
            _complete(frame, [*COHORT_GROUP, "followup_months"])
            .sort([*COHORT_GROUP, "followup_months", LINE])
            .with_columns(
                pl.col("cohort_size").drop_nulls().first().over(COHORT_GROUP).alias("_size0"),
                pl.col(LINE)
                .filter(pl.col("cohort_size").is_not_null())
                .first()
                .over(COHORT_GROUP)
                .alias("_size0_line"),
            )
        )

        def series_name(row: dict) -> str:
            return f"cohort {row['cohort']}, group {row['group']}, {row['race_ethnicity']}"

        self.report(
            "cohort-size-changes",
            "recidivism",
            series.filter(pl.col("cohort_size") != pl.col("_size0")),
            lambda row: Problem(
                file,
                row[LINE],
                "cohort_size",
                str(row["cohort_size"]),
                f"cohort_size {row['cohort_size']} differs from {row['_size0']} on line "
                f"{row['_size0_line']} ({series_name(row)}); a cohort's size is the same at "
                "every follow-up length",
            ),
        )
        for column in ("rearrested", "new_felony_charge"):
            # Cumulative counts: compare each row with the previous follow-up of the series.
            stepped = series.with_columns(
                pl.col(column).shift(1).over(COHORT_GROUP).alias("_previous"),
                pl.col("followup_months").shift(1).over(COHORT_GROUP).alias("_previous_months"),
                pl.col(LINE).shift(1).over(COHORT_GROUP).alias("_previous_line"),
            ).filter(pl.col(column) < pl.col("_previous"))
            self.report(
                f"decreasing:{column}",
                "recidivism",
                stepped,
                lambda row, column=column: Problem(
                    file,
                    row[LINE],
                    column,
                    str(row[column]),
                    f"{row[column]} {column} at {row['followup_months']} months is fewer than "
                    f"{row['_previous']} at {row['_previous_months']} months (line "
                    f"{row['_previous_line']}, {series_name(row)}); the counts are cumulative "
                    "and never decrease as follow-up grows",
                ),
            )
