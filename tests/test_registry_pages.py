"""The registry's pages: residents, unmasking, recording doses, imports, the 清零 and due
lists with their exports, the audit log. Each refuses another town's data."""

import io
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import openpyxl
import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from stdnum.cn import ric

from epidispatch.accounts.models import Role
from epidispatch.audit.models import AuditAction, AuditEntry
from epidispatch.imports.models import ImportBatch, ImportState
from epidispatch.imports.services import import_batch_create, import_batch_run
from epidispatch.registry.models import Resident, UnvaccinatedReason
from epidispatch.registry.services import resident_create
from epidispatch.supply.services import stock_receive, supply_item_for_product
from epidispatch.vaccination.models import VaccineProduct
from epidispatch.vaccination.services import dose_record

from .dose_files import DOSE_HEADERS, dose_row, write_table

pytestmark = pytest.mark.django_db

MANUFACTURER = "北京科兴中维生物技术有限公司"


def id_number(sequence: int, birth: str = "19900101") -> str:
    """The same valid ID number for the same sequence, issued in 通渭县 before 2003 (622424)."""
    body = f"622424{birth}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def write_dose_file(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A dose CSV (DESIGN.md §7) of (name, ID number, vaccination day) rows, first doses."""
    return write_table(
        path,
        DOSE_HEADERS,
        [dose_row(name=n, id_number=i, given=d, dose="1", maker=MANUFACTURER) for n, i, d in rows],
        "utf-8",
    )


def wrong_check_digit(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


@pytest.fixture
def coronavac(db):
    return VaccineProduct.objects.get(code="coronavac")


@pytest.fixture
def official(tree, make_user):
    return make_user(Role.TOWN_OFFICIAL, tree.town)


@pytest.fixture
def other_official(tree, make_user):
    return make_user(Role.TOWN_OFFICIAL, tree.other_town)


@pytest.fixture
def site_staff(tree, make_user):
    return make_user(Role.SITE_STAFF, tree.site)


@pytest.fixture
def resident(tree):
    return resident_create(name="张三", id_number=id_number(1), phone="13812345678", grid=tree.grid)


@pytest.fixture
def stranger(tree):
    """A resident of 鸡川镇, the other town."""
    return resident_create(
        name="李四", id_number=id_number(2), phone="13987654321", grid=tree.other_grid
    )


@pytest.fixture
def immediate_tasks():
    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


@pytest.fixture
def other_town_batch(tmp_path, other_official, stranger):
    """A dose import of 鸡川镇's official, with one rejected row and its error report."""
    path = write_dose_file(
        tmp_path / "jichuan.csv",
        [
            ("李四", id_number(2), "2021-05-01"),
            ("王五", wrong_check_digit(id_number(3)), "2021-05-01"),
        ],
    )
    batch = import_batch_create(kind="doses", path=path, file_name=path.name, user=other_official)
    import_batch_run(batch, path)
    batch.refresh_from_db()
    assert Path(batch.error_report).is_file()
    return batch


def give_dose(resident, site, by, product, days_ago: int):
    return dose_record(
        resident=resident,
        product=product,
        given_on=timezone.localdate() - timedelta(days=days_ago),
        site=site,
        by=by,
    )


def page_of(response) -> str:
    return response.content.decode()


# Scope: another town's data is refused on every page, export and download.


@pytest.mark.parametrize(
    "url",
    [
        "/units/{town}/residents/",
        "/units/{town}/clearance/",
        "/units/{town}/clearance/?format=xlsx",
        "/units/{town}/due/",
        "/units/{town}/due/?format=xlsx",
        "/residents/{resident}/",
        "/imports/{batch}/",
        "/imports/{batch}/progress/",
        "/imports/{batch}/errors.xlsx",
    ],
)
def test_a_town_official_gets_nothing_of_another_town(
    url, tree, official, other_official, stranger, other_town_batch, client
):
    """Refused as if it did not exist, while the same address serves 鸡川镇's official."""
    url = url.format(town=tree.other_town.code, resident=stranger.pk, batch=other_town_batch.pk)
    client.force_login(official)
    response = client.get(url)
    assert response.status_code == 404
    assert stranger.name not in page_of(response)
    client.force_login(other_official)
    assert client.get(url).status_code == 200


def test_a_town_official_cannot_unmask_another_towns_resident(official, stranger, client):
    client.force_login(official)
    response = client.post(f"/residents/{stranger.pk}/unmask/")
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action=AuditAction.UNMASK_RESIDENT).exists()


