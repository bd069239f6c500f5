"""Who may do what with meetings, one predicate per permission; the services check them,
the views and templates ask the same ones, so a button never leads to a refusal.

- the office (防控办 dispatcher) over a meeting's unit holds meetings, records decisions,
  calls units in and confirms action items closed;
- a leader over it reads the meetings and their packs;
- a unit (its town, street or department official) files its reports and carries out the
  items it owns; a working group's members carry out the group's items;
- nobody confirms an item they carry out: the owner cannot close its own item.
"""

from epidispatch.accounts.models import Role
from epidispatch.core.scoping import holds_role_over, memberships, role_paths

from .models import ActionItem, Meeting, UnitReport, WorkingGroup

#: Roles that hold meetings (the office) and that read their packs.
OFFICE_ROLES = (Role.DISPATCHER,)
PACK_ROLES = (Role.DISPATCHER, Role.LEADER)
#: Roles that act for a participating unit (a town, street or department).
UNIT_ROLES = (Role.TOWN_OFFICIAL,)
#: The membership (`core.scoping.membership_install`) of working groups, keyed by group.
WORKING_GROUPS = "working_group"


def working_groups_of_member(user):
    """The user's working groups: read with the user's roles in one query (installed in
    `MeetingsConfig.ready`), so the meetings menu entry costs a page no query of its own."""
    return WorkingGroup.objects.filter(members=user.pk)


def in_working_group(user) -> bool:
    """Whether the user is a member of any working group (for the menu: read with the
    roles; a write asks the group itself, `acts_for_owner`)."""
    return bool(memberships(user, WORKING_GROUPS))


def reads_meetings(user) -> bool:
    """Whether the meetings module is for the user: the office, leaders, unit officials
    and members of a working group. The meetings pages check it; the menu shows it."""
    if role_paths(user, PACK_ROLES + UNIT_ROLES):
        return True
    return in_working_group(user)


def holds_meetings(user) -> bool:
    """Whether the user is an office that holds meetings (anywhere)."""
    return bool(role_paths(user, OFFICE_ROLES))


def runs_meeting_of(user, unit) -> bool:
    """Whether the user is the office of `unit` (or above it): holds its meetings."""
    return holds_role_over(user, OFFICE_ROLES, unit.path)


def reads_pack(user, meeting: Meeting) -> bool:
    """Whether the user reads the whole pack of a meeting: the office and leaders over
    the meeting's unit. A unit sees its own reports and items, not the others'."""
    return holds_role_over(user, PACK_ROLES, meeting.unit.path)


def acts_for_unit(user, unit) -> bool:
    """Whether the user acts for `unit`: an official of it (or of a unit above it, a town
    for its villages), or any role held on the unit itself (an office for its own unit)."""
    if holds_role_over(user, UNIT_ROLES, unit.path):
        return True
    return any(path == unit.path for path in role_paths(user, tuple(Role)))


def acts_for_owner(user, item: ActionItem) -> bool:
    """Whether the user carries out the item: acts for its owner unit, or is a member of
    its owner working group."""
    if item.owner_unit_id:
        return acts_for_unit(user, item.owner_unit)
    return item.owner_group.members.filter(pk=user.pk).exists()


def confirms_item(user, item: ActionItem) -> bool:
    """Whether the user may confirm the item closed: the issuing office, unless it is
    itself the owner (an owner never closes its own item)."""
    return runs_meeting_of(user, item.meeting.unit) and not acts_for_owner(user, item)


def files_report(user, report: UnitReport) -> bool:
    """Whether the user files the unit's report (the unit's own officials)."""
    return acts_for_unit(user, report.unit)
