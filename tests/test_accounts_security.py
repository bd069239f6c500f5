"""Logins are protected (django-axes), passwords can be changed and reset, the demo's public
password is refused outside the demo, sessions end, and load_demo refuses production."""

import pytest
from django.conf import settings as django_settings

from epidispatch.accounts.models import Role
from epidispatch.accounts.passwords import DEMO_PASSWORD
from epidispatch.accounts.services import user_create

from .cli import run

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


@pytest.fixture
def worker(tree, make_user):
    return make_user(Role.GRID_WORKER, tree.grid, username="gw")


def test_the_sixth_wrong_password_in_a_row_is_throttled_and_then_even_the_right_one(worker, client):
    for _attempt in range(5):
        response = client.post(LOGIN, {"username": "gw", "password": "wrong-password"})
        assert response.status_code == 200
    sixth = client.post(LOGIN, {"username": "gw", "password": "wrong-password"})
    assert sixth.status_code == 429
    assert "15" in sixth.content.decode()
    right = client.post(LOGIN, {"username": "gw", "password": "secret-pass-1"})
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_right_password_before_the_limit_resets_the_count(worker, client):
    for _attempt in range(5):
        client.post(LOGIN, {"username": "gw", "password": "wrong-password"})
    assert client.post(LOGIN, {"username": "gw", "password": "secret-pass-1"}).status_code == 302
    client.logout()
    for _attempt in range(5):
        client.post(LOGIN, {"username": "gw", "password": "wrong-password"})
    assert client.post(LOGIN, {"username": "gw", "password": "secret-pass-1"}).status_code == 302


def test_a_user_changes_their_password_on_the_password_page(worker, client):
    client.force_login(worker)
    assert client.get("/accounts/password_change/").status_code == 200
    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": "secret-pass-1",
            "new_password1": "Pingxiang-grid-2021",
            "new_password2": "Pingxiang-grid-2021",
        },
    )
    assert response.status_code == 302
    worker.refresh_from_db()
    assert worker.check_password("Pingxiang-grid-2021")


def test_the_demo_password_is_refused_outside_the_demo(worker, client, settings):
    settings.EPIDISPATCH_DEMO = False
    client.force_login(worker)
    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": "secret-pass-1",
            "new_password1": DEMO_PASSWORD,
            "new_password2": DEMO_PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "演示" in response.content.decode()
    worker.refresh_from_db()
    assert worker.check_password("secret-pass-1")


def test_an_administrator_resets_a_password_in_the_admin_under_the_same_policy(
    worker, client, tree, settings
):
    settings.EPIDISPATCH_DEMO = False
    admin = user_create(
        username="root", password="a-long-secret-9", roles=[(Role.DISPATCHER, tree.county)]
    )
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    url = f"/admin/accounts/user/{worker.pk}/password/"
    refused = client.post(url, {"password1": DEMO_PASSWORD, "password2": DEMO_PASSWORD})
    assert refused.status_code == 200
    assert client.post(url, {"password1": "Reset-by-admin-77", "password2": "Reset-by-admin-77"})
    worker.refresh_from_db()
    assert worker.check_password("Reset-by-admin-77")


def test_a_login_lasts_a_working_day_at_most_and_ends_with_the_browser(worker, client):
    assert django_settings.SESSION_COOKIE_AGE <= 8 * 60 * 60
    assert django_settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    client.post(LOGIN, {"username": "gw", "password": "secret-pass-1"})
    assert client.session.get_expire_at_browser_close()
    assert client.session.get_expiry_age() <= 8 * 60 * 60


@pytest.mark.django_db(transaction=True)
class TestLoadDemo:
    def test_refused_with_production_settings(self, monkeypatch):
        monkeypatch.delenv("EPIDISPATCH_DEMO", raising=False)
        result = run("load_demo", "--residents", "0")
        assert result.returncode != 0
        assert "--force" in result.stderr
        assert not run("units", "--json").stdout.strip("[]\n")

    def test_refused_beside_non_demo_data(self, monkeypatch, tree, make_user):
        monkeypatch.setenv("EPIDISPATCH_DEMO", "1")
        make_user(Role.DISPATCHER, tree.county, username="real-dispatcher")
        result = run("load_demo", "--residents", "0")
        assert result.returncode != 0
        assert "real-dispatcher" in result.stderr

    def test_force_loads_it_anyway(self, monkeypatch, tree, make_user):
        monkeypatch.delenv("EPIDISPATCH_DEMO", raising=False)
        make_user(Role.DISPATCHER, tree.county, username="real-dispatcher")
        result = run("load_demo", "--residents", "0", "--force")
        assert result.returncode == 0, result.stderr
