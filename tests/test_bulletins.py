"""The 日通报 bulletin (dispatch/bulletin/): read from its snapshot alone, numbered,
the same bytes every time, and only for those who hold a whole county or city."""

import io
import zipfile
from datetime import date, datetime

import polars as pl
import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from docx import Document
from openpyxl import load_workbook

from epidispatch.accountability.models import Accountability
from epidispatch.accountability.services import accountability_decide
from epidispatch.accounts.models import Role
from epidispatch.dispatch.bulletin import chart
from epidispatch.dispatch.bulletin.chart import cjk_font_path
from epidispatch.dispatch.bulletin.content import bulletin_content
from epidispatch.dispatch.bulletin.docx import DOCX_TYPE, bulletin_docx
from epidispatch.dispatch.bulletin.xlsx import XLSX_TYPE, bulletin_xlsx
from epidispatch.dispatch.models import Bulletin
from epidispatch.dispatch.services import snapshot_take, target_issue
from epidispatch.figures.rollups import rollups_recount
from epidispatch.orgunits.models import Responsibility, UnitKind
from epidispatch.orgunits.services import unit_create
from epidispatch.registry.models import Resident
from epidispatch.registry.services import resident_create
from epidispatch.vaccination.models import VaccineProduct
from epidispatch.vaccination.rules import load_rules
from epidispatch.vaccination.services import RESIDENT_SCHEMA, doses_settle, stored_doses

from .dose_files import id_number

