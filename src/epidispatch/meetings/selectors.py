"""Reads of meetings, reports and action items, scoped to the user like every read.

A user sees the meetings of the offices inside their scope and the meetings their units
take part in; the reports of their units; the items their units or working groups own
and the items of the meetings their office holds. Nothing else, whatever the role.
"""

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.accounts.models import Role
from epidispatch.core.scoping import paths_q, role_paths, scope_q
from epidispatch.orgunits.models import OrgUnit, Responsibility, UnitKind

from .models import (
    OPEN_ITEM_STATES,
    ActionItem,
    Attachment,
    LeaderResponsibility,
    Meeting,
    MeetingSeries,
    ProgressPost,
    UnitReport,
    WorkingGroup,
)
from .permissions import OFFICE_ROLES, UNIT_ROLES


def _group_ids(user):
    return WorkingGroup.objects.filter(members=user.pk).values("pk")


def meetings_visible_to(user):
    """Meetings held by an office inside the user's scope, or taking part a unit inside
    it, or whose office has a working group the user is a member of; newest first."""
    if not user.is_authenticated:
        return Meeting.objects.none()
    participating = Meeting.participants.through.objects.filter(
        Q(meeting_id=OuterRef("pk")) & scope_q(user, "orgunit__path")
    )
    grouped = WorkingGroup.objects.filter(unit_id=OuterRef("unit_id"), members=user.pk)
    return (
        Meeting.objects.filter(
            scope_q(user, "unit__path") | Exists(participating) | Exists(grouped)
        )
        .select_related("series", "unit", "snapshot")
        .order_by("-held_at", "-pk")
    )


def meeting_for_user(user, pk: int) -> Meeting:
    try:
        return meetings_visible_to(user).get(pk=pk)
    except Meeting.DoesNotExist:
        raise Http404(_("No such meeting within your units.")) from None


def series_visible_to(user):
    """The series of the offices the user holds meetings for."""
    return MeetingSeries.objects.filter(
        paths_q(role_paths(user, OFFICE_ROLES), "unit__path")
    ).select_related("unit")


def previous_meeting(meeting: Meeting) -> Meeting | None:
    """The meeting of the same series held just before (N−1, or the last one before)."""
    return (
        Meeting.objects.filter(series_id=meeting.series_id, number__lt=meeting.number)
        .select_related("snapshot")
        .order_by("-number")
        .first()
    )


def reports_visible_to(user):
    """Reports of units inside the user's scope, and those of the meetings their office
    holds."""
    return (
        UnitReport.objects.filter(
            scope_q(user, "unit__path") | scope_q(user, "meeting__unit__path")
        )
        .select_related("unit", "meeting__series", "submitted_by")
        .order_by("-meeting__held_at", "unit__code")
    )


def report_for_user(user, pk: int) -> UnitReport:
    try:
        return reports_visible_to(user).get(pk=pk)
    except UnitReport.DoesNotExist:
        raise Http404(_("No such report within your units.")) from None


def reports_due(user):
    """The reports the user's units have still to file, soonest first (the start page)."""
    paths = role_paths(user, UNIT_ROLES)
    return (
        UnitReport.objects.filter(paths_q(paths, "unit__path"), submitted_at__isnull=True)
        .filter(meeting__held_at__gte=timezone.now())
        .select_related("unit", "meeting__series")
        .order_by("deadline", "pk")
    )


def items_visible_to(user):
    """Items owned inside the user's scope or by a working group they are in, and the
    items of the meetings their office holds; soonest deadline first."""
    if not user.is_authenticated:
        return ActionItem.objects.none()
    return (
        ActionItem.objects.filter(
            scope_q(user, "owner_path")
            | scope_q(user, "meeting__unit__path")
            | Q(owner_group__in=_group_ids(user))
        )
        .select_related("meeting__series", "owner_unit", "owner_group")
        .order_by("deadline", "meeting_id", "number")
    )


def item_for_user(user, pk: int) -> ActionItem:
    try:
        return items_visible_to(user).select_related("meeting__unit", "closed_by").get(pk=pk)
    except ActionItem.DoesNotExist:
        raise Http404(_("No such action item within your units.")) from None


