"""Trace (流向追溯) and the 国家督察 quality rules, on a fixture with hand-computed answers:
site entries with scanned packs and an imported file, across two sites and two counties."""

import json
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import override

from epidispatch.accounts.models import Role
from epidispatch.core.protection import decrypt
from epidispatch.imports.services import import_batch_create, import_batch_run
from epidispatch.registry.services import resident_create
from epidispatch.supply.models import MoveKind, StockBalance, StockMove
from epidispatch.supply.selectors import lot_sites, lot_trace, quality_report, recall_list
from epidispatch.supply.services import stock_receive, stock_transfer
from epidispatch.vaccination.models import Dose
from epidispatch.vaccination.services import dose_delete, dose_record

from .cli import run
from .dose_files import DOSE_HEADERS, dose_row, id_number, write_table
from .supply_fixtures import *  # noqa: F403 - the fixtures
from .supply_fixtures import PACK_CODES

SINOVAC = "北京科兴中维生物技术有限公司"
TODAY = timezone.localdate()
D1, D2 = TODAY - timedelta(days=60), TODAY - timedelta(days=30)
IMPORTED_ON = TODAY - timedelta(days=50)
PERIOD = (TODAY - timedelta(days=70), TODAY - timedelta(days=40))


def on_hand(holder, lot) -> int:
    return StockBalance.objects.get(holder=holder, lot=lot).on_hand


@pytest.fixture
def people(tree):
    def person(name, grid, year):
        return resident_create(name=name, id_number=id_number(date(year, 3, 3)), grid=grid)

    return {
        "r1": person("甲", tree.grid, 1960),
        "r2": person("乙", tree.grid, 1961),
        "r3": person("丙", tree.grid, 1962),
        "r4": person("丁", tree.other_grid, 1963),
        "r5": person("戊", tree.far_grid, 1964),
    }


@pytest.fixture
def other_staff(tree, make_user):
    return make_user(Role.SITE_STAFF, tree.other_site, username="other-site-staff")


@pytest.fixture
def traced(tree, stocked, officer, staff, other_staff, people, tmp_path):
    """County store: 10 received, 6 to the site, 2 to the other site. Site entries: 甲 (two
    doses), 乙, 丁 with scanned packs. The file: 丙 with 甲's first pack again (overused),
    戊 with a 19-digit code (malformed), 乙's second dose with no code from lot 999X
    (missing code, unknown lot)."""
    stock_transfer(
        source=tree.county, target=tree.other_site, lot=stocked.lot, quantity=2, by=officer
    )

    def record(who, day, pack, site=tree.site, by=staff):
        return dose_record(
            resident=people[who], product=stocked.product, given_on=day, site=site, by=by,
            trace_code=pack,
        )  # fmt: skip

    record("r1", D1, PACK_CODES[0])
    record("r2", D1, PACK_CODES[1])
    record("r4", D1, PACK_CODES[2], site=tree.other_site, by=other_staff)
    record("r1", D2, PACK_CODES[3])

    def row(who, dose, lot, code, site):
        cells = dose_row(
            id_number=_number(people[who]), given=IMPORTED_ON.isoformat(), dose=dose, maker=SINOVAC,
            lot=lot,
        )  # fmt: skip
        cells[DOSE_HEADERS.index("疫苗追溯码")] = code
        cells[DOSE_HEADERS.index("接种单位编码")] = site.code
        return cells

    rows = [
        row("r3", 1, "202105A", PACK_CODES[0], tree.site),
        row("r5", 1, "202105A", "8123456000000000009", tree.other_site),
        row("r2", 2, "999X", "", tree.site),
    ]
    path = write_table(tmp_path / "doses", DOSE_HEADERS, rows, "utf-8")
    batch = import_batch_create(kind="doses", path=path, file_name=path.name, user=None)
    summary = import_batch_run(batch, path)
    assert summary.stored == 3
    stocked.path = path
    return stocked


def _number(resident) -> str:
    return decrypt(resident.id_number_encrypted)


@pytest.mark.django_db
def test_the_trace_of_a_lot_counts_doses_people_sites_and_the_ledger(tree, traced):
    assert lot_trace("202105A") == {
        "lot": "202105A",
        "product": "coronavac",
        "doses": 6,
        "residents": 5,
        "sites": [{"code": tree.site.code, "doses": 4}, {"code": tree.other_site.code, "doses": 2}],
        "received": 10,
        "on_hand": 4,
    }
    # The imported doses left the stock of the sites that gave them.
    assert (on_hand(tree.county, traced.lot), on_hand(tree.site, traced.lot)) == (2, 2)
    assert on_hand(tree.other_site, traced.lot) == 0


