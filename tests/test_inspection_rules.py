"""Inspections and rectification as specified by issue 21: who may inspect, who may
verify, when a problem escalates and what accountability case it opens."""

import io
import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from epidispatch.accountability.models import Accountability, CaseState, Cause
from epidispatch.accountability.services import (
    accountability_decide,
    accountability_record_pledge,
)
from epidispatch.accounts.models import Role
from epidispatch.inspection.models import (
    Evidence,
    InspectionKind,
    Problem,
    ProblemState,
    Rectification,
    RectificationOutcome,
)
from epidispatch.inspection.services import (
    ProblemInput,
    checklist_publish,
    problem_refer,
    problems_escalate,
    rectification_review,
    rectification_submit,
)

from .inspection_fixtures import *  # noqa: F403 - the fixtures
from .inspection_fixtures import MP4, inspect_with_problem, items_of, photo

pytestmark = pytest.mark.django_db


def test_an_inspector_outside_their_assignment_is_refused(inspector, team, other_mall):
    with pytest.raises(PermissionDenied):
        inspect_with_problem(other_mall, inspector)
    assert not Problem.objects.exists()


def test_an_inspector_of_a_team_assigned_to_the_town_inspects_its_places(inspector, team, mall):
    inspection = inspect_with_problem(mall, inspector, kind=InspectionKind.UNANNOUNCED)
    problem = inspection.problems.get()
    assert (problem.responsible_unit, problem.person_on_duty, problem.state) == (
        mall.responsible_unit,
        "李四",
        ProblemState.ASSIGNED,
    )
    assert inspection.team == team
    assert problem.evidence.get().content_type == "image/jpeg"


def test_a_team_assigned_only_a_place_inspects_that_place_and_no_other(
    tree, make_user, mall, other_mall
):
    from epidispatch.inspection.models import Team

    member = make_user(Role.INSPECTOR, tree.county)
    team = Team.objects.create(name="暗访组")
    team.members.add(member)
    team.places.add(other_mall)
    inspect_with_problem(other_mall, member, kind=InspectionKind.UNANNOUNCED)
    with pytest.raises(PermissionDenied):
        inspect_with_problem(mall, member)


def test_a_problem_found_by_a_team_needs_its_evidence(inspector, team, mall):
    item = items_of(mall)[0]
    with pytest.raises(ValidationError):
        from epidispatch.inspection.services import inspection_record

        inspection_record(
            place=mall,
            kind=InspectionKind.PLANNED,
            by=inspector,
            results={item.pk: False},
            problems=[ProblemInput(item=item, description="无人值守")],
        )
    assert not Problem.objects.exists()


def test_evidence_that_is_not_a_photo_or_video_is_refused_and_nothing_is_kept(
    inspector, team, mall, settings
):
    item = items_of(mall)[0]
    from epidispatch.inspection.services import inspection_record

    with pytest.raises(ValidationError):
        inspection_record(
            place=mall,
            kind=InspectionKind.PLANNED,
            by=inspector,
            results={item.pk: False},
            problems=[
                ProblemInput(item=item, evidence=[photo(), photo("x.jpg", b"MZ\x90\x00" * 10)])
            ],
        )
    assert not Problem.objects.exists()
    uploads = settings.MEDIA_ROOT
    assert not uploads.exists() or not any(p.is_file() for p in uploads.rglob("*"))


def test_a_video_is_accepted_as_evidence(inspector, team, mall):
    item = items_of(mall)[0]
    from epidispatch.inspection.services import inspection_record

    inspection = inspection_record(
        place=mall,
        kind=InspectionKind.UNANNOUNCED,
        by=inspector,
        results={item.pk: False},
        problems=[ProblemInput(item=item, evidence=[photo("值守.mp4", MP4)])],
    )
    assert Evidence.objects.get(problem__inspection=inspection).content_type == "video/mp4"


