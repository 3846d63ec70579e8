"""The disclosure-control policy: thresholds and the words used for every reason.

Defaults follow section D of the project's methods reference: withhold person
counts from 1 to k-1 with k = 11 (CMS cell-size rule, PCORnet), flag estimates
built on fewer than 20 events as unstable (NCHS), and publish no rate or
percentage whose denominator is under 30 people (NCHS proportions standard).
A site's privacy officer may raise k through `LEAD_DISCLOSURE_K`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

K_VARIABLE = "LEAD_DISCLOSURE_K"
DEFAULT_K = 11
# A threshold below 5 protects almost nothing; above 100 a LEAD site would publish nothing.
K_RANGE = (5, 100)

# Rule names, as recorded in the audit log and listed in Protected.rules.
PRIMARY = "primary"
COMPLEMENTARY = "complementary"
DERIVED = "derived"
RELIABILITY = "reliability"
COARSENING = "coarsening"

COMPLEMENTARY_REASON = "withheld to protect another cell"
# A figure computed from a withheld count: the same words at every k.
WITHHELD_COUNT_REASON = "based on a withheld count"


class PolicyError(ValueError):
    """A disclosure-control setting or request breaks the policy; the message says how."""


@dataclass(frozen=True)
class Policy:
    """Thresholds of the disclosure-control rules.

    k: the smallest person count published; 1..k-1 are withheld.
    unstable_below: estimates whose numerator is k..unstable_below-1 are flagged unstable.
    min_denominator: no rate, percentage or per-person figure on fewer people than this.
    """

    k: int = DEFAULT_K
    unstable_below: int = 20
    min_denominator: int = 30

    def __post_init__(self) -> None:
        low, high = K_RANGE
        if not isinstance(self.k, int) or not low <= self.k <= high:
            raise PolicyError(f"k must be a whole number from {low} to {high}; got {self.k!r}.")
        if self.unstable_below < self.k:
            raise PolicyError(
                f"unstable_below ({self.unstable_below}) must be at least k ({self.k})."
            )
        if self.min_denominator < self.k:
            raise PolicyError(
                f"min_denominator ({self.min_denominator}) must be at least k ({self.k})."
            )

    # The words are part of the policy: pages, downloads and the PDF all use these.
    @property
    def small_reason(self) -> str:
        return f"fewer than {self.k}"

    @property
    def small_or_zero_reason(self) -> str:
        """For a group whose "fewer than k" cells would otherwise pin each other exactly.

        "Fewer than k" tells a reader the cell is not zero (zeros are shown). When
        a withheld total of at most k-1 holds k-1 such cells, each must be 1: that
        group's cells, zeros included, are withheld under this wider label instead.
        """
        return f"fewer than {self.k} (zeros withheld too)"

    @property
    def complementary_reason(self) -> str:
        return COMPLEMENTARY_REASON

    @property
    def derived_small_reason(self) -> str:
        return f"based on fewer than {self.k} people"

    @property
    def derived_complement_reason(self) -> str:
        return f"fewer than {self.k} people in the group are outside it"

    @property
    def derived_withheld_reason(self) -> str:
        return WITHHELD_COUNT_REASON

    @property
    def small_denominator_reason(self) -> str:
        return f"denominator under {self.min_denominator}"

    @property
    def unstable_note(self) -> str:
        return f"unstable: based on fewer than {self.unstable_below} events"

    def is_small(self, count: int) -> bool:
        """A person count that must not be published: 1..k-1 (zero is not small)."""
        return 0 < count < self.k


DEFAULT_POLICY = Policy()


def policy_for_k(k: int) -> Policy:
    """The policy at threshold k, its other thresholds at least as strict as k demands.

    The one way a k (from the environment, or recorded on a Protected table) becomes a
    Policy, so a page, a download and the PDF that share a k share every threshold.
    """
    return Policy(
        k=k,
        unstable_below=max(DEFAULT_POLICY.unstable_below, k),
        min_denominator=max(DEFAULT_POLICY.min_denominator, k),
    )


def policy_from_environment(environ: Mapping[str, str] | None = None) -> Policy:
    """The policy with k from `LEAD_DISCLOSURE_K` (default DEFAULT_K); other thresholds follow."""
    env = os.environ if environ is None else environ
    raw = env.get(K_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_POLICY
    low, high = K_RANGE
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise PolicyError(
            f"{K_VARIABLE} is {raw!r}; it must be a whole number from {low} to {high}."
        )
    return policy_for_k(int(raw))