@pytest.mark.django_db(transaction=True)
def test_trace_lot_command_prints_the_figures_as_json(tree, traced):
    result = run("trace_lot", "202105A", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert list(figures) == ["lot", "product", "doses", "residents", "sites", "received", "on_hand"]
    assert (figures["doses"], figures["on_hand"]) == (6, 4)
    assert lot_trace("2021\x0005A" + "x" * 100)["doses"] == 0  # no NUL reaches the database
    unknown = json.loads(run("trace_lot", "NOPE", "--json").stdout)
    assert unknown == {
        "lot": "NOPE", "product": None, "doses": 0, "residents": 0, "sites": [], "received": 0,
        "on_hand": 0,
    }  # fmt: skip


@pytest.mark.django_db
def test_the_quality_rules_over_a_town_a_county_and_the_city(tree, traced):
    town = quality_report(tree.town, *PERIOD)
    assert town == {
        "doses": 4,  # 甲 1, 乙 1 and 2, 丙 1 (甲's second dose falls after the period)
        "missing_trace_code": 1,  # 乙 2
        "malformed_trace_code": 0,
        "trace_code_overused": 2,  # 甲 1 and 丙 1 share a one-dose pack
        "unknown_lot": 1,  # 乙 2: lot 999X
    }
    assert quality_report(tree.county, *PERIOD)["doses"] == 5  # 丁 of the other town
    city = quality_report(tree.city, *PERIOD)
    assert (city["doses"], city["malformed_trace_code"]) == (6, 1)  # 戊 of the other county


@pytest.mark.django_db(transaction=True)
def test_quality_report_command_keeps_the_keys_and_refuses_bad_dates(tree, traced):
    start, end = (day.isoformat() for day in PERIOD)
    result = run("quality_report", tree.town.code, "--from", start, "--to", end, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == quality_report(tree.town, *PERIOD)
    bad = run("quality_report", tree.town.code, "--from", "2021-13-01", "--to", end, "--json")
    assert bad.returncode != 0 and "YYYY-MM-DD" in bad.stderr


@pytest.mark.django_db
def test_a_recall_of_a_lot_used_at_several_sites_lists_the_people_in_scope(
    tree, traced, officer, make_user
):
    sites = lot_sites(officer, traced.lot)
    assert [(site.code, n) for site, n in sites] == [(tree.site.code, 4), (tree.other_site.code, 2)]
    names = [dose.resident.name for dose in recall_list(officer, traced.lot)]
    # By grid, then name; 戊 lives in another county.
    assert names == ["丙", "乙", "甲", "甲", "丁"]
    town = make_user(Role.TOWN_OFFICIAL, tree.other_town)
    assert [dose.resident.name for dose in recall_list(town, traced.lot)] == ["丁"]
    assert [site.code for site, _n in lot_sites(town, traced.lot)] == [tree.other_site.code]


@pytest.mark.django_db
def test_a_pack_used_once_more_than_it_holds_is_refused(tree, traced, staff, people):
    with override("zh-hans"), pytest.raises(ValidationError) as caught:
        dose_record(
            resident=people["r3"], product=traced.product, given_on=TODAY, site=tree.site,
            by=staff, trace_code=PACK_CODES[1],
        )  # fmt: skip
    assert "用完" in " ".join(caught.value.messages)
    assert not Dose.objects.filter(resident=people["r3"], dose_number=2).exists()


@pytest.mark.django_db
def test_an_unknown_code_and_an_expired_lot_are_refused_at_the_site(
    tree, stocked, officer, staff, people
):
    def attempt(code):
        with override("zh-hans"), pytest.raises(ValidationError) as caught:
            dose_record(
                resident=people["r1"], product=stocked.product, given_on=TODAY, site=tree.site,
                by=staff, trace_code=code,
            )  # fmt: skip
        return " ".join(caught.value.messages)

    assert "未知" in attempt("81234569999999999999")
    old = stock_receive(
        holder=tree.site, item=stocked.lot.item, lot_number="2020OLD",
        expires_on=TODAY - timedelta(days=1), quantity=1, by=staff,
        package_codes=("81234568888888888888",),
    )  # fmt: skip
    assert "过期" in attempt("81234568888888888888")
    assert old.lot.number == "2020OLD"
    assert not Dose.objects.exists()
    assert on_hand(tree.site, stocked.lot) == 6


@pytest.mark.django_db
def test_a_dose_deleted_in_error_goes_back_into_stock(tree, stocked, staff, people):
    dose = dose_record(
        resident=people["r1"], product=stocked.product, given_on=D1, site=tree.site, by=staff,
        trace_code=PACK_CODES[5],
    )  # fmt: skip
    assert on_hand(tree.site, stocked.lot) == 5
    dose_delete(dose=dose, by=staff, reason="录错人")
    assert on_hand(tree.site, stocked.lot) == 6
    assert StockMove.objects.filter(kind=MoveKind.REVERSAL, quantity=1).count() == 1


@pytest.mark.django_db
def test_a_site_out_of_a_lot_cannot_record_a_dose_from_it(tree, stocked, officer, staff, people):
    stock_transfer(
        source=tree.site, target=tree.other_site, lot=stocked.lot, quantity=6, by=officer
    )
    with pytest.raises(ValidationError):
        dose_record(
            resident=people["r1"], product=stocked.product, given_on=D1, site=tree.site,
            by=staff, trace_code=PACK_CODES[6],
        )  # fmt: skip
    assert not Dose.objects.exists()


@pytest.mark.django_db
def test_reimporting_the_same_file_moves_no_stock(tree, traced):
    moves = StockMove.objects.count()
    batch = import_batch_create(kind="doses", path=traced.path, file_name="again.csv", user=None)
    summary = import_batch_run(batch, traced.path)
    assert (summary.stored, summary.unchanged) == (0, 3)
    assert StockMove.objects.count() == moves
    assert on_hand(tree.site, traced.lot) == 2
