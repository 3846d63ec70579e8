"""Statistical disclosure control: what the public may see of each table.

Pure functions over polars frames (no streamlit, no SQL). Every function that
produces public output returns a `Protected` (or `ProtectedCounts`), which only
this package can construct, so renderers can demand one. Staff output passes
through the same functions with `audience=Audience.STAFF` and comes back exact,
marked `exact=True`. The policy in plain words is docs/privacy.md.
"""

from data_access.audience import Audience
from data_access.disclosure.coarsen import (
    COMBINED_RACE_CODE,
    COMBINED_RACE_LABEL,
    Coarsened,
    Folded,
    coarsen_time,
    enforce_time_floor,
    fold_small_groups,
    quarter_of,
    with_time_levels,
    year_of,
)
from data_access.disclosure.complementary import (
    AuditReport,
    audit_counts,
    audit_published,
    flag_column,
    protect_counts,
)
from data_access.disclosure.derived import DerivedKind, protect_comparison, protect_derived
from data_access.disclosure.display import display_column, display_value, for_display, withheld_text
from data_access.disclosure.earlier import UNPUBLISHED, EarlierPublication, rename_levels
from data_access.disclosure.exact import Bounds, InconsistentView
from data_access.disclosure.policy import (
    DEFAULT_POLICY,
    K_VARIABLE,
    WITHHELD_COUNT_REASON,
    Policy,
    PolicyError,
    policy_for_k,
    policy_from_environment,
)
from data_access.disclosure.protected import (
    AuditRecord,
    Protected,
    ProtectedCounts,
    audit_frame,
    publish_reference,
)
from data_access.disclosure.storage import StorageError, storable

__all__ = [
    "COMBINED_RACE_CODE",
    "COMBINED_RACE_LABEL",
    "DEFAULT_POLICY",
    "K_VARIABLE",
    "WITHHELD_COUNT_REASON",
    "Audience",
    "AuditRecord",
    "AuditReport",
    "Bounds",
    "Coarsened",
    "UNPUBLISHED",
    "DerivedKind",
    "EarlierPublication",
    "Folded",
    "InconsistentView",
    "Policy",
    "PolicyError",
    "Protected",
    "ProtectedCounts",
    "StorageError",
    "audit_counts",
    "audit_frame",
    "audit_published",
    "coarsen_time",
    "display_column",
    "display_value",
    "enforce_time_floor",
    "flag_column",
    "fold_small_groups",
    "for_display",
    "policy_for_k",
    "policy_from_environment",
    "protect_comparison",
    "protect_counts",
    "protect_derived",
    "publish_reference",
    "rename_levels",
    "quarter_of",
    "storable",
    "with_time_levels",
    "withheld_text",
    "year_of",
]
