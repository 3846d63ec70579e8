"""Service uptake: the share of active participants who received each of the eight services.

Both tables are monthly: participants served by a service in a month, and
participants active in that month. Over a period of several months the share
is Σ served / Σ active, the share of active participant-months in which the
service was received (registry: services.uptake). A frame the query layer
has already summed over months gives the same answer.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from data_access.metrics.frames import (
    aggregate,
    as_columns,
    counts_as_int,
    finish,
    require_columns,
    strict_sum,
)
from data_access.metrics.registry import implements
from data_access.metrics.reliability import classify, proportion_rules
from data_access.metrics.stats import wilson
from data_access.vocabulary import SERVICES


@implements("services.uptake")
def service_uptake(
    services: pl.DataFrame,
    caseload: pl.DataFrame,
    by: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Share of active participant-months with each service, overall or by race etc.

    `services` has `by` + `service` + `participants_served`; `caseload` has
    `by` + `active_participants`, over the same months. Every one of the eight
    services gets a row for every group; a service with no row counts zero.
    """
    where = "service_uptake"
    by = as_columns(by)
    if "service" in by:
        raise ValueError(f"{where}: 'service' is always a grouping column; leave it out of by")
    require_columns(services, [*by, "service", "participants_served"], f"{where} (services)")
    require_columns(caseload, [*by, "active_participants"], f"{where} (caseload)")
    unknown = sorted(set(services["service"].drop_nulls().unique()) - set(SERVICES))
    if unknown:
        raise ValueError(f"{where}: unknown service codes {unknown}; expected {list(SERVICES)}")
    served = aggregate(
        counts_as_int(services, ["participants_served"], where),
        [*by, "service"],
        [strict_sum("participants_served")],
    ).with_columns(pl.lit(True).alias("_served_row"))
    active = aggregate(
        counts_as_int(caseload, ["active_participants"], where),
        by,
        [strict_sum("active_participants")],
    ).with_columns(pl.lit(True).alias("_active_row"))

    service_list = pl.DataFrame({"service": list(SERVICES)})
    if by:
        groups = pl.concat([served.select(by), active.select(by)]).unique()
        grid = groups.join(service_list, how="cross")
        grid = grid.join(active, on=by, how="left")
    else:
        grid = service_list.join(active, how="cross")
    grid = grid.join(served, on=[*by, "service"], how="left").with_columns(
        pl.when(pl.col("_served_row").is_null())
        .then(0)
        .otherwise(pl.col("participants_served"))
        .alias("participants_served"),
        pl.when(pl.col("_active_row").is_null())
        .then(0)
        .otherwise(pl.col("active_participants"))
        .alias("active_participants"),
    )
    order = {code: i for i, code in enumerate(SERVICES)}
    grid = grid.sort([*by, pl.col("service").replace_strict(order)], nulls_last=True)
    share = wilson(pl.col("participants_served"), pl.col("active_participants"))
    out = grid.with_columns(
        pl.col("participants_served").alias("numerator"),
        pl.col("active_participants").alias("denominator"),
        share.estimate.alias("estimate"),
        share.low.alias("ci_low"),
        share.high.alias("ci_high"),
    ).with_columns(classify(proportion_rules()))
    return finish(out, "services.uptake", [*by, "service"])