def test_the_responsible_unit_files_a_self_inspection_and_another_unit_cannot(
    tree, make_user, town_official, mall
):
    item = items_of(mall)[0]
    from epidispatch.inspection.services import inspection_record

    inspection = inspection_record(
        place=mall,
        kind=InspectionKind.SELF,
        by=town_official,
        results={item.pk: False},
        problems=[ProblemInput(item=item, description="自查发现未扫码")],
    )
    assert inspection.team is None and inspection.problems.count() == 1
    with pytest.raises(PermissionDenied):
        inspection_record(
            place=mall,
            kind=InspectionKind.SELF,
            by=make_user(Role.TOWN_OFFICIAL, tree.other_town),
            results={item.pk: True},
            problems=[],
        )


def test_an_inspection_keeps_its_checklist_version_when_the_checklist_changes(
    office, inspector, team, mall
):
    inspection = inspect_with_problem(mall, inspector)
    used = inspection.checklist.version
    new = checklist_publish(
        category=mall.category,
        items=["扫码查验", "测温"],
        effective_from=timezone.localdate(),
        by=office,
    )
    assert new.version == used + 1
    inspection.refresh_from_db()
    assert inspection.checklist.version == used
    assert inspection.results.count() == inspection.checklist.items.count() > 2
    assert [i.text for i in items_of(mall)] == ["扫码查验", "测温"]


def test_only_the_office_edits_checklists(inspector, mall_category):
    with pytest.raises(PermissionDenied):
        checklist_publish(
            category=mall_category,
            items=["测温"],
            effective_from=timezone.localdate(),
            by=inspector,
        )


# Rectification (整改).


@pytest.fixture
def problem(inspector, team, mall):
    return inspect_with_problem(mall, inspector).problems.get()


def submit(problem, by):
    return rectification_submit(
        problem=problem, note="已安排专人扫码查验", evidence=[photo("整改.jpg")], by=by
    )


def test_the_submitting_unit_cannot_verify_its_own_rectification(
    problem, town_official, make_user, tree
):
    rectification = submit(problem, town_official)
    with pytest.raises(PermissionDenied):
        rectification_review(rectification=rectification, verify=True, by=town_official)
    colleague = make_user(Role.TOWN_OFFICIAL, tree.town)
    with pytest.raises(PermissionDenied):
        rectification_review(rectification=rectification, verify=True, by=colleague)
    problem.refresh_from_db()
    assert problem.state == ProblemState.SUBMITTED


def test_the_office_never_verifies_what_it_submitted_itself(problem, office):
    from epidispatch.accounts.services import role_assign

    role_assign(user=office, role=Role.TOWN_OFFICIAL, unit=problem.responsible_unit)
    rectification = submit(problem, office)
    with pytest.raises(PermissionDenied):
        rectification_review(rectification=rectification, verify=True, by=office)


def test_a_rectification_sent_back_needs_a_reason_and_the_next_one_is_verified(
    problem, town_official, inspector
):
    first = submit(problem, town_official)
    with pytest.raises(ValidationError):
        rectification_review(rectification=first, verify=False, by=inspector)
    rectification_review(rectification=first, verify=False, by=inspector, reason="照片不清晰")
    problem.refresh_from_db()
    assert problem.state == ProblemState.IN_PROGRESS
    second = submit(problem, town_official)
    rectification_review(rectification=second, verify=True, by=inspector)
    problem.refresh_from_db()
    assert problem.state == ProblemState.VERIFIED and problem.verified_at is not None
    assert [r.outcome for r in Rectification.objects.order_by("pk")] == [
        RectificationOutcome.SENT_BACK,
        RectificationOutcome.VERIFIED,
    ]
    with pytest.raises(ValidationError):
        submit(problem, town_official)


def test_a_rectification_without_evidence_is_refused(problem, town_official):
    with pytest.raises(ValidationError):
        rectification_submit(problem=problem, note="已整改", evidence=[], by=town_official)


def test_another_unit_cannot_submit_the_rectification(problem, make_user, tree):
    with pytest.raises(PermissionDenied):
        submit(problem, make_user(Role.TOWN_OFFICIAL, tree.other_town))


def test_an_inspector_of_another_team_cannot_review(problem, town_official, make_user, tree):
    rectification = submit(problem, town_official)
    with pytest.raises(PermissionDenied):
        rectification_review(
            rectification=rectification, verify=True, by=make_user(Role.INSPECTOR, tree.town)
        )


# Escalation (逾期) and accountability.


