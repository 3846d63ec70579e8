"""The registry: one definition per metric, every metric function tied to it, every output
shaped the same way."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys

import polars as pl
import pytest

import data_access.metrics as metrics_pkg
from data_access.metrics import (
    costs,
    disparities,
    diversion,
    recidivism,
    referrals,
    screening,
    services,
)
from data_access.metrics.frames import RESULT_COLUMNS
from data_access.metrics.registry import (
    IMPLEMENTED_BY,
    REGISTRY,
    MetricDefinition,
    get_metric,
    list_metrics,
    registry_frame,
)
from data_access.metrics.reliability import RELIABILITY_LEVELS

MODULES = [
    importlib.import_module(f"data_access.metrics.{m.name}")
    for m in pkgutil.iter_modules(metrics_pkg.__path__)
]


def _metric_functions():
    for module in MODULES:
        for _, fn in inspect.getmembers(module, inspect.isfunction):
            if hasattr(fn, "metric_ids") and fn.__module__ == module.__name__:
                yield fn


def test_every_metric_function_id_is_in_the_registry_and_every_entry_is_computed():
    functions = list(_metric_functions())
    assert len(functions) >= 15
    for fn in functions:
        for metric_id in fn.metric_ids:
            assert metric_id in REGISTRY, f"{fn.__qualname__}: {metric_id}"
    assert set(IMPLEMENTED_BY) == set(REGISTRY), set(REGISTRY) - set(IMPLEMENTED_BY)


def test_every_definition_is_complete():
    for d in list_metrics():
        assert isinstance(d, MetricDefinition)
        for field in ("name", "description", "numerator", "denominator", "unit", "method"):
            assert getattr(d, field).strip(), f"{d.id} has no {field}"
        assert d.interval and d.reliability
        assert d.sources, f"{d.id} cites no source"


def test_lookup_and_table():
    assert get_metric("disparity.rri").name == "Relative Rate Index (RRI)"
    with pytest.raises(KeyError, match="known"):
        get_metric("no.such.metric")
    table = registry_frame()
    assert table.height == len(REGISTRY)
    assert "sources" in table.columns


def test_comparison_metrics_carry_the_required_caveat():
    for metric_id in ("recidivism.risk_ratio", "recidivism.odds_ratio", "costs.did_saving"):
        assert any("not a randomized trial" in c for c in get_metric(metric_id).caveats)
    assert "lower odds" in get_metric("recidivism.odds_ratio").description


def _sample_outputs() -> dict[str, pl.DataFrame]:
    ref = pl.DataFrame(
        {
            "month": ["2024-01", "2024-02"],
            "race_ethnicity": ["white", "black"],
            "pathway": ["arrest_diversion", "social_contact"],
            "referrals": [40, 50],
            "enrolled": [20, 30],
        }
    )
    contacts = pl.DataFrame(
        {"month": ["2024-01", "2024-02"], "race_ethnicity": ["white", "black"],
         "eligible_contacts": [100, 90]}
    )  # fmt: skip
    caseload = pl.DataFrame(
        {"month": ["2024-01", "2024-01"], "race_ethnicity": ["white", "black"],
         "active_participants": [40, 60]}
    )  # fmt: skip
    served = pl.DataFrame(
        {"month": ["2024-01"], "race_ethnicity": ["black"], "service": ["housing"],
         "participants_served": [25]}
    )  # fmt: skip
    recid = pl.DataFrame(
        {"cohort": ["2021-Q1"] * 4, "group": ["lead", "lead", "comparison", "comparison"],
         "race_ethnicity": ["white", "black", "white", "black"], "followup_months": [12] * 4,
         "cohort_size": [50, 60, 40, 45], "rearrested": [20, 22, 25, 30],
         "new_felony_charge": [5, 6, 7, 8]}
    )  # fmt: skip
    cost = pl.DataFrame(
        {"fiscal_year": [2020, 2021, 2020, 2021, 2021], "group": ["lead", "lead", "comparison",
         "comparison", "lead"], "category": ["jail", "jail", "jail", "jail", "program"],
         "persons": [50, 50, 40, 40, 50], "total_cost_usd": [1e5, 8e4, 9e4, 1e5, 3e5]}
    )  # fmt: skip
    pop = pl.DataFrame({"race_ethnicity": ["white", "black"], "population": [5000, 3000]})
    screen = pl.DataFrame({"outcome": ["enrolled", "pending"], "persons": [30, 4]})
    return {
        "referral_counts": referrals.referral_counts(ref, "race_ethnicity"),
        "referral_trend": referrals.referral_trend(ref, "month"),
        "screening_funnel": screening.screening_funnel(screen),
        "enrollment_rate": screening.enrollment_rate(ref, "race_ethnicity"),
        "diversion_rate": diversion.diversion_rate(contacts, ref),
        "service_uptake": services.service_uptake(served, caseload, "race_ethnicity"),
        "recidivism_rates": recidivism.recidivism_rates(recid, "2023-06-30"),
        "lead_vs_comparison": recidivism.lead_vs_comparison(recid, "2023-06-30"),
        "curve": recidivism.cumulative_rearrest_curve(recid, "2023-06-30"),
        "rri": disparities.disparity_by_decision_point(
            eligible_contacts=contacts,
            referrals=ref,
            services=served,
            caseload=caseload,
            recidivism=recid,
            as_of="2023-06-30",
        ),  # fmt: skip
        "unknown": disparities.unknown_race_share(ref, "referrals"),
        "representation": disparities.representation_ratio(ref, pop),
        "population_rate": disparities.population_rate(ref, pop),
        "cost_per_person_year": costs.cost_per_person_year(cost),
        "cost_change": costs.cost_change(cost),
        "did": costs.did_saving(cost),
        "program": costs.program_cost_per_participant(cost),
        "program_month": costs.program_cost_per_participant_month(cost, caseload),
    }


def test_every_output_names_registry_metrics_and_has_the_standard_columns():
    for name, out in _sample_outputs().items():
        assert out.height > 0, name
        assert out.columns[0] == "metric_id", name
        for column in RESULT_COLUMNS:
            assert column in out.columns, f"{name} lacks {column}"
        assert set(out["metric_id"]) <= set(REGISTRY), name
        assert set(out["reliability"]) <= set(RELIABILITY_LEVELS), name
        # A row that cannot be computed never shows a number, and always says why.
        blocked = out.filter(pl.col("reliability") == "not_computable")
        assert blocked["estimate"].null_count() == blocked.height, name
        assert blocked["note"].null_count() == 0, name
        assert out.filter(pl.col("reliability") != "ok")["note"].null_count() == 0, name


def test_the_metrics_package_never_imports_streamlit():
    code = (
        "import sys, pkgutil, importlib, data_access.metrics as m\n"
        "[importlib.import_module('data_access.metrics.' + x.name) "
        "for x in pkgutil.iter_modules(m.__path__)]\n"
        "assert 'streamlit' not in sys.modules and 'sqlalchemy' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
