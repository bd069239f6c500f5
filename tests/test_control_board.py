"""The 底清数明 board (DESIGN.md §8 `control_board`) on a fixture whose answers were
worked out by hand, including the day a phase ends."""

import json
from datetime import date, datetime
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from epidispatch.control.models import ControlArea, ControlPolicy
from epidispatch.control.selectors import board_figures, control_board
from epidispatch.control.services import (
    case_release,
    case_test_record,
    case_transfer,
    health_check_record,
)

from .control_fixtures import *  # noqa: F403 - the fixtures
from .control_fixtures import register

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def cases(tree, policies):
    """第九版 cases (the phases in the comments are what §8's counting gives):

    A 密接 07-01, grid:          centralized 07-02…07-08, monitoring 07-09…07-11
    B 密接 06-28, grid:          centralized 06-29…07-05, monitoring 07-06…07-08
    C 次密接 07-03, sibling grid: home isolation 07-04…07-10
    D 中风险来返 06-29, grid:     home isolation 06-30…07-06
    E 高风险来返 07-07, other town: centralized 07-08…07-14
    F 密接 07-05 registered 07-10: not known on 07-08
    G 密接 07-01 in the other county
    """
    return {
        "A": register(sequence=1, grid=tree.grid, reference=date(2022, 7, 1)),
        "B": register(sequence=2, grid=tree.grid, reference=date(2022, 6, 28)),
        "C": register(sequence=3, grid=tree.sibling_grid, category="secondary_contact",
                      reference=date(2022, 7, 3)),
        "D": register(sequence=4, grid=tree.grid, category="medium_risk_arrival",
                      reference=date(2022, 6, 29)),
        "E": register(sequence=5, grid=tree.other_grid, category="high_risk_arrival",
                      reference=date(2022, 7, 7)),
        "F": register(sequence=6, grid=tree.grid, reference=date(2022, 7, 5),
                      registered=date(2022, 7, 10)),
        "G": register(sequence=7, grid=tree.far_grid, reference=date(2022, 7, 1)),
    }  # fmt: skip


def figures(c, h, m, ending, ended):
    return {"centralized_isolation": c, "home_isolation": h, "home_monitoring": m,
            "ending_today": ending, "ended": ended}  # fmt: skip


def test_the_town_on_the_day_a_centralized_phase_and_a_last_phase_end(tree, cases):
    # A's last centralized day, B's last monitoring day, C isolated, D ended on 07-06.
    assert board_figures(tree.town, date(2022, 7, 8)) == figures(1, 1, 1, 1, 1)


def test_the_town_the_day_after_a_phase_ends_moves_people_to_the_next_phase(tree, cases):
    # A moves to monitoring, B has ended, F is known but exposed 07-05: centralized.
    assert board_figures(tree.town, date(2022, 7, 10)) == figures(1, 1, 1, 1, 2)
    assert board_figures(tree.town, date(2022, 7, 9)) == figures(0, 1, 1, 0, 2)


def test_the_county_counts_every_town_and_never_another_county(tree, cases):
    assert board_figures(tree.county, date(2022, 7, 8)) == figures(2, 1, 1, 1, 1)
    assert board_figures(tree.other_county, date(2022, 7, 8)) == figures(1, 0, 0, 0, 0)


def test_the_command_prints_exactly_the_keys_of_section_8(tree, cases):
    out = StringIO()
    call_command("control_board", tree.town.code, "--as-of", "2022-07-08", "--json", stdout=out)
    assert json.loads(out.getvalue()) == figures(1, 1, 1, 1, 1)


def test_a_person_with_two_cases_is_counted_once_per_figure(tree, cases):
    register(sequence=1, grid=tree.grid, category="high_risk_arrival", reference=date(2022, 7, 2))
    assert board_figures(tree.town, date(2022, 7, 8)) == figures(1, 1, 1, 1, 1)


def test_a_transfer_counts_the_person_in_centralized_isolation_until_the_phase_ends(
    tree, cases, officer
):
    case_transfer(case=cases["C"], on=date(2022, 7, 8), place="县隔离酒店", by=officer)
    assert board_figures(tree.town, date(2022, 7, 8)) == figures(2, 0, 1, 1, 1)
    assert board_figures(tree.town, date(2022, 7, 7)) == figures(1, 1, 1, 0, 1)


def test_check_ins_tests_due_and_missed_check_ins_on_the_board(tree, cases, worker, officer):
    day = date(2022, 7, 8)
    health_check_record(case=cases["A"], day=day, temperature=Decimal("36.5"), by=worker)
    case_test_record(case=cases["A"], day=day, result="negative", by=worker)
    morning = datetime(2022, 7, 8, 10, 0, tzinfo=SHANGHAI)
    evening = datetime(2022, 7, 8, 18, 30, tzinfo=SHANGHAI)
    board = control_board(officer, tree.town, day, now=morning)
    # A and B have a test day on 07-08 (A centralized day 7, B monitoring day 3).
    assert (board.checked_in, board.missed_checkins, board.tests_due, board.tests_missing) == (
        1, 0, 2, 1)  # fmt: skip
    board = control_board(officer, tree.town, day, now=evening)
    assert board.missed_checkins == 2  # B and C, flagged from 18:00


def test_kept_past_the_end_and_released_early_are_flagged_with_the_town(
    tree, cases, worker, officer
):
    case = cases["B"]
    for day in ("06-29", "06-30", "07-01", "07-03", "07-05", "07-08"):
        case_test_record(case=case, day=date.fromisoformat(f"2022-{day}"), result="negative",
                         by=worker)  # fmt: skip
    board = control_board(officer, tree.county, date(2022, 7, 9))
    assert [(f.kind, f.case.pk, f.unit, f.days) for f in board.flags] == [
        ("overreach", cases["D"].pk, "平襄镇", 3),
        ("overreach", case.pk, "平襄镇", 1),
    ]
    case_release(case=case, on=date(2022, 7, 8), by=worker)
    cases["C"].released_on = date(2022, 7, 8)  # an edit in the admin, before its end
    cases["C"].save()
    board = control_board(officer, tree.county, date(2022, 7, 9))
    assert [(f.kind, f.case.pk, f.days) for f in board.flags] == [
        ("overreach", cases["D"].pk, 3),
        ("gap", cases["C"].pk, 2),
    ]


def test_a_high_risk_area_is_lowered_after_7_quiet_days_and_3_more_under_the_ninth_version(
    tree, officer
):
    area = ControlArea.objects.create(
        name="北关社区", unit=tree.village, level="high", policy=ControlPolicy.objects.get(
            name="第九版"), started_on=date(2022, 6, 30), last_case_on=date(2022, 7, 1),
        county_code="621121",
    )  # fmt: skip
    levels = {
        day: control_board(officer, tree.town, date(2022, 7, day)).areas[0].level
        for day in (8, 9, 11, 12)
    }
    assert levels == {8: "high", 9: "medium", 11: "medium", 12: "low"}
    area.policy = ControlPolicy.objects.get(name="二十条")
    area.save()
    assert control_board(officer, tree.grid, date(2022, 7, 6)).areas[0].level == "high"
    assert control_board(officer, tree.grid, date(2022, 7, 7)).areas[0].level == "low"