DAY_1, DAY_2 = date(2021, 8, 5), date(2021, 8, 6)
ADULT, SENIOR = date(1991, 3, 1), date(1956, 3, 1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


def add_dose(resident: Resident, day: date, code: str = "coronavac") -> None:
    """Store the resident's next dose the way an import does."""
    existing = stored_doses([resident.pk])
    product = VaccineProduct.objects.get(code=code)
    new = pl.DataFrame(
        [
            {
                "resident_id": resident.pk,
                "dose_number": existing.height + 1,
                "product_id": product.pk,
                "given_on": day,
                "source": "import",
                "county_code": resident.county_code,
            }
        ]
    )
    residents = pl.DataFrame(
        [(resident.pk, resident.birth_date, resident.county_code)],
        schema=RESIDENT_SCHEMA,
        orient="row",
    )
    with transaction.atomic():
        doses_settle(new=new, existing=existing, residents=residents, rules=load_rules())


class Scenario:
    """Three towns of 通渭县 over two cutoffs (bottom N = 1, a summons after 2 in a row).

    | town   | residents (adults + 60+) | day 1 doses       | target day 2 | day 2 doses          |
    | 平襄镇 | 2 + 2                    | 1 adult, 1 senior | 2            | 1 adult, 1 senior    |
    | 鸡川镇 | 3 + 1                    | 1 adult           | 2            | none                 |
    | 常河镇 | 1 + 1                    | 1 adult           | 1            | 1 senior (CanSino)   |

    县邮政公司 is responsible for 平襄镇's grid. `extra` adds towns with residents, to
    measure the page at a bigger size.
    """

    def __init__(self, tree, dispatcher, *, extra: int = 0):
        rollups_recount(day=date(2021, 8, 4))
        county = tree.county
        third = unit_create(
            code="621121103000", name="常河镇", kind=UnitKind.TOWN, parent_code=county.code
        )
        third_village = unit_create(
            code="621121103001", name="常河村", kind=UnitKind.VILLAGE, parent_code=third.code
        )
        third_grid = unit_create(
            code="621121103001001",
            name="常河村第1网格",
            kind=UnitKind.GRID,
            parent_code=third_village.code,
        )
        self.towns = {"平襄镇": tree.town, "鸡川镇": tree.other_town, "常河镇": third}
        Responsibility.objects.create(unit=tree.department, grid=tree.grid)

        def people(grid, adults, seniors):
            return [
                resident_create(name="甲", id_number=id_number(born), grid=grid)
                for born in [ADULT] * adults + [SENIOR] * seniors
            ]

        a = people(tree.grid, 2, 2)
        b = people(tree.other_grid, 3, 1)
        c = people(third_grid, 1, 1)
        for index in range(extra):
            code = f"621121{110 + index:03d}000"
            unit_create(
                code=code, name=f"附加{index}镇", kind=UnitKind.TOWN, parent_code=county.code
            )
            village = unit_create(
                code=code[:9] + "001",
                name=f"附加{index}村",
                kind=UnitKind.VILLAGE,
                parent_code=code,
            )
            grid = unit_create(
                code=village.code + "001",
                name=f"附加{index}网格",
                kind=UnitKind.GRID,
                parent_code=village.code,
            )
            for person in people(grid, 3, 2)[:2]:
                add_dose(person, DAY_1)
        add_dose(a[0], DAY_1)
        add_dose(a[2], DAY_1)
        add_dose(b[0], DAY_1)
        add_dose(c[0], DAY_1)
        self.first = snapshot_take(at=at(DAY_1, 16))
        issued = at(DAY_1, 18)
        for name, doses in (("平襄镇", 2), ("鸡川镇", 2), ("常河镇", 1)):
            target_issue(unit=self.towns[name], day=DAY_2, doses=doses, by=dispatcher, at=issued)
        add_dose(a[1], DAY_2)
        add_dose(a[3], DAY_2)
        add_dose(c[1], DAY_2, code="ad5-ncov")
        self.second = snapshot_take(at=at(DAY_2, 16))
        self.bulletin = Bulletin.objects.get(snapshot=self.second)
        self.unvaccinated = b[1]


@pytest.fixture
def scenario(tree, dispatcher, settings):
    settings.EPIDISPATCH_BOTTOM_N = 1
    settings.EPIDISPATCH_BOTTOM_STREAK = 2
    return Scenario(tree, dispatcher)


def docx_text(data: bytes) -> tuple[list[str], list[list[list[str]]]]:
    document = Document(io.BytesIO(data))
    paragraphs = [p.text for p in document.paragraphs]
    tables = [[[cell.text for cell in row.cells] for row in t.rows] for t in document.tables]
    return paragraphs, tables


@pytest.mark.django_db
def test_each_snapshot_numbers_its_bulletin_in_order(scenario):
    numbers = [Bulletin.objects.get(snapshot=s).number for s in (scenario.first, scenario.second)]
    assert numbers == [1, 2]


@pytest.mark.django_db
def test_content_holds_the_figures_counted_by_hand(scenario, tree):
    content = bulletin_content(scenario.bulletin, tree.county)
    assert content.title == "通渭县新冠病毒疫苗接种工作日通报"
    assert content.number_text == "第2期"
    assert content.cutoff_text == "截至8月6日16:00"
    values = {line.key: line.text for line in content.figures}
    # 10 residents, all in the target population; 7 doses (4 on day 1, 3 on day 2), one each.
    assert values["doses"] == "7"
    assert values["doses_added"] == "3"
    assert values["target"] == "10"
    assert values["first_dose"] == "7"
    assert values["coverage"] == "70.00%"
    assert values["series_complete"] == "1"  # CanSino is a one-dose series
    assert values["series_rate"] == "10.00%"
    assert values["booster"] == "0"
    # 60+: 平襄镇 2 (both vaccinated), 鸡川镇 1 (not), 常河镇 1 (vaccinated on day 2).
    assert values["seniors_target"] == "4"
    assert values["seniors_covered"] == "3"
    assert values["seniors_coverage"] == "75.00%"
    assert values["seniors_series"] == "1"
    assert values["to_clear"] == "3"
    assert values["adults_to_clear"] == "3"
    assert content.summary.startswith(
        "截至8月6日16:00，全县累计接种新冠病毒疫苗7剂次，当日新增3剂次；"
        "已接种7人，占目标人群10人的70.00%；"
    )
    assert "60岁及以上目标人群4人，已接种3人（75.00%）" in content.summary
    assert "全县尚有3人待清零" in content.summary
    assert "3个单位下达了当日任务，1个未完成：鸡川镇。" in content.summary
    assert (
        "各乡镇（街道）中，接种率排名前列的是平襄镇、常河镇，排名靠后的是鸡川镇。"
        in content.summary
    )
    assert content.summary.endswith(
        "鸡川镇（接种率连续2期排名靠后）、县邮政公司（接种率连续2期排名靠后），提请启动约谈问责。"
    )


@pytest.mark.django_db
def test_rankings_keep_their_places_and_show_ties(scenario, tree):
    content = bulletin_content(scenario.bulletin, tree.county)
    coverage = content.table("towns", "coverage")
    assert [
        (r.place_text, r.unit_name, r.numerator, r.denominator, r.rate_text) for r in coverage.rows
    ] == [
        ("1（并列）", "平襄镇", 4, 4, "100.00%"),
        ("1（并列）", "常河镇", 2, 2, "100.00%"),
        ("3", "鸡川镇", 1, 4, "25.00%"),
    ]
    assert [r.doses_added for r in coverage.rows] == [2, 1, 0]
    target = content.table("towns", "target")
    assert [(r.place_text, r.unit_name, r.numerator, r.denominator) for r in target.rows] == [
        ("1（并列）", "平襄镇", 2, 2),
        ("1（并列）", "常河镇", 1, 1),
        ("3", "鸡川镇", 0, 2),
    ]
    assert [r.unit_name for r in content.below_target] == ["鸡川镇"]
    departments = content.table("departments", "coverage")
    assert [(r.place, r.unit_name, r.numerator, r.denominator) for r in departments.rows] == [
        (1, "县邮政公司", 4, 4)
    ]
    # In the bottom (N = 1) at both cutoffs: 鸡川镇 by coverage, and the only department.
    assert [(c.unit_name, c.measure, c.streak) for c in content.candidates] == [
        ("鸡川镇", "coverage", 2),
        ("县邮政公司", "coverage", 2),
    ]


@pytest.mark.django_db
def test_docx_has_title_summary_ranking_tables_and_a_chart(scenario, tree):
    content = bulletin_content(scenario.bulletin, tree.county)
    data = bulletin_docx(content)
    paragraphs, tables = docx_text(data)
    assert paragraphs[0] == "通渭县新冠病毒疫苗接种工作日通报"
    assert paragraphs[1] == "第2期"
    assert content.summary in paragraphs
    assert "累计接种新冠病毒疫苗7剂次，当日新增3剂次" in content.summary
    figures = dict(row for row in tables[0][1:])
    assert figures["累计接种（剂次）"] == "7"
    assert figures["当日新增（剂次）"] == "3"
    assert figures["已接种（人）"] == "7"
    assert figures["接种率"] == "70.00%"
    assert figures["60岁及以上已接种（人）"] == "3"
    assert figures["待清零（人）"] == "3"
    towns = tables[1]
    assert towns[0] == [
        "名次",
        "单位",
        "目标人群（人）",
        "已接种（人）",
        "接种率",
        "当日新增（剂次）",
    ]
    assert towns[1:] == [
        ["1（并列）", "平襄镇", "4", "4", "100.00%", "2"],
        ["1（并列）", "常河镇", "2", "2", "100.00%", "1"],
        ["3", "鸡川镇", "4", "1", "25.00%", "0"],
    ]
    assert [row[:2] + row[-1:] for row in tables[2][1:]] == [
        ["1（并列）", "平襄镇", "是"],
        ["1（并列）", "常河镇", "是"],
        ["3", "鸡川镇", "否"],
    ]
    assert tables[-1][1:] == [["鸡川镇", "接种率", "2"], ["县邮政公司", "接种率", "2"]]
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        images = [name for name in package.namelist() if name.startswith("word/media/")]
        assert len(images) == 1
        assert package.read(images[0]).startswith(b"\x89PNG\r\n\x1a\n")
    assert len(Document(io.BytesIO(data)).inline_shapes) == 1


@pytest.mark.django_db
def test_docx_goes_out_without_its_chart_when_no_cjk_font(scenario, tree, monkeypatch):
    monkeypatch.setattr(chart, "cjk_font_path", lambda: None)
    content = bulletin_content(scenario.bulletin, tree.county)
    paragraphs, _tables = docx_text(bulletin_docx(content))
    assert paragraphs[0] == "通渭县新冠病毒疫苗接种工作日通报"
    assert len(Document(io.BytesIO(bulletin_docx(content))).inline_shapes) == 0


def test_a_cjk_font_is_installed_for_the_chart():
    """scripts/ensure-fonts.sh installs one; without it the chart is left out."""
    assert cjk_font_path() is not None


@pytest.mark.django_db
def test_xlsx_has_the_same_figures_and_rankings(scenario, tree):
    content = bulletin_content(scenario.bulletin, tree.county)
    workbook = load_workbook(io.BytesIO(bulletin_xlsx(content)))
    summary = workbook["汇总"]
    assert summary["A1"].value == "通渭县新冠病毒疫苗接种工作日通报 第2期"
    assert summary["A3"].value == content.summary
    figures = {row[0]: row[1] for row in summary.iter_rows(min_row=6, values_only=True)}
    assert figures["累计接种（剂次）"] == 7
    assert figures["当日新增（剂次）"] == 3
    assert figures["目标人群（人）"] == 10
    assert figures["已接种（人）"] == 7
    assert figures["接种率"] == pytest.approx(0.7)
    assert figures["60岁及以上接种率"] == pytest.approx(0.75)
    assert figures["待清零（人）"] == 3
    towns = list(workbook["乡镇（街道）接种率"].iter_rows(min_row=2, values_only=True))
    assert towns == [
        ("1（并列）", "平襄镇", 4, 4, 1.0, 2),
        ("1（并列）", "常河镇", 2, 2, 1.0, 1),
        ("3", "鸡川镇", 4, 1, 0.25, 0),
    ]
    assert len(workbook["乡镇（街道）接种率"]._charts) == 1
    below = list(workbook["未完成当日任务"].iter_rows(min_row=2, values_only=True))
    assert below == [("鸡川镇", 2, 0, 0.0)]
    streaks = list(workbook["连续排名靠后"].iter_rows(min_row=2, values_only=True))
    assert streaks == [("鸡川镇", "接种率", 2), ("县邮政公司", "接种率", 2)]


@pytest.mark.django_db
def test_the_same_snapshot_gives_the_same_bytes_even_after_later_doses(scenario, tree):
    content = bulletin_content(scenario.bulletin, tree.county)
    docx, xlsx = bulletin_docx(content), bulletin_xlsx(content)
    assert bulletin_docx(content) == docx
    assert bulletin_xlsx(content) == xlsx

    add_dose(scenario.unvaccinated, date(2021, 8, 7))
    later = bulletin_content(Bulletin.objects.get(number=2), tree.county)
    assert later == content
    assert bulletin_docx(later) == docx
    assert bulletin_xlsx(later) == xlsx


@pytest.mark.django_db
def test_deciding_a_candidate_does_not_change_the_bulletin(scenario, tree, dispatcher):
    before = bulletin_content(scenario.bulletin, tree.county)
    case = Accountability.objects.get(ranking__snapshot=scenario.second, unit=tree.other_town)
    accountability_decide(case=case, confirm=True, by=dispatcher)
    assert bulletin_content(scenario.bulletin, tree.county) == before


@pytest.mark.django_db
def test_dispatcher_reads_the_page_and_downloads_both_files(client, scenario, dispatcher):
    client.force_login(dispatcher)
    listing = client.get(reverse("bulletin_list"))
    assert listing.status_code == 200
    assert b'data-bulletin="2"' in listing.content and b'data-bulletin="1"' in listing.content

    page = client.get(reverse("bulletin_detail", args=[2]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "通渭县新冠病毒疫苗接种工作日通报" in text and "第2期" in text
    assert 'data-figure="coverage"><span class="value">70.00%' in text

    docx = client.get(reverse("bulletin_docx", args=[2]))
    assert docx.status_code == 200
    assert docx["Content-Type"] == DOCX_TYPE
    assert docx["Content-Disposition"] == (
        "attachment; filename*=utf-8''"
        "%E9%80%9A%E6%B8%AD%E5%8E%BF%E6%97%A5%E9%80%9A%E6%8A%A5%E7%AC%AC2%E6%9C%9F_2021-08-06.docx"
    )
    assert docx.content == client.get(reverse("bulletin_docx", args=[2])).content
    xlsx = client.get(reverse("bulletin_xlsx", args=[2]))
    assert xlsx.status_code == 200
    assert xlsx["Content-Type"] == XLSX_TYPE
    assert "2021-08-06.xlsx" in xlsx["Content-Disposition"]


@pytest.mark.django_db
def test_a_leader_of_the_city_reads_each_county(client, scenario, tree, make_user):
    client.force_login(make_user(Role.LEADER, tree.city))
    listing = client.get(reverse("bulletin_list")).content.decode()
    assert 'data-bulletin="2" data-county="621121"' in listing
    assert 'data-bulletin="2" data-county="621122"' in listing
    page = client.get(reverse("bulletin_detail", args=[2]), {"county": tree.county.code})
    assert page.status_code == 200
    assert "通渭县新冠病毒疫苗接种工作日通报" in page.content.decode()
    other = client.get(reverse("bulletin_detail", args=[2]), {"county": tree.other_county.code})
    assert "陇西县新冠病毒疫苗接种工作日通报" in other.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["town", "grid"])
def test_town_officials_and_grid_workers_cannot_read_bulletins(
    client, scenario, tree, make_user, role
):
    user = (
        make_user(Role.TOWN_OFFICIAL, tree.town)
        if role == "town"
        else make_user(Role.GRID_WORKER, tree.grid)
    )
    client.force_login(user)
    assert client.get(reverse("bulletin_list")).status_code == 403
    for name in ("bulletin_detail", "bulletin_docx", "bulletin_xlsx"):
        assert client.get(reverse(name, args=[2])).status_code == 404, name
        query = {"county": tree.county.code}
        assert client.get(reverse(name, args=[2]), query).status_code == 404, name


@pytest.mark.django_db
def test_another_countys_dispatcher_reads_only_their_own_county(client, scenario, tree, make_user):
    client.force_login(make_user(Role.DISPATCHER, tree.other_county))
    for name in ("bulletin_detail", "bulletin_docx", "bulletin_xlsx"):
        response = client.get(reverse(name, args=[2]), {"county": tree.county.code})
        assert response.status_code == 404, name
    own = client.get(reverse("bulletin_detail", args=[2]))
    assert own.status_code == 200
    assert "通渭县" not in own.content.decode()
    assert "陇西县新冠病毒疫苗接种工作日通报" in own.content.decode()
    paragraphs, _tables = docx_text(client.get(reverse("bulletin_docx", args=[2])).content)
    assert paragraphs[0] == "陇西县新冠病毒疫苗接种工作日通报"
    assert not any("通渭县" in p for p in paragraphs)


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_log_in(client, scenario):
    for name, args in (("bulletin_list", []), ("bulletin_detail", [2]), ("bulletin_docx", [2])):
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_an_unknown_bulletin_is_a_404(client, scenario, dispatcher):
    client.force_login(dispatcher)
    assert client.get(reverse("bulletin_detail", args=[99])).status_code == 404


PAGE_QUERIES = 10


@pytest.mark.django_db
@pytest.mark.parametrize("extra", [0, 6])
def test_bulletin_page_queries_do_not_grow_with_the_county(
    client, tree, dispatcher, settings, django_assert_num_queries, extra
):
    settings.EPIDISPATCH_BOTTOM_N = 1
    settings.EPIDISPATCH_BOTTOM_STREAK = 2
    Scenario(tree, dispatcher, extra=extra)
    client.force_login(dispatcher)
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(reverse("bulletin_detail", args=[2]))
    assert response.status_code == 200
    assert response.content.count(b'data-ranking="towns:coverage"') == 1
    with django_assert_num_queries(7):
        assert client.get(reverse("bulletin_list")).status_code == 200


@pytest.mark.browser
def test_dispatcher_reads_a_bulletin_on_a_phone_and_downloads_it(
    tree, dispatcher, make_user, settings, live_server, tmp_path
):
    import os

    from playwright.sync_api import expect, sync_playwright

    from .test_browser import CHROMIUM, SCREENSHOTS

    settings.EPIDISPATCH_BOTTOM_N = 1
    settings.EPIDISPATCH_BOTTOM_STREAK = 2
    Scenario(tree, dispatcher)
    make_user(Role.LEADER, tree.county, username="county-leader")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(
            viewport={"width": 390, "height": 844}, accept_downloads=True, locale="zh-CN"
        )
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("用户名").fill("county-leader")
        page.get_by_label("密码").fill("secret-pass-1")
        page.get_by_role("button", name="登录").click()
        page.goto(f"{live_server.url}{reverse('bulletin_list')}")
        page.locator('tr[data-bulletin="2"] a').first.click()

        expect(page.get_by_role("heading", name="通渭县新冠病毒疫苗接种工作日通报")).to_be_visible()
        expect(page.locator(".bulletin-number")).to_have_text("第2期")
        expect(page.locator('[data-figure="coverage"] .value')).to_have_text("70.00%")
        towns = page.locator('[data-ranking="towns:coverage"] tbody tr')
        expect(towns).to_have_count(3)
        expect(towns.nth(2)).to_have_attribute("data-place", "3")
        expect(towns.nth(2)).to_have_class("bottom")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "bulletin-phone.png", full_page=True)
        page.set_viewport_size({"width": 1200, "height": 900})
        page.screenshot(path=SCREENSHOTS / "bulletin-desktop.png", full_page=True)
        with page.expect_download() as download_info:
            page.locator(".downloads a").first.click()
        download = download_info.value
        assert download.suggested_filename == "通渭县日通报第2期_2021-08-06.docx"
        saved = tmp_path / "bulletin.docx"
        download.save_as(saved)
        paragraphs, _tables = docx_text(saved.read_bytes())
        assert paragraphs[:2] == ["通渭县新冠病毒疫苗接种工作日通报", "第2期"]
        browser.close()
