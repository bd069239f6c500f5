"""The rankings page once today's cutoff is taken, and the name of its fraction column."""

from datetime import date

import pytest
from django.urls import reverse

from epidispatch.accounts.models import Role
from epidispatch.dispatch.services import snapshot_take
from epidispatch.figures.rollups import rollups_recount
from epidispatch.registry.services import resident_create

from .dose_files import id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def city_dispatcher(tree, make_user, client):
    rollups_recount()
    user = make_user(Role.DISPATCHER, tree.city)
    client.force_login(user)
    return user


def test_the_cutoff_button_is_offered_until_today_is_frozen(city_dispatcher, client):
    html = client.get(reverse("rankings")).content.decode()
    assert f'action="{reverse("cutoff")}"' in html
    snapshot_take(by=city_dispatcher)
    html = client.get(reverse("rankings")).content.decode()
    assert f'action="{reverse("cutoff")}"' not in html
    assert 'data-cutoff="done"' in html
    assert "今日已于" in html


def test_the_fraction_column_has_one_name_on_desktop_and_phone(city_dispatcher, tree, client):
    resident_create(name="甲", id_number=id_number(date(1980, 1, 1)), grid=tree.grid)
    rollups_recount()
    snapshot_take(by=city_dispatcher)
    html = client.get(reverse("rankings")).content.decode()
    start = html.index('data-measure="coverage"')
    table = html[start : html.index("</table>", start)]
    assert '<th class="num">已接种/应接种人数</th>' in table  # the desktop header
    assert 'data-label="已接种/应接种人数"' in table  # the phone card's label
