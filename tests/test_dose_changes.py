"""Correcting and deleting a dose recorded in error through the pages (issue 20): the staff
of the recording site and dispatchers over the resident may, with a reason; everyone
else is refused (404 outside their scope, 403 inside it); the change is audited, the
figures move at once, and a change made meanwhile by someone else is never overwritten."""

import importlib
import re
import threading
import time
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.audit.models import AuditAction, AuditEntry, Change
from epidispatch.registry.services import resident_create
from epidispatch.vaccination.models import Dose, VaccinationStatus, VaccineProduct
from epidispatch.vaccination.services import dose_correct, dose_delete, dose_record

from .test_dispatch_pages import figure_card
from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def coronavac(db):
    return VaccineProduct.objects.get(code="coronavac")


@pytest.fixture
def staff(tree, make_user):
    return make_user(Role.SITE_STAFF, tree.site, username="staff")


@pytest.fixture
def person(tree):
    return resident_create(name="牛建国", id_number=id_number(1, "19580402"), grid=tree.grid)


@pytest.fixture
def visitor(tree):
    """A resident of 鸡川镇 (the other town) vaccinated at 平襄镇's site."""
    return resident_create(name="漆秀兰", id_number=id_number(2, "19620709"), grid=tree.other_grid)


def give(resident, site, by, product, days_ago):
    return dose_record(
        resident=resident,
        product=product,
        given_on=TODAY() - timedelta(days=days_ago),
        site=site,
        by=by,
    )


@pytest.fixture
def dose(tree, person, staff, coronavac):
    return give(person, tree.site, staff, coronavac, days_ago=40)


def correct(client, dose, **fields):
    form = {
        "given_on": fields.get("given_on", dose.given_on).isoformat(),
        "product": fields.get("product", dose.product_id),
        "reason": fields.get("reason", "日期录错"),
        "version": fields.get("version", dose.version),
    }
    return client.post(f"/doses/{dose.pk}/correct/", form)


def delete(client, dose, **fields):
    form = {
        "reason": fields.get("reason", "录错人"),
        "version": fields.get("version", dose.version),
    }
    return client.post(f"/doses/{dose.pk}/delete/", form)


class TestWhoMay:
    @pytest.mark.parametrize(
        ("role", "unit", "status"),
        [
            (Role.SITE_STAFF, "site", 200),
            (Role.DISPATCHER, "county", 200),
            (Role.DISPATCHER, "city", 200),
            (Role.SITE_STAFF, "other_site", 404),
            (Role.TOWN_OFFICIAL, "other_town", 404),
            (Role.GRID_WORKER, "other_grid", 404),
            (Role.DISPATCHER, "other_county", 404),
            (Role.TOWN_OFFICIAL, "town", 403),
            (Role.GRID_WORKER, "grid", 403),
            (Role.LEADER, "county", 403),
        ],
    )
    def test_each_role_across_towns(self, tree, make_user, client, dose, role, unit, status):
        client.force_login(make_user(role, getattr(tree, unit)))
        assert client.get(f"/doses/{dose.pk}/correct/").status_code == status
        assert client.get(f"/doses/{dose.pk}/delete/").status_code == status
        assert delete(client, dose).status_code == (302 if status == 200 else status)
        assert Dose.objects.filter(pk=dose.pk).exists() == (status != 200)

    def test_a_refused_correction_changes_nothing(self, tree, make_user, client, dose):
        client.force_login(make_user(Role.TOWN_OFFICIAL, tree.town))
        response = correct(client, dose, given_on=dose.given_on - timedelta(days=1))
        assert response.status_code == 403
        assert Dose.objects.get(pk=dose.pk).given_on == dose.given_on
        assert not AuditEntry.objects.filter(action=AuditAction.CORRECT_DOSE).exists()

    def test_the_recording_sites_staff_change_a_dose_of_another_towns_resident(
        self, tree, make_user, client, staff, visitor, coronavac
    ):
        """The site's register holds people from all over the county: its staff correct
        them; the resident's own town official sees the dose but may not."""
        dose = give(visitor, tree.site, staff, coronavac, days_ago=3)
        client.force_login(staff)
        assert client.get(f"/doses/{dose.pk}/correct/").status_code == 200
        client.force_login(make_user(Role.TOWN_OFFICIAL, tree.other_town))
        assert client.get(f"/doses/{dose.pk}/correct/").status_code == 403
        client.force_login(make_user(Role.SITE_STAFF, tree.other_site))
        assert client.get(f"/doses/{dose.pk}/correct/").status_code == 404

    @pytest.mark.parametrize("pk", ["0", "9223372036854775808", "99999999"])
    def test_an_unknown_dose_is_404(self, client, staff, dose, pk):
        client.force_login(staff)
        assert client.get(f"/doses/{pk}/correct/").status_code == 404
        assert client.post(f"/doses/{pk}/delete/", {"reason": "x"}).status_code == 404

    def test_the_register_and_the_resident_page_link_only_for_those_who_may(
        self, tree, make_user, client, staff, dose, person
    ):
        url = f"/units/{tree.site.code}/?day={dose.given_on}"
        client.force_login(staff)
        assert f"/doses/{dose.pk}/correct/" in client.get(url).content.decode()
        client.force_login(make_user(Role.DISPATCHER, tree.county))
        assert (
            f"/doses/{dose.pk}/delete/" in client.get(f"/residents/{person.pk}/").content.decode()
        )
        client.force_login(make_user(Role.TOWN_OFFICIAL, tree.town))
        page = client.get(f"/residents/{person.pk}/").content.decode()
        assert f"/doses/{dose.pk}/" not in page and "更正" not in page