def items_owned_by(user):
    """The open items the user carries out: owned by their units (as an official) or
    by a working group they are a member of (the start page)."""
    paths = role_paths(user, UNIT_ROLES)
    own = role_paths(user, tuple(Role))
    return (
        ActionItem.objects.filter(state__in=OPEN_ITEM_STATES)
        .filter(
            paths_q(paths, "owner_path")
            | Q(owner_unit__path__in=own)
            | Q(owner_group__in=_group_ids(user))
        )
        .select_related("meeting__series", "owner_unit", "owner_group")
        .order_by("deadline", "pk")
    )


def items_issued_open(user):
    """Open items of the meetings the user's office holds (the office's start page)."""
    paths = role_paths(user, OFFICE_ROLES)
    return (
        ActionItem.objects.filter(paths_q(paths, "meeting__unit__path"))
        .filter(state__in=OPEN_ITEM_STATES)
        .select_related("meeting__series", "owner_unit", "owner_group")
        .order_by("deadline", "pk")
    )


def item_posts(item: ActionItem) -> list[ProgressPost]:
    """The item's progress posts with their attachments and authors (two queries)."""
    return list(
        item.posts.select_related("posted_by").prefetch_related(
            Prefetch("attachments", queryset=Attachment.objects.order_by("pk"))
        )
    )


def attachment_for_user(user, pk: int) -> Attachment:
    try:
        return Attachment.objects.select_related("post__item").get(
            pk=pk, post__item__in=items_visible_to(user).values("pk")
        )
    except Attachment.DoesNotExist:
        raise Http404(_("No such file within your units.")) from None


def owner_units_below(office: OrgUnit):
    """The towns, streets and departments under an office: who takes part and owns items."""
    return OrgUnit.objects.filter(
        path__startswith=office.path, kind__in=(UnitKind.TOWN, UnitKind.DEPARTMENT)
    ).order_by("-kind", "code")


def owner_units(meeting: Meeting):
    """The units an item of the meeting may be owned by: the office itself, then the
    towns, streets and departments under it."""
    return OrgUnit.objects.filter(
        Q(pk=meeting.unit_id)
        | Q(path__startswith=meeting.unit.path, kind__in=(UnitKind.TOWN, UnitKind.DEPARTMENT))
    ).order_by("depth", "-kind", "code")


def latest_progress(items) -> dict[int, str]:
    """The latest progress note of each item (one query)."""
    latest: dict[int, str] = {}
    for item_id, note in (
        ProgressPost.objects.filter(item__in=[item.pk for item in items])
        .order_by("item_id", "posted_at", "pk")
        .values_list("item_id", "note")
    ):
        latest[item_id] = note  # the last one of each item stays
    return latest


def responsibilities(user) -> dict:
    """The leaders in charge of towns (包联), the departments' grids (包抓) and the working
    groups (一办十一组), inside the user's scope."""
    return {
        "leaders": list(
            LeaderResponsibility.objects.filter(scope_q(user, "town__path"))
            .select_related("town")
            .order_by("leader_name", "town__code")
        ),
        "departments": list(
            Responsibility.objects.filter(scope_q(user, "unit__path"))
            .select_related("unit", "grid")
            .order_by("unit__code", "grid__code")
        ),
        "groups": list(
            WorkingGroup.objects.filter(scope_q(user, "unit__path"))
            .select_related("unit")
            .prefetch_related("members")
            .order_by("unit__code", "position", "name")
        ),
    }


def working_groups_of(unit: OrgUnit):
    return WorkingGroup.objects.filter(unit=unit).order_by("position", "name")


#: Rows of each list the start page shows (the meetings page has them all).
START_ROWS = 5


def start_work(user) -> dict:
    """The start page's meeting work: the reports the user's units have to file and the
    open items they carry out (or, for the office, the open items of its meetings)."""
    return {
        "reports_due": list(reports_due(user)[:START_ROWS]),
        "items_owned": list(items_owned_by(user)[:START_ROWS]),
        "items_issued": list(items_issued_open(user)[:START_ROWS]),
        "today": timezone.localdate(),
    }