def test_id_number_search_does_not_reach_another_town(tree, official, stranger, client):
    client.force_login(official)
    response = client.get(f"/units/{tree.town.code}/residents/", {"id_number": id_number(2)})
    assert response.status_code == 200
    assert "没有找到" in page_of(response)
    assert stranger.name not in page_of(response)


def test_the_ledger_lists_only_batches_in_scope(
    tree, official, other_official, other_town_batch, dispatcher, client
):
    client.force_login(official)
    assert "jichuan.csv" not in page_of(client.get("/imports/"))
    client.force_login(other_official)
    assert "jichuan.csv" in page_of(client.get("/imports/"))
    client.force_login(dispatcher)
    assert "jichuan.csv" in page_of(client.get("/imports/"))
    assert client.get(f"/imports/{other_town_batch.pk}/errors.xlsx").status_code == 200


# Residents of a unit.


def test_residents_list_shows_masked_data_and_doses(
    tree, official, resident, site_staff, coronavac, client
):
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=30)
    resident_create(name="赵六", id_number=id_number(4), grid=tree.sibling_grid)
    client.force_login(official)
    page = page_of(client.get(f"/units/{tree.town.code}/residents/"))
    assert "张三" in page
    assert "赵六" in page
    assert resident.id_number_masked in page
    assert id_number(1) not in page
    assert "13812345678" not in page
    row = page[page.index(f'data-resident="{resident.pk}"') :].split("</tr>")[0]
    assert row.rstrip().endswith('class="num">1</td>')


def test_residents_list_filters_by_grid_and_status(tree, official, resident, client):
    resident_create(name="赵六", id_number=id_number(4), grid=tree.sibling_grid)
    Resident.objects.filter(pk=resident.pk).update(status="away")
    client.force_login(official)
    url = f"/units/{tree.town.code}/residents/"
    by_grid = page_of(client.get(url, {"grid": tree.sibling_grid.code}))
    assert "赵六" in by_grid
    assert "张三" not in by_grid
    by_status = page_of(client.get(url, {"status": "away"}))
    assert "张三" in by_status
    assert "赵六" not in by_status


def test_exact_id_number_search_opens_the_resident(tree, official, resident, client):
    client.force_login(official)
    response = client.get(f"/units/{tree.town.code}/residents/", {"id_number": id_number(1)})
    assert response.status_code == 302
    assert response.url == f"/residents/{resident.pk}/"


def test_residents_home_goes_to_the_single_scope_root(tree, official, client):
    client.force_login(official)
    response = client.get("/residents/")
    assert response.url == f"/units/{tree.town.code}/residents/"


def _add_residents(grid, how_many: int, start: int) -> list[Resident]:
    return [
        resident_create(name=f"居民{number}", id_number=id_number(number), grid=grid)
        for number in range(start, start + how_many)
    ]


def test_residents_list_query_count_does_not_grow_with_the_list(
    tree, official, site_staff, coronavac, client, django_assert_num_queries
):
    first = _add_residents(tree.grid, 3, start=100)
    give_dose(first[0], tree.site, site_staff, coronavac, days_ago=30)
    client.force_login(official)
    url = f"/units/{tree.town.code}/residents/"
    client.get(url)
    with django_assert_num_queries(8) as small:  # the towns and villages to filter by: one
        client.get(url)
    more = _add_residents(tree.sibling_grid, 60, start=200)
    for person in more[:5]:
        give_dose(person, tree.site, site_staff, coronavac, days_ago=30)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url, {"page": 2})
    assert page_of(response).count("<tr data-resident=") == 63 - 50


# One resident, and unmasking.


def test_resident_page_shows_doses_and_the_next_dose(
    tree, official, resident, site_staff, coronavac, client
):
    dose = give_dose(resident, tree.site, site_staff, coronavac, days_ago=70)
    client.force_login(official)
    page = page_of(client.get(f"/residents/{resident.pk}/"))
    assert coronavac.name in page
    assert f"{dose.given_on:%Y-%m-%d}" in page
    assert "第2剂" in page
    assert "已逾期" in page
    assert "显示完整信息" in page
    assert id_number(1) not in page


