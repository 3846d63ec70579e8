"""Synthetic demonstration data for the LEAD dashboard, calibrated to published figures.

The data are SYNTHETIC: simulated people counted into the ten tables of data
contract v1. They are tuned to reproduce published LEAD evaluation figures
(see data_access.demo.calibration and docs/demo-data.md) and must never be
read as real LEAD results.

    generate_demo_tables(as_of)      -> the ten tables as polars DataFrames
    write_demo_releases(directory)   -> the quarterly release folders, oldest first
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from data_access.demo.release import CURRENT, EARLIER, write_releases
from data_access.demo.simulate import simulate
from data_access.demo.tabulate import tabulate

DEFAULT_SEED = 20111001  # the month Seattle LEAD took its first referral

__all__ = ["CURRENT", "DEFAULT_SEED", "EARLIER", "generate_demo_tables", "write_demo_releases"]


def generate_demo_tables(
    as_of: dt.date, seed: int = DEFAULT_SEED, extra_sites: int = 0
) -> dict[str, pl.DataFrame]:
    """The ten contract tables as of `as_of` (2011-10-31 to 2025-12-31).

    Seattle, Santa Fe and Albany always; `extra_sites` adds invented sites
    (`synthetic-01`, ...) for scale tests without changing the other three.
    Same arguments, same tables.
    """
    return tabulate(simulate(seed, extra_sites), as_of)


def write_demo_releases(
    directory: Path, seed: int = DEFAULT_SEED, extra_sites: int = 0
) -> list[Path]:
    """Write the demo release folders under `directory`, oldest first.

    `demo-2025-06`, `demo-2025-09` and `demo-2025-12` (as of the last day of
    each quarter), all marked synthetic; the last one corrects an error in the
    two before it and says so in its notes.
    """
    return write_releases(Path(directory), simulate(seed, extra_sites))
