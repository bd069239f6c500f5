"""Recording a dose at a site (接种登记): each refusal with its Chinese message."""

import threading
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import override

from epidispatch.accounts.models import Role
from epidispatch.registry.models import Resident, ResidentStatus, UnvaccinatedReason
from epidispatch.registry.services import resident_create, resident_status_change
from epidispatch.vaccination.models import Dose, VaccinationStatus, VaccineProduct
from epidispatch.vaccination.services import dose_record

from .dose_files import id_number
from .test_rollups import add_dose


@pytest.fixture
def setting(tree, make_user):
    resident = resident_create(name="王建国", id_number=id_number(date(1960, 3, 3)), grid=tree.grid)
    staff = make_user(Role.SITE_STAFF, tree.site)
    products = {p.code: p for p in VaccineProduct.objects.all()}

    def record(day, code="coronavac", who=resident):
        with override("zh-hans"):
            return dose_record(
                resident=who, product=products.get(code), given_on=day, site=tree.site, by=staff
            )

    return resident, record


def refusal(call) -> str:
    with pytest.raises(ValidationError) as caught:
        call()
    return " ".join(caught.value.messages)


@pytest.mark.django_db
def test_a_good_series_updates_the_status(setting):
    resident, record = setting
    record(date(2021, 5, 1))
    record(date(2021, 5, 22))
    status = VaccinationStatus.objects.get(resident=resident)
    assert (status.doses, status.series_complete_on) == (2, date(2021, 5, 22))


@pytest.mark.django_db
def test_second_dose_before_day_21_is_refused(setting):
    _resident, record = setting
    record(date(2021, 5, 1))
    assert "2021-05-22" in refusal(lambda: record(date(2021, 5, 21)))
    assert Dose.objects.count() == 1


@pytest.mark.django_db
def test_dose_beyond_the_series_and_boosters_is_refused(setting):
    _resident, record = setting
    record(date(2021, 5, 1), "ad5-ncov")
    record(date(2021, 12, 1), "coronavac")
    record(date(2023, 1, 1), "coronavac")
    assert "全程" in refusal(lambda: record(date(2024, 6, 1)))


@pytest.mark.django_db
def test_future_date_is_refused(setting):
    _resident, record = setting
    assert "未来" in refusal(lambda: record(timezone.localdate() + timedelta(days=1)))


@pytest.mark.django_db
def test_deceased_resident_is_refused(setting):
    resident, record = setting
    Resident.objects.filter(pk=resident.pk).update(status=ResidentStatus.DECEASED)
    assert "死亡" in refusal(lambda: record(date(2021, 5, 1)))


@pytest.mark.django_db
def test_unknown_or_withdrawn_product_is_refused(setting):
    _resident, record = setting
    assert "疫苗" in refusal(lambda: record(date(2021, 5, 1), "no-such-product"))
    VaccineProduct.objects.filter(code="wibp").update(active=False)
    assert refusal(lambda: record(date(2021, 5, 1), "wibp"))


@pytest.mark.django_db
def test_series_continues_with_a_vaccine_of_the_same_kind(setting):
    _resident, record = setting
    record(date(2021, 5, 1), "coronavac")
    assert refusal(lambda: record(date(2021, 6, 1), "zf2001"))
    record(date(2021, 6, 1), "bibp")


@pytest.mark.django_db(transaction=True)
def test_two_sites_recording_the_same_dose_at_once_store_it_once(setting):
    _resident, record = setting
    outcomes = []
    barrier = threading.Barrier(2)

    def attempt():
        barrier.wait()
        try:
            record(date(2021, 5, 1))
            outcomes.append("stored")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Dose.objects.count() == 1
    assert sorted(outcomes) == ["refused", "stored"]


@pytest.mark.django_db
def test_staff_of_another_site_may_not_record_here(setting, tree, make_user):
    resident, _record = setting
    elsewhere = make_user(Role.SITE_STAFF, tree.other_site)
    with pytest.raises(PermissionDenied):
        dose_record(
            resident=resident,
            product=VaccineProduct.objects.get(code="coronavac"),
            given_on=date(2021, 5, 1),
            site=tree.site,
            by=elsewhere,
        )
    assert not Dose.objects.exists()


@pytest.mark.django_db
def test_a_dose_ends_a_refusal_and_its_reason(setting, tree, make_user):
    resident, record = setting
    official = make_user(Role.TOWN_OFFICIAL, tree.town)
    resident_status_change(
        resident=resident,
        status=ResidentStatus.REFUSED,
        unvaccinated_reason=UnvaccinatedReason.UNWILLING,
        by=official,
    )
    record(date(2021, 5, 1))
    resident.refresh_from_db()
    assert (resident.status, resident.unvaccinated_reason) == (ResidentStatus.PRESENT, "")


@pytest.mark.django_db
def test_an_imported_dose_ends_a_refusal_but_leaves_another_status(tree):
    refuser = resident_create(name="拒甲", id_number=id_number(date(1950, 1, 2)), grid=tree.grid)
    away = resident_create(name="外出乙", id_number=id_number(date(1951, 1, 2)), grid=tree.grid)
    Resident.objects.filter(pk=refuser.pk).update(
        status=ResidentStatus.REFUSED, unvaccinated_reason=UnvaccinatedReason.UNWILLING
    )
    Resident.objects.filter(pk=away.pk).update(
        status=ResidentStatus.AWAY, unvaccinated_reason=UnvaccinatedReason.NO_RESOURCE
    )
    add_dose(Resident.objects.get(pk=refuser.pk), date(2021, 5, 1))
    add_dose(Resident.objects.get(pk=away.pk), date(2021, 5, 1))
    refuser.refresh_from_db()
    away.refresh_from_db()
    assert (refuser.status, refuser.unvaccinated_reason) == (ResidentStatus.PRESENT, "")
    assert (away.status, away.unvaccinated_reason) == (ResidentStatus.AWAY, "")
