"""The sites pages: the public page shows counts only, a resident books with a code sent
to the phone on file, the desk checks people in, and nobody reads another town's site."""

import re
from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.audit.models import Change
from epidispatch.orgunits.models import UnitKind
from epidispatch.orgunits.services import unit_create
from epidispatch.sites.models import Appointment, AppointmentState, BookingCode, SiteKind
from epidispatch.sites.services import _book, appointment_check_in, session_create

from .sites_fixtures import *  # noqa: F403
from .sites_fixtures import current_slot, residents
from .test_registry_pages import id_number

PUBLIC = reverse("sites:public")


def free_figure(response, site) -> int:
    html = response.content.decode()
    section = html[html.index(f'data-site="{site.code}"') :]
    return int(re.search(r'data-figure="free">(\d+)<', section).group(1))


def test_the_public_page_leaks_no_personal_data(client, tree, session, resident, site_staff):
    _book(slot=current_slot(session), resident=resident, by=None)
    appointment_check_in(site=tree.site, resident=resident, by=site_staff)
    response = client.get(PUBLIC, {"town": tree.town.code})
    html = response.content.decode()
    assert response.status_code == 200
    assert tree.site.name in html
    assert re.search(r'data-figure="waiting">1<', html)
    for personal in (
        resident.name,
        id_number(1),
        resident.id_number_masked,
        "13812345678",
        resident.phone_masked,
        "1234",
    ):
        assert personal not in html


def test_the_public_free_count_drops_by_one_for_a_booking(client, tree, session):
    before = free_figure(client.get(PUBLIC, {"town": tree.town.code}), tree.site)
    _book(slot=current_slot(session), resident=residents(tree, 1)[0], by=None)
    after = free_figure(client.get(PUBLIC, {"town": tree.town.code}), tree.site)
    assert after == before - 1


def test_the_public_page_lists_the_sites_of_the_town_not_those_of_another(client, tree, session):
    html = client.get(PUBLIC, {"town": tree.other_town.code}).content.decode()
    assert tree.other_site.name in html
    assert tree.site.name not in html


def test_a_resident_books_with_the_code_sent_to_the_phone_on_file(
    client, tree, session, resident, outbox
):
    url = reverse("sites:book", args=[tree.site.code])
    response = client.post(url, {"id_number": id_number(1)})
    assert "验证码已发送" in response.content.decode()
    [message] = outbox
    assert message.phone == "13812345678"
    code = re.search(r"\b(\d{6})\b", message.text).group(1)
    slot = current_slot(session)
    response = client.post(url, {"id_number": id_number(1), "code": code, "slot": slot.pk})
    assert "预约成功" in response.content.decode()
    appointment = Appointment.objects.get()
    assert (appointment.resident, appointment.slot, appointment.booked_by) == (resident, slot, None)
    again = client.post(url, {"id_number": id_number(1), "code": code, "slot": slot.pk})
    assert "验证码错误或已失效" in again.content.decode()


def test_an_unregistered_id_number_gets_the_same_answer_and_no_message(
    client, tree, session, outbox
):
    response = client.post(
        reverse("sites:book", args=[tree.site.code]), {"id_number": id_number(9)}
    )
    assert "验证码已发送" in response.content.decode()
    assert outbox == []


def test_wrong_codes_burn_the_code_after_five_tries(client, tree, session, resident, outbox):
    url = reverse("sites:book", args=[tree.site.code])
    client.post(url, {"id_number": id_number(1)})
    right = re.search(r"\b(\d{6})\b", outbox[0].text).group(1)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    slot = current_slot(session)
    for _ in range(BookingCode.MAX_ATTEMPTS):
        client.post(url, {"id_number": id_number(1), "code": wrong, "slot": slot.pk})
    response = client.post(url, {"id_number": id_number(1), "code": right, "slot": slot.pk})
    assert "验证码错误或已失效" in response.content.decode()
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"id_number": "6224\x0024199001010011"},
        {"id_number": "x" * 10_000},
        {"id_number": id_number(1), "code": "\x00\x00", "slot": "1"},
        {"id_number": id_number(1), "code": "123456", "slot": "99999999999999999999"},
        {"id_number": id_number(1), "code": "123456", "slot": "-1"},
    ],
)
def test_hostile_input_on_the_booking_page_gets_an_answer_not_a_500(
    client, tree, session, resident, outbox, data
):
    response = client.post(reverse("sites:book", args=[tree.site.code]), data)
    # A NUL byte is refused before the view (web.middleware.RejectNulMiddleware).
    has_nul = any("\x00" in value for value in data.values())
    assert response.status_code == (400 if has_nul else 200)
    assert not Appointment.objects.exists()