class TestCorrecting:
    def test_site_staff_correct_the_day_and_the_status_follows(
        self, tree, client, staff, dose, person
    ):
        new_day = dose.given_on - timedelta(days=5)
        client.force_login(staff)
        form = client.get(f"/doses/{dose.pk}/correct/").content.decode()
        assert "更正接种记录" in form and f'value="{dose.version}"' in form
        response = correct(client, dose, given_on=new_day, reason="日期录错")
        assert response.status_code == 302
        assert response["Location"] == f"/units/{tree.site.code}/?day={new_day}"
        assert Dose.objects.get(pk=dose.pk).given_on == new_day
        assert VaccinationStatus.objects.get(resident=person).last_dose_on == new_day
        entry = AuditEntry.objects.get(action=AuditAction.CORRECT_DOSE)
        assert entry.user == staff and "日期录错" in entry.subject
        assert entry.unit_path == tree.grid.path
        change = Change.objects.get(content_type__model="dose", action=Change.Action.UPDATE)
        assert change.changes["given_on"] == [str(dose.given_on), str(new_day)]
        register = client.get(response["Location"]).content.decode()
        assert "已更正" in register and person.name in register

    def test_a_dispatcher_corrects_the_vaccine(self, tree, make_user, client, dose, person):
        sinopharm = VaccineProduct.objects.exclude(pk=dose.product_id).filter(
            platform=dose.product.platform, active=True
        )[0]
        client.force_login(make_user(Role.DISPATCHER, tree.county))
        response = correct(client, dose, product=sinopharm.pk, reason="疫苗录错")
        assert response.status_code == 302 and response["Location"] == f"/residents/{person.pk}/"
        assert Dose.objects.get(pk=dose.pk).product == sinopharm

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"reason": ""}, "此项为必填项"),
            ({"reason": "   "}, "此项为必填项"),
            ({"reason": "原" * 61}, "61"),
            ({"given_on": "0001-01-01"}, "2000-01-01"),
            ({"given_on": "2021-02-30"}, "输入一个有效的日期"),
            ({"product": "999999999"}, "选择一个有效的选项"),
        ],
    )
    def test_bad_input_is_refused_in_chinese_and_changes_nothing(
        self, client, staff, dose, fields, message
    ):
        client.force_login(staff)
        form = {
            "given_on": str(dose.given_on),
            "product": dose.product_id,
            "reason": "日期录错",
            "version": dose.version,
            **fields,
        }
        response = client.post(f"/doses/{dose.pk}/correct/", form)
        assert response.status_code == 200
        assert message in response.content.decode()
        assert Dose.objects.get(pk=dose.pk).given_on == dose.given_on

    def test_a_day_in_the_future_or_out_of_order_is_refused_by_the_rules(
        self, tree, client, staff, dose, person, coronavac
    ):
        second = give(person, tree.site, staff, coronavac, days_ago=5)
        client.force_login(staff)
        future = correct(client, second, given_on=TODAY() + timedelta(days=1))
        assert "未来" in future.content.decode()
        before_first = correct(client, second, given_on=dose.given_on - timedelta(days=1))
        assert "必须在前后两剂之间" in before_first.content.decode()
        assert Dose.objects.get(pk=second.pk).given_on == second.given_on

    def test_a_change_made_meanwhile_is_shown_not_overwritten(
        self, tree, make_user, client, staff, dose
    ):
        dispatcher = make_user(Role.DISPATCHER, tree.county)
        seen = dose.version
        theirs = dose.given_on - timedelta(days=2)
        dose_correct(
            dose=dose, given_on=theirs, product=dose.product, by=dispatcher, reason="调度更正"
        )
        client.force_login(staff)
        mine = dose.given_on - timedelta(days=7)
        response = correct(client, dose, given_on=mine, version=seen)
        assert response.status_code == 409
        page = response.content.decode()
        assert "刚刚已被他人修改" in page
        assert f'data-field="given_on">{theirs:%Y-%m-%d}<' in page
        assert Dose.objects.get(pk=dose.pk).given_on == theirs
        assert AuditEntry.objects.filter(action=AuditAction.CORRECT_DOSE).count() == 1
        fresh = re.search(r'name="version" value="([^"]+)"', page).group(1)
        assert correct(client, dose, given_on=mine, version=fresh).status_code == 302
        assert Dose.objects.get(pk=dose.pk).given_on == mine


