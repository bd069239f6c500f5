"""Control's part of the dispatch dashboard: the control areas in force under the unit,
by level, with the residents and the people under measures in each (底清数明)."""

from epidispatch.dispatch.signals import Panel

from .selectors import area_summary


def areas_panel(sender, *, user, unit, day, **kwargs) -> Panel:
    """Receiver of `dispatch.signals.dashboard_panels_wanted`: five queries whatever the
    number of areas (tests/test_control_areas.py pins them)."""
    return Panel(
        template="control/_dashboard_areas.html",
        context={"summary": area_summary(user, unit, day), "link": True},
        order=50,
    )
