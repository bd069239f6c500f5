"""The demo county gives the demo inspector a round and 鸡川镇 a problem to rectify."""

import pytest

from epidispatch.accounts.models import User
from epidispatch.demo import generator
from epidispatch.inspection.demo import load_inspection
from epidispatch.inspection.models import KeyPlace, Problem

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"


def test_the_demo_inspector_sees_the_towns_places_and_the_town_its_problem(client):
    generator.load_units()
    generator.load_users()
    assert load_inspection() == 5
    assert load_inspection() == 0
    assert KeyPlace.objects.count() == 5 and Problem.objects.count() == 1
    client.force_login(User.objects.get(username="inspector"))
    home = client.get("/inspection/").content.decode()
    assert home.count("data-place=") == 5
    client.force_login(User.objects.get(username="town_jichuan"))
    problem = Problem.objects.get()
    page = client.get(f"/inspection/problems/{problem.pk}/").content.decode()
    assert 'action="/inspection/problems/' in page and "rectify/" in page
    client.force_login(User.objects.get(username="town_pingxiang"))
    assert client.get(f"/inspection/problems/{problem.pk}/").status_code == 404