def test_a_problem_one_minute_past_its_deadline_escalates_and_one_minute_before_does_not(
    inspector, team, mall
):
    deadline = timezone.now() + timedelta(days=2)
    problem = inspect_with_problem(mall, inspector, deadline=deadline).problems.get()
    assert problems_escalate(now=deadline - timedelta(minutes=1)) == []
    problem.refresh_from_db()
    assert problem.escalated_at is None
    assert not Accountability.objects.exists()

    assert problems_escalate(now=deadline + timedelta(minutes=1)) == [problem]
    problem.refresh_from_db()
    assert problem.escalated_at == deadline + timedelta(minutes=1)


def test_an_overdue_problem_makes_one_accountability_case_with_its_cause(
    inspector, team, mall, office
):
    deadline = timezone.now() + timedelta(days=1)
    problem = inspect_with_problem(mall, inspector, deadline=deadline).problems.get()
    later = deadline + timedelta(hours=1)
    problems_escalate(now=later)
    problems_escalate(now=later + timedelta(hours=1))
    case = Accountability.objects.get()
    assert (case.cause, case.cause_object, case.unit, case.persons, case.kind) == (
        Cause.OVERDUE_RECTIFICATION,
        problem,
        mall.responsible_unit,
        "李四",
        "summons",
    )
    assert case.state == CaseState.PROPOSED


def test_a_submitted_or_verified_problem_does_not_escalate(inspector, team, mall, town_official):
    deadline = timezone.now() + timedelta(days=1)
    problem = inspect_with_problem(mall, inspector, deadline=deadline).problems.get()
    submit(problem, town_official)
    assert problems_escalate(now=deadline + timedelta(minutes=1)) == []


def test_the_office_refers_a_problem_itself_and_records_the_pledge(problem, office):
    case = problem_refer(problem=problem, kind="public_criticism", by=office)
    assert problem_refer(problem=problem, by=office) == case
    assert (case.cause, case.kind, case.persons) == (
        Cause.INSPECTION_PROBLEM,
        "public_criticism",
        "李四",
    )
    accountability_decide(case=case, confirm=True, by=office, note="通报批评平襄镇")
    closed = accountability_record_pledge(
        case=case, pledge="三日内整改到位", deadline=timezone.localdate(), by=office
    )
    assert closed.state == CaseState.CLOSED
    assert [e.state for e in closed.events.all()] == [
        CaseState.PROPOSED,
        CaseState.DECIDED,
        CaseState.CLOSED,
    ]


def test_only_the_office_refers_a_problem(problem, inspector):
    with pytest.raises(PermissionDenied):
        problem_refer(problem=problem, by=inspector)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    offsets=st.lists(st.integers(min_value=-3000, max_value=3000), min_size=1, max_size=4),
    states=st.lists(st.sampled_from(ProblemState.values), min_size=4, max_size=4),
)
def test_exactly_the_open_problems_past_their_deadline_escalate_once(
    inspector, team, mall, offsets, states
):
    Problem.objects.all().delete()
    Accountability.objects.all().delete()
    now = timezone.now()
    problems = []
    for offset, state in zip(offsets, states, strict=False):
        deadline = now + timedelta(minutes=offset)
        problem = inspect_with_problem(
            mall, inspector, done_at=deadline - timedelta(days=1), deadline=deadline
        ).problems.get()
        Problem.objects.filter(pk=problem.pk).update(state=state)
        problems.append((problem.pk, offset, state))
    escalated = {p.pk for p in problems_escalate(now=now)}
    expected = {
        pk for pk, offset, state in problems if offset < 0 and state in ("assigned", "in_progress")
    }
    assert escalated == expected
    assert problems_escalate(now=now) == []
    assert set(Accountability.objects.values_list("cause_id", flat=True)) == expected


def test_the_escalation_command_prints_what_it_escalated(inspector, team, mall):
    overdue = inspect_with_problem(
        mall,
        inspector,
        done_at=timezone.now() - timedelta(days=4),
        deadline=timezone.now() - timedelta(minutes=1),
    ).problems.get()
    out = io.StringIO()
    call_command("escalate_problems", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"escalated": 1, "problems": [overdue.pk]}
    out = io.StringIO()
    call_command("escalate_problems", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"escalated": 0, "problems": []}
