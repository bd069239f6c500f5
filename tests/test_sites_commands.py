"""The county IT person's commands: open a session, roster a person; bad input gets a
clear Chinese message and changes nothing."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from epidispatch.accounts.models import Role
from epidispatch.sites.models import RosterEntry, Session, StaffMember


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_open_session_cuts_the_hours_into_slots(tree, dispatcher):
    out = run(
        "open_session", "--user", dispatcher.username, "--site", tree.site.code,
        "--day", "2026-12-03", "--from", "08:00", "--to", "11:30", "--capacity", "40",
        "--kind", "temporary", "--place", "通渭县第一中学",
    )  # fmt: skip
    session = Session.objects.get()
    assert [s.capacity for s in session.slots.all()] == [40, 40, 40, 20]
    assert "4" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--day", "2026-02-30"], "不是"),
        (["--from", "25:00"], "不是"),
        (["--capacity", "0"], "1 到 1000"),
        (["--from", "12:00", "--to", "08:00"], "早于"),
    ],
)
def test_open_session_refuses_bad_input_in_chinese(tree, dispatcher, args, message):
    base = {
        "--user": dispatcher.username, "--site": tree.site.code, "--day": "2026-12-03",
        "--from": "08:00", "--to": "12:00", "--capacity": "40",
    }  # fmt: skip
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    with pytest.raises(CommandError, match=message):
        run("open_session", *[part for pair in base.items() for part in pair])
    assert not Session.objects.exists()


def test_site_staff_cannot_open_another_sites_session(tree, make_user):
    staff = make_user(Role.SITE_STAFF, tree.other_site)
    with pytest.raises(CommandError):
        run(
            "open_session", "--user", staff.username, "--site", tree.site.code,
            "--day", "2026-12-03", "--from", "08:00", "--to", "12:00", "--capacity", "40",
        )  # fmt: skip


def roster(dispatcher, site, *extra):
    return run(
        "roster_assign", "--user", dispatcher.username, "--site", site.code, "--staff", "李护士",
        "--role", "vaccinator", "--day", "2026-12-03", "--from", "08:00", "--to", "12:00", *extra,
    )  # fmt: skip


def test_roster_assign_registers_the_person_and_their_training_then_refuses_a_clash(
    tree, dispatcher
):
    with pytest.raises(CommandError, match="培训合格"):
        roster(dispatcher, tree.site)
    assert not StaffMember.objects.exists()
    roster(dispatcher, tree.site, "--qualified-on", "2026-06-01", "--qualified-until", "2027-06-01")
    with pytest.raises(CommandError, match="同一人不能同时在两处"):
        roster(dispatcher, tree.other_site)
    assert RosterEntry.objects.count() == 1
