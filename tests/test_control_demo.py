"""The demo county's key persons (control/demo.py): useful to the demo accounts, once."""

import pytest
from django.utils import timezone

from epidispatch.accounts.models import User
from epidispatch.control.demo import load_control
from epidispatch.control.models import ContactCandidate, ControlCase
from epidispatch.control.selectors import area_summary, control_board, persons_under_measures
from epidispatch.demo import generator
from epidispatch.fieldwork.demo import load_fieldwork
from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.models import HouseholdMember

from .control_fixtures import policies  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db


def test_the_demo_gives_the_grid_worker_people_under_measures_and_the_officer_candidates(
    policies,  # noqa: F811 - the fixture
):
    generator.load_units()
    generator.load_users()
    generator.load_residents(300)
    generator.load_doses()
    load_fieldwork()
    # 300 residents leave two in the demo grid: two of them and the traveller.
    assert load_control() == 3
    grid = OrgUnit.objects.get(code="621121100001001")
    worker = User.objects.get(username="grid_worker")
    officer = User.objects.get(username="control")
    today = timezone.localdate()
    assert len(persons_under_measures(worker, grid, today)) == 3
    assert ContactCandidate.objects.filter(positive__person__name="刘某某").count() >= 1
    board = control_board(officer, OrgUnit.objects.get(code="621121"), today)
    assert board.centralized_isolation + board.home_isolation + board.home_monitoring == 3
    assert [row.level for row in board.areas] == ["high"]
    (area,) = area_summary(officer, OrgUnit.objects.get(code="621121"), today).rows
    assert area.residents == 2  # the grid's two residents live at 北关路18号
    assert HouseholdMember.objects.filter(household__address="北关路18号").count() == 2
    assert load_control() == 0
    assert ControlCase.objects.count() == 3
