"""Who may act on a site's bookings, one predicate per permission: the services check them
and the check-in desk shows a button only when the same predicate holds."""

from epidispatch.accounts.models import Role
from epidispatch.core.scoping import holds_role_over

#: Who cancels a booking for a resident (who phoned the site, or whose session is
#: called off): the county office and the site's staff.
CANCELLING_ROLES = (Role.DISPATCHER, Role.SITE_STAFF)
#: Who marks a booking as not come: the site's own staff, who saw the hour pass.
NO_SHOW_ROLES = (Role.SITE_STAFF,)


def cancels_bookings(user, site) -> bool:
    """Whether the user cancels bookings at `site` (a unit that booked a batch also
    cancels its own bookings, see `cancels_booking`)."""
    return holds_role_over(user, CANCELLING_ROLES, site.path)


def cancels_booking(user, appointment) -> bool:
    """Whether the user may cancel this booking: the site's office or staff, or whoever
    booked it for the resident (a grid worker bringing elderly people)."""
    return appointment.booked_by_id == user.pk or cancels_bookings(user, appointment.site)


def marks_no_shows(user, site) -> bool:
    """Whether the user marks bookings at `site` as not come."""
    return holds_role_over(user, NO_SHOW_ROLES, site.path)
