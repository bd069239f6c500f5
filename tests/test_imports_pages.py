"""The import pages and API: real progress with the total rows, the takeover refused
through the API, lists whose query counts do not grow, nobody reads another town's batch."""

from datetime import date

import pytest
from huey.contrib.djhuey import HUEY

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.imports.models import ImportBatch, ImportState
from epidispatch.registry.models import Resident
from epidispatch.registry.services import resident_create

from .dose_files import RESIDENT_HEADERS, id_number, write_table

pytestmark = pytest.mark.django_db


def bearer(user) -> dict:
    _record, token = api_token_create(user=user, name="import script")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def immediate_tasks():
    HUEY.immediate = True
    yield
    HUEY.immediate = False


def batches(user, count: int, state=ImportState.DONE):
    path = user.role_assignments.get().unit.path
    return ImportBatch.objects.bulk_create(
        ImportBatch(kind="residents", file_name=f"f{i}.csv", uploaded_by=user, scope_path=path,
                    state=state, rows=10, rows_read=4)
        for i in range(count)
    )  # fmt: skip


def test_a_running_batch_shows_rows_checked_of_the_total(tree, make_user, client):
    official = make_user(Role.TOWN_OFFICIAL, tree.town)
    [batch] = batches(official, 1, ImportState.RUNNING)
    client.force_login(official)
    panel = client.get(f"/imports/{batch.pk}/progress/").content.decode()
    assert '<progress value="4" max="10">' in panel
    assert "已检查 4 / 10 行" in panel


def test_the_takeover_is_refused_through_the_api(
    tree, make_user, tmp_path, client, immediate_tasks
):
    number = id_number(date(1973, 1, 1))
    resident_create(name="平襄人", id_number=number, grid=tree.grid)
    jichuan = make_user(Role.TOWN_OFFICIAL, tree.other_town)
    rows = [["冒名", number, "13800000000", tree.other_grid.code, "", ""]]
    path = write_table(tmp_path / "r", RESIDENT_HEADERS, rows, "utf-8")

    with path.open("rb") as handle:
        response = client.post(
            "/api/v1/imports/residents", {"file": handle}, headers=bearer(jichuan)
        )

    assert response.status_code == 202, response.content
    answer = client.get(
        f"/api/v1/imports/batches/{response.json()['id']}", headers=bearer(jichuan)
    ).json()
    assert (answer["state"], answer["stored"], answer["rejected"]) == ("done", 0, 1)
    assert Resident.objects.get().grid == tree.grid


def test_a_kind_the_user_may_not_import_is_refused_through_the_api(tree, make_user, client):
    worker = make_user(Role.GRID_WORKER, tree.grid)
    response = client.post("/api/v1/imports/residents", {}, headers=bearer(worker))
    assert response.status_code in (403, 422)
    assert not ImportBatch.objects.exists()


def test_another_towns_batch_is_404_on_the_page_and_the_api(tree, make_user, client):
    [batch] = batches(make_user(Role.TOWN_OFFICIAL, tree.town), 1)
    stranger = make_user(Role.TOWN_OFFICIAL, tree.other_town)
    client.force_login(stranger)
    assert client.get(f"/imports/{batch.pk}/").status_code == 404
    assert client.get(f"/imports/{batch.pk}/errors.xlsx").status_code == 404
    assert (
        client.get(f"/api/v1/imports/batches/{batch.pk}", headers=bearer(stranger)).status_code
        == 404
    )
    assert client.get("/api/v1/imports/batches", headers=bearer(stranger)).json() == []


def test_the_import_page_and_the_api_list_query_counts_do_not_grow(
    tree, make_user, client, django_assert_num_queries
):
    official = make_user(Role.TOWN_OFFICIAL, tree.town)
    batches(official, 3)
    client.force_login(official)
    headers = bearer(official)
    client.get("/imports/")
    client.get("/api/v1/imports/batches", headers=headers)
    # 7: the upload form offers the key groups the official keeps (a declared option)
    with django_assert_num_queries(7) as page_small:
        client.get("/imports/")
    # 4: the token, its user and their roles are one statement
    with django_assert_num_queries(4) as api_small:
        client.get("/api/v1/imports/batches", headers=headers)
    batches(official, 60)
    with django_assert_num_queries(len(page_small.captured_queries)):
        page = client.get("/imports/").content.decode()
    with django_assert_num_queries(len(api_small.captured_queries)):
        listed = client.get("/api/v1/imports/batches", headers=headers).json()
    assert page.count("<tr data-batch=") == 50 and len(listed) == 63