def test_public_pages_of_unknown_codes_are_404(client, db):
    assert client.get(reverse("sites:book", args=["x" * 300])).status_code == 404
    assert client.get(PUBLIC, {"town": "x" * 50}).status_code == 200
    assert client.get(PUBLIC, {"town": "\x00" * 50}).status_code == 400


def test_check_in_at_the_desk_leads_to_the_dose_form(client, tree, session, resident, site_staff):
    _book(slot=current_slot(session), resident=resident, by=None)
    client.force_login(site_staff)
    url = reverse("sites:desk", args=[tree.site.code])
    response = client.post(url, {"id_number": id_number(1)})
    assert response.status_code == 302
    assert response["Location"] == reverse("dose_new", args=[tree.site.code])
    assert Appointment.objects.get().state == AppointmentState.CHECKED_IN


def test_the_desk_shows_id_numbers_masked(client, tree, session, resident, site_staff):
    _book(slot=current_slot(session), resident=resident, by=None)
    client.force_login(site_staff)
    html = client.get(reverse("sites:desk", args=[tree.site.code])).content.decode()
    assert resident.id_number_masked in html
    assert id_number(1) not in html


def test_another_towns_site_staff_and_official_cannot_open_the_desk(
    client, tree, session, make_user
):
    url = reverse("sites:desk", args=[tree.site.code])
    for user in (
        make_user(Role.SITE_STAFF, tree.other_site),
        make_user(Role.TOWN_OFFICIAL, tree.other_town),
    ):
        client.force_login(user)
        assert client.get(url).status_code == 404


def test_a_town_official_who_sees_the_site_may_not_check_people_in(
    client, tree, session, resident, make_user
):
    client.force_login(make_user(Role.TOWN_OFFICIAL, tree.town))
    response = client.post(
        reverse("sites:desk", args=[tree.site.code]), {"id_number": id_number(1)}
    )
    assert response.status_code == 403
    assert not Appointment.objects.exists()


def test_the_load_view_of_another_county_lists_none_of_this_countys_sites(
    client, tree, session, make_user
):
    client.force_login(make_user(Role.DISPATCHER, tree.other_county))
    html = client.get(reverse("sites:load")).content.decode()
    assert tree.site.name not in html


@pytest.mark.parametrize("count", [2, 9])
def test_the_desk_runs_a_fixed_number_of_queries(
    client, tree, session, site_staff, django_assert_num_queries, count
):
    slot = session.slots.order_by("starts_at").last()
    for resident in residents(tree, count):
        _book(slot=slot, resident=resident, by=None)
    client.force_login(site_staff)
    with django_assert_num_queries(6):
        assert client.get(reverse("sites:desk", args=[tree.site.code])).status_code == 200


@pytest.mark.parametrize("extra_sites", [0, 4])
def test_the_public_page_and_load_view_run_a_fixed_number_of_queries(
    client, tree, session, dispatcher, django_assert_num_queries, extra_sites
):
    for n in range(extra_sites):
        site = unit_create(
            code=f"62112197{n + 11:04d}",
            name=f"学校临时接种点{n}",
            kind=UnitKind.SITE,
            parent_code=tree.town.code,
        )
        session_create(
            site=site,
            kind=SiteKind.TEMPORARY,
            day=session.day,
            opens_at=time(8),
            closes_at=time(12),
            capacity_per_hour=30,
            by=dispatcher,
        )
        _book(slot=session.slots.all()[n], resident=residents(tree, 1, start=400 + n)[0], by=None)
    with django_assert_num_queries(5):
        assert client.get(PUBLIC, {"town": tree.town.code}).status_code == 200
    client.force_login(dispatcher)
    # 7 for the appointments, sessions and roster; 4 for the catchments' due doses and
    # 清零 list (counties, their sites, two grouped counts); 1 for equipment out of range.
    with django_assert_num_queries(12):
        assert client.get(reverse("sites:load")).status_code == 200