def test_unmask_shows_the_clear_data_once_and_writes_one_audit_entry(
    tree, dispatcher, resident, client
):
    client.force_login(dispatcher)
    response = client.post(f"/residents/{resident.pk}/unmask/")
    assert response.status_code == 200
    assert id_number(1) in page_of(response)
    assert "13812345678" in page_of(response)
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action=AuditAction.UNMASK_RESIDENT)
    assert (entry.user, entry.ip_address) == (dispatcher, "127.0.0.1")
    assert id_number(1) not in page_of(client.get(f"/residents/{resident.pk}/"))
    audit = page_of(client.get("/audit/"))
    assert str(resident) in audit
    assert "127.0.0.1" in audit


def test_unmask_is_post_only(dispatcher, resident, client):
    client.force_login(dispatcher)
    assert client.get(f"/residents/{resident.pk}/unmask/").status_code == 405
    assert not AuditEntry.objects.filter(action=AuditAction.UNMASK_RESIDENT).exists()


def test_a_leader_cannot_unmask(tree, make_user, resident, client):
    client.force_login(make_user(Role.LEADER, tree.county))
    assert client.get(f"/residents/{resident.pk}/").status_code == 200
    response = client.post(f"/residents/{resident.pk}/unmask/")
    assert response.status_code == 403
    assert id_number(1) not in page_of(response)
    assert not AuditEntry.objects.filter(action=AuditAction.UNMASK_RESIDENT).exists()


def test_only_dispatchers_read_the_audit_log(tree, official, resident, make_user, client):
    client.force_login(official)
    assert client.post(f"/residents/{resident.pk}/unmask/").status_code == 200
    assert client.get("/audit/").status_code == 403
    client.force_login(make_user(Role.LEADER, tree.county))
    assert client.get("/audit/").status_code == 403


# Recording a dose at a site.


def dose_form(product, day, number: str = "") -> dict:
    return {
        "id_number": number or id_number(1),
        "product": product.pk,
        "given_on": f"{day:%Y-%m-%d}",
        "lot_number": "202105012",
        "trace_code": "81234567890123456789",
    }


def test_a_second_dose_too_early_is_refused_in_chinese(
    tree, site_staff, resident, coronavac, client
):
    first = give_dose(resident, tree.site, site_staff, coronavac, days_ago=10)
    client.force_login(site_staff)
    response = client.post(
        f"/sites/{tree.site.code}/doses/new/", dose_form(coronavac, timezone.localdate())
    )
    assert response.status_code == 200
    earliest = first.given_on + timedelta(days=21)
    assert f"时间过早：第2剂最早可于{earliest:%Y-%m-%d}接种" in page_of(response)
    assert resident.doses.count() == 1


def test_a_good_dose_is_recorded_and_shown_on_the_resident_page(
    tree, site_staff, official, resident, coronavac, client
):
    # The pack the form names was received at the site (supply refuses an unknown code).
    stock_receive(
        holder=tree.site, item=supply_item_for_product(coronavac), lot_number="202105012",
        expires_on=timezone.localdate() + timedelta(days=90), quantity=1, by=site_staff,
        package_codes=("81234567890123456789",),
    )  # fmt: skip
    client.force_login(site_staff)
    url = f"/sites/{tree.site.code}/doses/new/"
    assert f'value="{timezone.localdate():%Y-%m-%d}"' in page_of(client.get(url))
    response = client.post(url, dose_form(coronavac, timezone.localdate()))
    assert response.status_code == 302
    assert response.url == url
    assert "已登记" in page_of(client.get(url))
    client.force_login(official)
    page = page_of(client.get(f"/residents/{resident.pk}/"))
    assert "202105012" in page
    assert 'data-field="doses">1<' in page


def test_an_unknown_id_number_is_refused_on_the_form(tree, site_staff, coronavac, client):
    client.force_login(site_staff)
    response = client.post(
        f"/sites/{tree.site.code}/doses/new/",
        dose_form(coronavac, timezone.localdate(), number=id_number(9)),
    )
    assert response.status_code == 200
    assert "本县没有此身份证号码的居民" in page_of(response)