class TestDeleting:
    def test_the_get_asks_to_confirm_and_deletes_nothing(self, client, staff, dose):
        client.force_login(staff)
        page = client.get(f"/doses/{dose.pk}/delete/").content.decode()
        assert "确认删除此剂次" in page and "仅删除录错的剂次" in page
        assert Dose.objects.filter(pk=dose.pk).exists()

    def test_site_staff_delete_a_wrong_dose_and_the_dashboard_moves_at_once(
        self, tree, make_user, client, staff, dose, person
    ):
        dispatcher = make_user(Role.DISPATCHER, tree.county)
        client.force_login(dispatcher)
        before = client.get(f"/dispatch/units/{tree.county.code}/").content.decode()
        assert ">1<" in figure_card(before, "doses")
        client.force_login(staff)
        response = delete(client, dose, reason="录错人")
        assert response.status_code == 302
        assert not Dose.objects.filter(pk=dose.pk).exists()
        assert not VaccinationStatus.objects.filter(resident=person).exists()
        entry = AuditEntry.objects.get(action=AuditAction.DELETE_DOSE)
        assert entry.user == staff and "录错人" in entry.subject
        assert Change.objects.filter(content_type__model="dose", action=Change.Action.DELETE)
        client.force_login(dispatcher)
        after = client.get(f"/dispatch/units/{tree.county.code}/").content.decode()
        assert ">0<" in figure_card(after, "doses")
        assert figure_card(after, "to_clear") != figure_card(before, "to_clear")

    def test_only_the_latest_dose_goes(self, tree, client, staff, dose, person, coronavac):
        give(person, tree.site, staff, coronavac, days_ago=5)
        client.force_login(staff)
        response = delete(client, dose)
        assert response.status_code == 200
        assert "只能删除" in response.content.decode()
        assert Dose.objects.filter(pk=dose.pk).exists()

    def test_a_dose_deleted_meanwhile_leaves_a_message_not_an_error(
        self, tree, make_user, client, staff, dose
    ):
        seen = dose.version
        client.force_login(make_user(Role.DISPATCHER, tree.county))
        assert delete(client, dose).status_code == 302
        client.force_login(staff)
        for response in (delete(client, dose, version=seen), correct(client, dose, version=seen)):
            assert response.status_code == 404
        assert AuditEntry.objects.filter(action=AuditAction.DELETE_DOSE).count() == 1

    def test_a_delete_with_a_stale_version_is_refused(self, tree, make_user, client, staff, dose):
        seen = dose.version
        dose_correct(
            dose=dose,
            given_on=dose.given_on - timedelta(days=1),
            product=dose.product,
            by=make_user(Role.DISPATCHER, tree.county),
            reason="调度更正",
        )
        client.force_login(staff)
        response = delete(client, dose, version=seen)
        assert response.status_code == 409
        assert Dose.objects.filter(pk=dose.pk).exists()