def _desk(client, site, **query) -> str:
    response = client.get(reverse("sites:desk", args=[site.code]), query)
    assert response.status_code == 200
    return response.content.decode()


def _act(client, appointment, action: str):
    url = reverse("sites:appointment", args=[appointment.site.code, appointment.pk])
    return client.post(url, {"action": action})


def _session_tomorrow(tree, by):
    return session_create(
        site=tree.site,
        kind=SiteKind.FIXED,
        day=timezone.localdate() + timedelta(days=1),
        opens_at=time(9),
        closes_at=time(11),
        capacity_per_hour=5,
        by=by,
    )


class TestCancelAndNoShowAtTheDesk:
    def test_site_staff_cancel_a_booking_and_its_place_is_free_again(
        self, client, tree, session, resident, site_staff
    ):
        slot = current_slot(session)
        appointment = _book(slot=slot, resident=resident, by=None)
        client.force_login(site_staff)
        assert f'data-appointment="{appointment.pk}"' in _desk(client, tree.site)
        response = _act(client, appointment, "cancel")
        assert response.status_code == 302
        assert response["Location"].endswith(f"?day={appointment.day:%Y-%m-%d}")
        appointment.refresh_from_db()
        slot.refresh_from_db()
        assert (appointment.state, slot.booked) == (AppointmentState.CANCELLED, 0)
        page = _desk(client, tree.site)
        assert "已取消张三的预约" in page and 'value="cancel"' not in page
        change = Change.objects.filter(content_type__model="appointment").latest("timestamp")
        assert (change.action, change.actor) == (Change.Action.UPDATE, site_staff)
        assert change.changes["state"] == ["booked", "cancelled"]

    def test_a_no_show_is_marked_once_the_hour_has_begun_and_keeps_the_place(
        self, client, tree, session, resident, site_staff
    ):
        begun = session.slots.get(starts_at=time(0))
        appointment = _book(slot=begun, resident=resident, by=None)
        tomorrow = _session_tomorrow(tree, site_staff)
        not_yet = _book(slot=tomorrow.slots.first(), resident=residents(tree, 1)[0], by=None)
        client.force_login(site_staff)
        page = _desk(client, tree.site)
        assert page.count('value="no_show"') == 1 and page.count('value="cancel"') == 1
        assert _act(client, appointment, "no_show").status_code == 302
        appointment.refresh_from_db()
        begun.refresh_from_db()
        assert (appointment.state, begun.booked) == (AppointmentState.NO_SHOW, 1)
        assert 'value="no_show"' not in _desk(client, tree.site, day=f"{tomorrow.day:%Y-%m-%d}")
        _act(client, not_yet, "no_show")
        not_yet.refresh_from_db()
        assert not_yet.state == AppointmentState.BOOKED
        assert "预约时段开始（09:00）后才能标记爽约" in _desk(client, tree.site)

    def test_the_dispatcher_cancels_but_marks_no_shows_nowhere(
        self, client, tree, session, resident, dispatcher
    ):
        appointment = _book(slot=session.slots.get(starts_at=time(0)), resident=resident, by=None)
        client.force_login(dispatcher)
        page = _desk(client, tree.site)
        assert 'value="cancel"' in page and 'value="no_show"' not in page
        assert _act(client, appointment, "no_show").status_code == 403
        assert _act(client, appointment, "cancel").status_code == 302
        appointment.refresh_from_db()
        assert appointment.state == AppointmentState.CANCELLED

    def test_a_town_official_sees_no_button_and_is_refused(
        self, client, tree, session, resident, make_user
    ):
        appointment = _book(slot=session.slots.get(starts_at=time(0)), resident=resident, by=None)
        client.force_login(make_user(Role.TOWN_OFFICIAL, tree.town))
        page = _desk(client, tree.site)
        assert 'value="cancel"' not in page and 'value="no_show"' not in page
        for action in ("cancel", "no_show"):
            assert _act(client, appointment, action).status_code == 403
        appointment.refresh_from_db()
        assert appointment.state == AppointmentState.BOOKED

    def test_another_towns_staff_cannot_reach_the_booking(
        self, client, tree, session, resident, make_user
    ):
        appointment = _book(slot=session.slots.get(starts_at=time(0)), resident=resident, by=None)
        client.force_login(make_user(Role.SITE_STAFF, tree.other_site))
        assert _act(client, appointment, "cancel").status_code == 404
        other_site_url = reverse("sites:appointment", args=[tree.other_site.code, appointment.pk])
        assert client.post(other_site_url, {"action": "cancel"}).status_code == 404
        appointment.refresh_from_db()
        assert appointment.state == AppointmentState.BOOKED

    def test_a_booking_of_another_day_is_cancelled_from_that_days_desk(
        self, client, tree, resident, site_staff
    ):
        session = _session_tomorrow(tree, site_staff)
        tomorrow = session.day
        appointment = _book(slot=session.slots.first(), resident=resident, by=None)
        client.force_login(site_staff)
        assert f'data-appointment="{appointment.pk}"' not in _desk(client, tree.site)
        page = _desk(client, tree.site, day=f"{tomorrow:%Y-%m-%d}")
        assert 'value="cancel"' in page and 'value="no_show"' not in page
        assert 'name="id_number"' not in page
        assert _act(client, appointment, "cancel")["Location"].endswith(f"?day={tomorrow:%Y-%m-%d}")
        appointment.refresh_from_db()
        assert appointment.state == AppointmentState.CANCELLED

    def test_an_unknown_action_or_a_get_changes_nothing(
        self, client, tree, session, resident, site_staff
    ):
        appointment = _book(slot=current_slot(session), resident=resident, by=None)
        client.force_login(site_staff)
        assert _act(client, appointment, "vaccinate").status_code == 400
        url = reverse("sites:appointment", args=[tree.site.code, appointment.pk])
        assert client.get(url).status_code == 405
        appointment.refresh_from_db()
        assert appointment.state == AppointmentState.BOOKED