def test_only_the_sites_staff_record_doses(tree, make_user, official, client):
    client.force_login(make_user(Role.LEADER, tree.county))
    assert client.get(f"/sites/{tree.site.code}/doses/new/").status_code == 403
    client.force_login(official)
    assert client.get(f"/sites/{tree.site.code}/doses/new/").status_code == 403
    assert client.get(f"/sites/{tree.grid.code}/doses/new/").status_code == 404
    client.force_login(make_user(Role.SITE_STAFF, tree.other_site))
    assert client.get(f"/sites/{tree.site.code}/doses/new/").status_code == 404


# Imports.


def test_an_upload_is_imported_and_its_batch_page_shows_the_counts(
    tree, official, resident, tmp_path, immediate_tasks, client
):
    path = write_dose_file(
        tmp_path / "pingxiang.csv",
        [("张三", id_number(1), "2021-05-01"), ("王五", wrong_check_digit(id_number(3)), "")],
    )
    client.force_login(official)
    with path.open("rb") as handle:
        response = client.post("/imports/", {"kind": "doses", "file": handle})
    batch = ImportBatch.objects.get()
    assert response.url == f"/imports/{batch.pk}/"
    assert (batch.state, batch.stored, batch.rejected) == ("done", 1, 1)
    assert batch.scope_path == tree.town.path
    page = page_of(client.get(response.url))
    assert "完成" in page
    assert 'data-figure="stored">1<' in page
    assert 'hx-trigger="every 1s"' not in page
    report = client.get(f"/imports/{batch.pk}/errors.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(report.streaming_content))).active
    assert [cell.value for cell in sheet[2]][:2] == [3, "疫苗接种时间"]


def test_a_running_import_is_polled_with_the_vendored_htmx(official, tmp_path, client):
    path = write_dose_file(tmp_path / "queued.csv", [])
    batch = import_batch_create(kind="doses", path=path, file_name="queued.csv", user=official)
    client.force_login(official)
    page = page_of(client.get(f"/imports/{batch.pk}/"))
    assert '<script src="/static/web/vendor/htmx.min.js" defer></script>' in page
    assert f'hx-get="/imports/{batch.pk}/progress/" hx-trigger="every 1s"' in page
    assert "<progress></progress>" in page
    fragment = page_of(client.get(f"/imports/{batch.pk}/progress/"))
    assert fragment.lstrip().startswith('<section id="import-status"')
    assert 'hx-trigger="every 1s"' in fragment
    ImportBatch.objects.filter(pk=batch.pk).update(state=ImportState.FAILED, message="文件是空的。")
    fragment = page_of(client.get(f"/imports/{batch.pk}/progress/"))
    assert "hx-trigger" not in fragment
    assert "文件是空的。" in fragment


def test_an_upload_of_another_file_type_is_refused(official, client):
    client.force_login(official)
    upload = io.BytesIO(b"hello")
    upload.name = "notes.txt"
    response = client.post("/imports/", {"kind": "doses", "file": upload})
    assert response.status_code == 200
    assert "请上传 .xlsx、.xls 或 .csv 文件" in page_of(response)
    assert not ImportBatch.objects.exists()


# The 清零 and due lists.


@pytest.fixture
def unvaccinated(tree):
    people = [
        resident_create(name='=HYPERLINK("http://x")', id_number=id_number(11), grid=tree.grid),
        resident_create(name="陈七", id_number=id_number(12), grid=tree.grid),
        resident_create(name="周八", id_number=id_number(13), grid=tree.sibling_grid),
    ]
    Resident.objects.filter(pk=people[1].pk).update(
        unvaccinated_reason=UnvaccinatedReason.UNWILLING
    )
    return people


def test_clearance_list_counts_by_reason_and_filters(tree, official, unvaccinated, client):
    client.force_login(official)
    url = f"/units/{tree.town.code}/clearance/"
    page = page_of(client.get(url))
    assert 'data-figure="total">3<' in page
    unwilling = page[page.index('data-reason="1"') :].split("</a>")[0]
    assert '<span class="value">1</span>' in unwilling
    assert "无接种意愿" in unwilling
    none_recorded = page[page.index('data-reason="none"') :].split("</a>")[0]
    assert '<span class="value">2</span>' in none_recorded
    assert "未登记原因" in none_recorded
    assert 'href="?format=xlsx"' in page
    assert page_of(client.get(url, {"reason": "1"})).count("<tr data-resident=") == 1
    assert page_of(client.get(url, {"reason": "none"})).count("<tr data-resident=") == 2
    assert page_of(client.get(url, {"grid": tree.sibling_grid.code})).count("<tr data-res") == 1


def test_clearance_export_holds_masked_ids_and_defuses_formulas(
    tree, official, unvaccinated, client
):
    client.force_login(official)
    response = client.get(f"/units/{tree.town.code}/clearance/", {"format": "xlsx"})
    assert response.status_code == 200
    assert f"filename*=utf-8''{quote('平襄镇清零名单')}" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["网格", "姓名", "身份证号码"]
    assert sorted(row[2] for row in rows[1:]) == sorted(p.id_number_masked for p in unvaccinated)
    assert not any(id_number(n) in str(row) for row in rows for n in (11, 12, 13))
    formula = next(row[1] for row in rows if "HYPERLINK" in str(row[1]))
    assert formula == '\'=HYPERLINK("http://x")'


def test_clearance_list_query_count_does_not_grow_with_the_list(
    tree, official, client, django_assert_num_queries
):
    _add_residents(tree.grid, 3, start=100)
    client.force_login(official)
    url = f"/units/{tree.town.code}/clearance/"
    client.get(url)
    with django_assert_num_queries(8) as small:
        client.get(url)
    _add_residents(tree.sibling_grid, 60, start=200)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url, {"page": 2})
    assert page_of(response).count("<tr data-resident=") == 63 - 50


