"""Hooks through which the modules above dispatch add to its pages, so that dispatch never
imports them (docs/architecture.md, layers).

`dashboard_panels_wanted` is sent by the dashboard of a unit with `user`, `unit` (the
OrgUnit, already checked to be in the user's scope) and `day`; a receiver answers a
`Panel` (or None to show nothing), read through its own scoped selectors in a fixed
number of queries. Control answers with the unit's active control areas (管控区).
"""

from dataclasses import dataclass, field

from django.dispatch import Signal

dashboard_panels_wanted = Signal()


@dataclass(frozen=True)
class Panel:
    """A section of the dashboard: the template rendered with `context`, in `order`."""

    template: str
    context: dict = field(default_factory=dict)
    order: int = 100