CANCEL = reverse("sites:cancel")


def _code_sent(client, outbox, number: int = 1) -> str:
    response = client.post(CANCEL, {"id_number": id_number(number)})
    assert "验证码已发送" in response.content.decode()
    return re.search(r"\b(\d{6})\b", outbox[-1].text).group(1)


class TestAResidentCancelsTheirBooking:
    def test_with_the_code_every_coming_booking_is_cancelled_and_its_place_freed(
        self, client, tree, session, resident, site_staff, outbox
    ):
        today = current_slot(session)
        tomorrow = _session_tomorrow(tree, site_staff).slots.first()
        booked = [_book(slot=slot, resident=resident, by=None) for slot in (today, tomorrow)]
        assert 'href="/sites/cancel/"' in client.get(PUBLIC).content.decode()
        code = _code_sent(client, outbox)
        page = client.post(CANCEL, {"id_number": id_number(1), "code": code}).content.decode()
        assert "已取消以下预约" in page
        assert f"{today.starts_at:%H:%M} · {tree.site.name}" in page
        for appointment, slot in zip(booked, (today, tomorrow), strict=True):
            appointment.refresh_from_db()
            slot.refresh_from_db()
            assert (appointment.state, slot.booked) == (AppointmentState.CANCELLED, 0)
        changes = Change.objects.filter(content_type__model="appointment", action=1)
        assert changes.count() == 2
        assert all(c.actor is None and c.additional_data["public_page"] for c in changes)

    def test_a_wrong_code_cancels_nothing_and_a_checked_in_booking_stays(
        self, client, tree, session, resident, site_staff, outbox
    ):
        appointment = _book(slot=current_slot(session), resident=resident, by=None)
        code = _code_sent(client, outbox)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        page = client.post(CANCEL, {"id_number": id_number(1), "code": wrong}).content.decode()
        assert "验证码错误或已失效" in page
        appointment.refresh_from_db()
        assert appointment.state == AppointmentState.BOOKED
        appointment_check_in(site=tree.site, resident=resident, by=site_staff)
        code = _code_sent(client, outbox)
        page = client.post(CANCEL, {"id_number": id_number(1), "code": code}).content.decode()
        assert "您没有可取消的预约" in page
        appointment.refresh_from_db()
        assert appointment.state == AppointmentState.CHECKED_IN

    def test_an_unregistered_id_number_gets_the_same_answer_and_no_message(
        self, client, tree, outbox
    ):
        response = client.post(CANCEL, {"id_number": id_number(9)})
        assert "验证码已发送" in response.content.decode()
        assert outbox == []
        invalid = client.post(CANCEL, {"id_number": "62242419900101001"}).content.decode()
        assert "这不是有效的身份证号码" in invalid
