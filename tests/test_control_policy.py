"""Control policy as data (DESIGN.md §8): phases and test days by version, registration
under the version in force, categories a version does not manage refused."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from epidispatch.control.models import ControlCase, ControlPolicy, KeyPerson, PolicyPhase
from epidispatch.control.policy import build_plan, measure_on
from epidispatch.control.services import case_extend, case_register, key_person_resolve

from .control_fixtures import *  # noqa: F403 - the fixtures
from .control_fixtures import NINTH, TWENTY, register
from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db


def _plan(case):
    return [(p["measure"], p["first"], p["last"], p["test_days"]) for p in case.plan]


def test_a_close_contact_under_the_ninth_version_gets_7_days_centralized_then_3_monitored(
    tree, policies
):
    case = register(sequence=1, grid=tree.grid, reference=date(2022, 7, 1))
    assert case.policy.name == "第九版"
    assert _plan(case) == [
        ("centralized_isolation", "2022-07-02", "2022-07-08",
         ["2022-07-02", "2022-07-03", "2022-07-04", "2022-07-06", "2022-07-08"]),
        ("home_monitoring", "2022-07-09", "2022-07-11", ["2022-07-11"]),
    ]  # fmt: skip
    assert case.ends_on == date(2022, 7, 11)


def test_a_close_contact_under_the_twenty_measures_gets_5_days_then_3_at_home(tree, policies):
    case = register(sequence=1, grid=tree.grid, reference=date(2022, 11, 20))
    assert case.policy.name == "二十条"
    assert _plan(case) == [
        ("centralized_isolation", "2022-11-21", "2022-11-25",
         ["2022-11-21", "2022-11-22", "2022-11-23", "2022-11-25"]),
        ("home_isolation", "2022-11-26", "2022-11-28", ["2022-11-26", "2022-11-28"]),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("category", "ninth", "twenty"),
    [
        ("close_contact", [("centralized_isolation", 7), ("home_monitoring", 3)],
         [("centralized_isolation", 5), ("home_isolation", 3)]),
        ("secondary_contact", [("home_isolation", 7)], []),
        ("high_risk_arrival", [("centralized_isolation", 7)], [("home_isolation", 7)]),
        ("medium_risk_arrival", [("home_isolation", 7)], []),
        ("inbound", [("centralized_isolation", 7), ("home_monitoring", 3)],
         [("centralized_isolation", 5), ("home_isolation", 3)]),
    ],
)  # fmt: skip
def test_the_shipped_versions_hold_the_table_of_design_section_8(policies, category, ninth, twenty):
    def phases(name):
        return list(
            PolicyPhase.objects.filter(policy__name=name, category=category)
            .order_by("position")
            .values_list("measure", "days")
        )

    assert phases("第九版") == ninth
    assert phases("二十条") == twenty
    assert ControlPolicy.objects.get(name="第九版").effective_from == date(2022, 6, 28)
    assert ControlPolicy.objects.get(name="二十条").effective_from == date(2022, 11, 11)


def test_a_secondary_contact_registered_under_the_twenty_measures_is_refused_with_the_reason(
    tree, policies
):
    with pytest.raises(ValidationError) as refusal:
        register(sequence=1, grid=tree.grid, category="secondary_contact", reference=TWENTY)
    assert "二十条" in refusal.value.messages[0]
    assert not ControlCase.objects.exists()


def test_a_medium_risk_arrival_is_managed_under_the_ninth_version_only(tree, policies):
    assert register(sequence=1, grid=tree.grid, category="medium_risk_arrival", reference=NINTH)
    with pytest.raises(ValidationError):
        register(sequence=2, grid=tree.grid, category="medium_risk_arrival", reference=TWENTY)


def test_a_case_registered_under_the_ninth_version_keeps_its_dates_after_the_twenty_measures(
    tree, policies
):
    case = register(
        sequence=1, grid=tree.grid, reference=date(2022, 11, 8), registered=date(2022, 11, 9)
    )
    before = _plan(case)
    assert case.policy.name == "第九版" and case.ends_on == date(2022, 11, 18)
    # On 11-12 the twenty measures are in force; the case still runs its 7 + 3 days.
    case.refresh_from_db()
    assert _plan(case) == before
    assert measure_on(case.plan, date(2022, 11, 14)) == "centralized_isolation"
    assert measure_on(case.plan, date(2022, 11, 16)) == "home_monitoring"
    # Someone exposed the same day but registered under the new version gets its dates.
    later = register(
        sequence=2, grid=tree.grid, reference=date(2022, 11, 8), registered=date(2022, 11, 12)
    )
    assert later.policy.name == "二十条" and later.ends_on == date(2022, 11, 16)


def test_an_administrator_adds_a_version_and_existing_cases_keep_theirs(tree, policies):
    case = register(sequence=1, grid=tree.grid, reference=date(2022, 12, 1))
    new = ControlPolicy.objects.create(name="第十版", effective_from=date(2023, 1, 8))
    PolicyPhase.objects.create(
        policy=new, category="close_contact", position=1, measure="home_isolation", days=2
    )
    later = register(sequence=2, grid=tree.grid, reference=date(2023, 1, 8))
    assert later.policy == new and later.ends_on == date(2023, 1, 10)
    case.refresh_from_db()
    assert case.policy.name == "二十条" and case.ends_on == date(2022, 12, 9)


def test_registering_the_same_person_category_and_reference_date_again_changes_nothing(
    tree, policies
):
    first = register(sequence=1, grid=tree.grid, reference=NINTH)
    again = register(sequence=1, grid=tree.grid, reference=NINTH, registered=NINTH)
    assert again.pk == first.pk
    another = register(sequence=1, grid=tree.grid, reference=NINTH + timedelta(days=20))
    assert another.pk != first.pk
    assert KeyPerson.objects.count() == 1 and ControlCase.objects.count() == 2


def test_a_resident_is_matched_to_the_registry_and_counted_in_their_own_grid(
    tree, policies, resident_a
):
    person = key_person_resolve(name="误名", id_number=id_number(1), grid=tree.other_grid)
    assert person.resident == resident_a
    assert person.grid == tree.grid and person.name == "张三"


def test_a_non_resident_without_a_grid_is_refused(tree, policies):
    with pytest.raises(ValidationError):
        key_person_resolve(name="李四", id_number=id_number(9))
    with pytest.raises(ValidationError):
        key_person_resolve(name="李四", id_number=id_number(9), grid=tree.village)


def test_an_exposure_after_the_registration_day_is_refused(tree, policies):
    with pytest.raises(ValidationError):
        register(sequence=1, grid=tree.grid, reference=NINTH, registered=NINTH - timedelta(1))


def test_a_grid_worker_may_not_register_and_another_countys_officer_may_not_either(
    tree, worker, far_officer
):
    person = key_person_resolve(name="李四", id_number=id_number(9), grid=tree.grid)
    for user in (worker, far_officer):
        with pytest.raises(PermissionDenied):
            case_register(
                person=person, category="close_contact", reference_date=NINTH,
                registered_on=NINTH, source="pushed", by=user,
            )  # fmt: skip


def test_a_stricter_measure_needs_a_recorded_decision_and_lengthens_the_last_phase(tree, officer):
    case = register(sequence=1, grid=tree.grid, reference=NINTH)
    with pytest.raises(ValidationError):
        case_extend(case=case, days=3, decision=" ", decided_on=NINTH, by=officer)
    case_extend(case=case, days=2, decision="县指挥部决定延长", decided_on=NINTH, by=officer)
    case.refresh_from_db()
    assert case.ends_on == date(2022, 7, 13) and case.extra_days == 2
    assert case.local_decision.startswith("2022-07-01")


@settings(max_examples=60, deadline=None)
@given(
    reference=st.dates(min_value=date(2022, 1, 1), max_value=date(2023, 12, 31)),
    lengths=st.lists(st.integers(min_value=1, max_value=14), min_size=1, max_size=3),
    offset=st.integers(min_value=-3, max_value=45),
)
def test_phases_follow_each_other_from_the_day_after_the_reference_date(reference, lengths, offset):
    phases = [
        PolicyPhase(position=n, measure=m, days=d, test_days=[1, d])
        for n, (m, d) in enumerate(zip(["a", "b", "c"], lengths, strict=False), start=1)
    ]
    plan = build_plan(phases, reference)
    day = reference + timedelta(days=offset)
    # Day k after the reference date falls in the phase whose cumulative length covers k.
    cumulative, expected = 0, None
    for phase in phases:
        if cumulative < offset <= cumulative + phase.days:
            expected = phase.measure
        cumulative += phase.days
    assert measure_on(plan, day) == expected
    assert plan[-1]["last"] == (reference + timedelta(days=sum(lengths))).isoformat()