def test_due_list_shows_the_overdue_and_exports_them(
    tree, official, resident, site_staff, coronavac, client
):
    recent = resident_create(name="吴九", id_number=id_number(14), grid=tree.grid)
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=70)
    give_dose(recent, tree.site, site_staff, coronavac, days_ago=10)
    client.force_login(official)
    url = f"/units/{tree.town.code}/due/"
    page = page_of(client.get(url))
    assert page.count("<tr data-resident=") == 2
    assert page.count('class="overdue"') == 1
    overdue = page_of(client.get(url, {"overdue": "on"}))
    assert "张三" in overdue
    assert "吴九" not in overdue
    response = client.get(url, {"overdue": "on", "format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert [row[2] for row in rows[1:]] == [resident.id_number_masked]
    assert rows[1][-1] == "是"


def test_unit_page_links_to_the_registry_pages(tree, official, make_user, client):
    client.force_login(official)
    page = page_of(client.get(f"/units/{tree.town.code}/"))
    for path in ("residents", "clearance", "due"):
        assert f'href="/units/{tree.town.code}/{path}/"' in page
    assert 'href="/imports/"' in page
    client.force_login(make_user(Role.SITE_STAFF, tree.site))
    assert f'href="/sites/{tree.site.code}/doses/new/"' in page_of(
        client.get(f"/units/{tree.site.code}/")
    )


def test_only_dispatchers_officials_and_supply_officers_may_upload(
    tree, make_user, tmp_path, client
):
    """Dose files, that is: a grid worker uploads only the files of what they keep (the
    households and key-group members of their grid), so the form refuses the dose kind; a
    leader uploads nothing."""
    path = write_dose_file(tmp_path / "grid.csv", [("张三", id_number(1), "2021-05-01")])
    client.force_login(make_user(Role.LEADER, tree.county))
    assert 'type="file"' not in page_of(client.get("/imports/"))
    with path.open("rb") as handle:
        assert client.post("/imports/", {"kind": "doses", "file": handle}).status_code == 403
    client.force_login(make_user(Role.GRID_WORKER, tree.grid))
    assert 'value="doses"' not in page_of(client.get("/imports/"))
    with path.open("rb") as handle:
        refused = client.post("/imports/", {"kind": "doses", "file": handle})
    assert refused.status_code == 200
    assert 'class="errorlist' in refused.content.decode()
    assert not ImportBatch.objects.exists()
    client.force_login(make_user(Role.SUPPLY_OFFICER, tree.county))
    assert 'type="file"' in page_of(client.get("/imports/"))