class TestSiteRegister:
    def test_the_register_of_another_day_lists_its_doses(self, tree, client, staff, dose):
        client.force_login(staff)
        today = client.get(f"/units/{tree.site.code}/").content.decode()
        assert f'data-dose="{dose.pk}"' not in today
        that_day = client.get(f"/units/{tree.site.code}/", {"day": str(dose.given_on)})
        assert f'data-dose="{dose.pk}"' in that_day.content.decode()

    @pytest.mark.parametrize("day", ["0001-01-01", "yesterday", "2021-13-01"])
    def test_a_bad_day_is_a_400_in_chinese(self, tree, client, staff, day):
        client.force_login(staff)
        response = client.get(f"/units/{tree.site.code}/", {"day": day})
        assert response.status_code == 400
        assert (
            "确保" in response.content.decode() or "输入一个有效的日期" in response.content.decode()
        )


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_corrections_from_one_form_store_one_and_refuse_the_other(
    tree, make_user, staff, person, coronavac
):
    """Both saw the same version; under the resident's lock the second finds the dose
    changed and is refused with the reason, whichever commits first."""
    dose = give(person, tree.site, staff, coronavac, days_ago=40)
    dispatcher = make_user(Role.DISPATCHER, tree.county)
    seen = dose.version
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def correct_to(by, days: int) -> None:
        try:
            barrier.wait(timeout=10)
            dose_correct(
                dose=dose,
                given_on=dose.given_on - timedelta(days=days),
                product=coronavac,
                by=by,
                reason="日期录错",
                seen=seen,
            )
            outcomes.append("stored")
        except ValidationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=correct_to, args=(by, days))
        for by, days in ((staff, 2), (dispatcher, 5))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["changed", "stored"]
    assert AuditEntry.objects.filter(action=AuditAction.CORRECT_DOSE).count() == 1
    assert Dose.objects.get(pk=dose.pk).given_on in {
        dose.given_on - timedelta(days=2),
        dose.given_on - timedelta(days=5),
    }


def feed(client, headers: dict, cursor: str = "0") -> tuple[list[tuple[int, str]], str]:
    """Every (id, kind) the dose change feed gives after `cursor`, and the cursor after."""
    seen = []
    while True:
        response = client.get("/api/v1/changes/doses", {"cursor": cursor, "limit": 2}, **headers)
        assert response.status_code == 200, response.content
        page = response.json()
        seen += [(item["id"], item["kind"]) for item in page["items"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return seen, cursor


@pytest.fixture
def town_feed(tree, make_user):
    _record, token = api_token_create(user=make_user(Role.TOWN_OFFICIAL, tree.town), name="f")
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def settled(client, headers: dict, cursor: str, rows: int) -> tuple[list, str]:
    """`feed` until `rows` rows came: a transaction of another database on the server (a
    test run next door) may hold them back a moment (core.feeds)."""
    seen: list = []
    deadline = time.monotonic() + 60
    while len(seen) < rows and time.monotonic() < deadline:
        more, cursor = feed(client, headers, cursor)
        seen += more
        if len(seen) < rows:
            time.sleep(0.2)
    return seen, cursor


@pytest.fixture
def seeded_coronavac(transactional_db):
    """The product, seeded again as the data migration does: a transactional test's flush
    takes the reference data away."""
    if not VaccineProduct.objects.filter(code="coronavac").exists():
        importlib.import_module("epidispatch.vaccination.migrations.0002_reference_data").seed(
            apps, None
        )
    return VaccineProduct.objects.get(code="coronavac")


# Each write its own committed transaction, as in use.
@pytest.mark.django_db(transaction=True)
def test_the_feed_gives_a_corrected_dose_again_and_a_deleted_one_once(
    tree, client, staff, person, seeded_coronavac, town_feed, make_user
):
    """Issue 28: a follower that read a dose hears of its correction and its deletion."""
    coronavac = seeded_coronavac
    first = give(person, tree.site, staff, coronavac, days_ago=60)
    second = give(person, tree.site, staff, coronavac, days_ago=30)
    seen, cursor = settled(client, town_feed, "0", rows=2)
    assert seen == [(first.pk, "recorded"), (second.pk, "recorded")]

    dispatcher = make_user(Role.DISPATCHER, tree.county)
    dose_correct(
        dose=first,
        given_on=first.given_on - timedelta(days=1),
        product=coronavac,
        by=dispatcher,
        reason="日期录错",
    )
    seen, cursor = settled(client, town_feed, cursor, rows=1)
    assert seen == [(first.pk, "corrected")]

    dose_delete(dose=Dose.objects.get(pk=second.pk), by=dispatcher, reason="录错人")
    seen, cursor = settled(client, town_feed, cursor, rows=1)
    assert seen == [(second.pk, "deleted")]
    assert feed(client, town_feed, cursor)[0] == []
    # From the start: each dose once, as it stands now.
    assert feed(client, town_feed)[0] == [(first.pk, "corrected"), (second.pk, "deleted")]


def test_another_towns_token_hears_of_no_deletion_here(
    tree, client, staff, person, coronavac, make_user
):
    dose = give(person, tree.site, staff, coronavac, days_ago=30)
    dose_delete(dose=dose, by=make_user(Role.DISPATCHER, tree.county), reason="录错人")
    _record, token = api_token_create(user=make_user(Role.TOWN_OFFICIAL, tree.other_town), name="o")
    assert feed(client, {"HTTP_AUTHORIZATION": f"Bearer {token}"})[0] == []
