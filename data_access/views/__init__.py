"""Public (and staff) views: the choke point between exact aggregates and any output.

Importing this package registers every view; `build(name, engine, selection,
audience)` is the only way pages, downloads, the briefing and the open-data
bundle obtain figures.
"""

from data_access.views import (  # noqa: F401  (importing a module registers its views)
    compare,
    costs,
    disparities,
    methods,
    recidivism,
    referrals,
    services,
    staff,
)
from data_access.views.base import Selection, ViewResult, build, view_names

__all__ = ["Selection", "ViewResult", "build", "view_names"]
