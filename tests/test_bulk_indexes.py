"""A first load rebuilds the doses' secondary indexes after its COPY, and a resident
locked once is not locked again in the same transaction (issue 20, round 3: core/bulk.py,
docs/imports.md "Indexes"); the database's guarantees hold throughout."""

import threading
import time
from datetime import date

import polars as pl
import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.core import bulk, protection
from epidispatch.core.protection import decrypt
from epidispatch.figures import rollups
from epidispatch.figures.models import Rollup
from epidispatch.figures.rollups import banded_on, rollups_recount
from epidispatch.imports.services import import_batch_create, import_batch_run
from epidispatch.registry.models import Resident, ResidentStatus
from epidispatch.registry.services import resident_create
from epidispatch.vaccination.models import Dose, VaccinationStatus, VaccineProduct
from epidispatch.vaccination.services import dose_record

from .dose_files import DOSE_HEADERS, dose_row, id_number, write_table
from .test_rollups import counted_in_python, live, recount

SINOVAC = "北京科兴中维生物技术有限公司"


@pytest.fixture
def rebuilding(monkeypatch):
    """Every large-enough COPY into Dose rebuilds its indexes and every lock is remembered,
    however few the rows."""
    monkeypatch.setattr(bulk, "REBUILD_FROM", 1)
    monkeypatch.setattr(bulk, "LOCK_REMEMBER_FROM", 1)
    monkeypatch.setattr(bulk, "SETWISE_FROM", 1)


def dose_indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'vaccination_dose'"
        )
        return dict(cursor.fetchall())


class Statements:
    """The SQL a block sends (connection.execute_wrapper)."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.sql.append(sql)
        return execute(sql, params, many, context)

    def dropped(self) -> int:
        return sum(sql.startswith("DROP INDEX") for sql in self.sql)


def people(tree, count: int, year: int = 1950) -> list[Resident]:
    return [
        resident_create(name=f"r{i}", id_number=id_number(date(year + i, 3, 1)), grid=tree.grid)
        for i in range(count)
    ]


def import_doses(tmp_path, residents, doses=(1, 2), name="doses", maker=SINOVAC):
    rows = [
        dose_row(
            id_number=decrypt(person.id_number_encrypted),
            given=f"2021-0{dose + 3}-01",
            dose=dose,
            maker=maker,
            lot=f"L{person.pk % 3}",
        )
        for person in residents
        for dose in doses
    ]
    for index, row in enumerate(rows):
        row[DOSE_HEADERS.index("疫苗追溯码")] = f"8{index:019d}"
    path = write_table(tmp_path / name, DOSE_HEADERS, rows, "utf-8")
    batch = import_batch_create(kind="doses", path=path, file_name=path.name)
    return import_batch_run(batch, path)


@pytest.mark.django_db
def test_a_first_load_rebuilds_the_secondary_indexes_and_leaves_them_as_they_were(
    tree, rebuilding, tmp_path
):
    before = dose_indexes()
    assert {"supply_dose_lot", "supply_dose_trace_code", "dose_natural_key"} <= set(before)
    statements = Statements()
    residents = people(tree, 20)
    with connection.execute_wrapper(statements):
        summary = import_doses(tmp_path, residents)

    assert summary.stored == 40
    assert statements.dropped() == 1  # one DROP INDEX statement for the secondary ones
    dropped = next(sql for sql in statements.sql if sql.startswith("DROP INDEX"))
    assert "supply_dose_trace_code" in dropped and "supply_dose_lot" in dropped
    assert "dose_natural_key" not in dropped and "pkey" not in dropped  # uniqueness stays
    assert "dose_batch_brin" not in dropped and "site_id" not in dropped  # cheap to keep
    assert dose_indexes() == before
    assert Dose.objects.filter(trace_code="80000000000000000003").count() == 1
    assert Dose.objects.filter(lot_number="L0").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('maintenance_work_mem')")
        assert cursor.fetchone()[0] != bulk.REBUILD_MEMORY  # set for the build alone


@pytest.mark.django_db
def test_a_load_into_a_table_larger_than_twice_the_file_keeps_the_indexes_in_place(
    tree, rebuilding, tmp_path
):
    import_doses(tmp_path, people(tree, 20), name="first")  # 40 doses stored
    statements = Statements()
    with connection.execute_wrapper(statements):
        summary = import_doses(tmp_path, people(tree, 10, year=1980), doses=(1,), name="more")

    assert summary.stored == 10
    assert statements.dropped() == 0  # 40 stored ≥ 2 × 10 copied
    assert Dose.objects.count() == 50


@pytest.mark.django_db
def test_a_failed_load_rolls_the_dropped_indexes_back_with_its_rows(tree, rebuilding):
    before = dose_indexes()
    resident = people(tree, 1)[0]
    product = VaccineProduct.objects.get(code="coronavac")
    frame = pl.DataFrame(
        {
            "resident_id": [resident.pk, resident.pk],
            "dose_number": [1, 1],  # the natural key twice: the unique index refuses it
            "product_id": [product.pk] * 2,
            "given_on": [date(2021, 5, 1)] * 2,
            "county_code": ["621121"] * 2,
            "created_at": [timezone.now()] * 2,
        }
    )
    with pytest.raises((IntegrityError, psycopg.IntegrityError)), transaction.atomic():
        bulk.insert_frame(Dose, frame, rebuild_indexes=("lot_number", "trace_code"))

    assert not Dose.objects.exists()
    assert dose_indexes() == before


def other_connection():
    db = connection.settings_dict
    return psycopg.connect(
        f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}", autocommit=True
    )


@pytest.mark.django_db(transaction=True)
def test_a_load_does_not_wait_for_the_tables_readers_it_keeps_the_indexes_instead(
    tree, rebuilding, monkeypatch, tmp_path
):
    """A reader holding the Dose table: the DROP gives up after REBUILD_LOCK_TIMEOUT and
    the COPY goes ahead with the indexes in place; the reader was never blocked."""
    monkeypatch.setattr(bulk, "REBUILD_LOCK_TIMEOUT", "200ms")
    before = dose_indexes()
    residents = people(tree, 5)
    with other_connection() as reader:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM vaccination_dose")
        statements = Statements()
        with connection.execute_wrapper(statements):
            summary = import_doses(tmp_path, residents)
        reader.execute("SELECT count(*) FROM vaccination_dose")  # not blocked meanwhile
        reader.execute("COMMIT")

    assert statements.dropped() == 1  # tried, timed out, rolled back to its savepoint
    assert summary.stored == 10
    assert dose_indexes() == before
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == "0"


@pytest.mark.django_db(transaction=True)
def test_rows_locked_once_are_not_locked_again_in_the_same_transaction(
    tree, rebuilding, django_assert_num_queries
):
    ids = [resident.pk for resident in people(tree, 3)]
    with transaction.atomic(), other_connection() as other:
        with django_assert_num_queries(2):  # the lock, the transaction's id
            bulk.lock_rows(Resident, ids)
        with django_assert_num_queries(1):  # is it still this transaction? yes: done
            bulk.lock_rows(Resident, ids[:2])
        other.execute("SET lock_timeout = '200ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):  # held all along
            other.execute("SELECT 1 FROM registry_resident WHERE id = %s FOR UPDATE", [ids[1]])
        with django_assert_num_queries(2):  # a row not among them: lock the set again
            bulk.lock_rows(Resident, [*ids, 0])
    # Another transaction holds nothing: lock again.
    with transaction.atomic(), django_assert_num_queries(3):
        bulk.lock_rows(Resident, ids)


@pytest.mark.django_db
def test_a_lock_taken_in_a_savepoint_rolled_back_is_taken_again(
    tree, rebuilding, django_assert_num_queries
):
    ids = [resident.pk for resident in people(tree, 3)]
    with transaction.atomic():
        with transaction.atomic():
            bulk.lock_rows(Resident, ids)
            transaction.set_rollback(True)  # the savepoint's row locks are released
        with django_assert_num_queries(2):  # no xid check: the savepoint is gone
            bulk.lock_rows(Resident, ids)


@pytest.mark.django_db(transaction=True)
def test_a_dose_recorded_during_an_import_waits_for_it_and_counts_once(
    tree, make_user, rebuilding, monkeypatch, tmp_path
):
    """The import locks its residents once (the figures' second lock is skipped) and
    drops and rebuilds the indexes: a site recording a dose for one of them meanwhile
    waits until the import commits, then records the next dose; the live figures count
    every dose once and equal a recount."""
    residents = people(tree, 10)
    staff = make_user(Role.SITE_STAFF, tree.site)
    product = VaccineProduct.objects.get(code="coronavac")
    outcome: list = []

    def record() -> None:
        try:
            dose = dose_record(
                resident=residents[0], product=product, given_on=date(2021, 12, 1),
                site=tree.site, by=staff,
            )  # fmt: skip
            outcome.append(dose.dose_number)
        except Exception as error:  # reported by the assertion below
            outcome.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=record)
    original = bulk._indexes_build

    def build_while_a_site_records(definitions):
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive() and not outcome  # waiting for the resident's lock
        original(definitions)

    monkeypatch.setattr(bulk, "_indexes_build", build_while_a_site_records)
    summary = import_doses(tmp_path, residents)
    thread.join(timeout=30)

    assert summary.stored == 20
    assert outcome == [3]
    assert Dose.objects.count() == 21
    assert Rollup.objects.aggregate(doses=Sum("doses"))["doses"] == 21
    assert live() == {leaf: values for leaf, values in recount().items() if any(values)}


def status_frame(resident_ids: list[int]) -> pl.DataFrame:
    product = VaccineProduct.objects.get(code="coronavac")
    return pl.DataFrame(
        {
            "resident_id": resident_ids,
            "county_code": ["621121"] * len(resident_ids),
            "doses": [1] * len(resident_ids),
            "series_product_id": [product.pk] * len(resident_ids),
            "first_dose_on": [date(2021, 5, 1)] * len(resident_ids),
            "last_dose_on": [date(2021, 5, 1)] * len(resident_ids),
        }
    )


@pytest.mark.django_db
def test_references_locked_and_found_by_lock_rows_are_not_checked_again(
    tree, rebuilding, django_assert_num_queries
):
    ids = [resident.pk for resident in people(tree, 3)]
    frame = status_frame(ids)
    with transaction.atomic():
        bulk.lock_rows(Resident, ids)
        with django_assert_num_queries(2):  # is it still this transaction? the product's
            bulk.references_lock(VaccinationStatus, frame)
    with transaction.atomic():
        bulk.lock_rows(Resident, [*ids, 0])  # one of them is missing: no guarantee
        with django_assert_num_queries(2):  # the residents', the product's
            bulk.references_lock(VaccinationStatus, frame)
    with transaction.atomic():
        bulk.lock_rows(Resident, ids[:2])
        with pytest.raises(IntegrityError, match="registry_resident"):  # a row not locked
            bulk.references_lock(VaccinationStatus, status_frame([*ids[:2], 10**9]))


def test_the_import_digests_are_the_one_by_one_digests(monkeypatch):
    """lookup_digests (the import's, HMAC from copied inner and outer hashes) gives what
    lookup_digest (hmac.new) gives, whatever the key's length."""
    values = ["", "621121198001010017", "62112119800101001X", "张三", "x" * 200]
    assert protection.lookup_digests(values) == [protection.lookup_digest(v) for v in values]
    for key in (b"", b"k" * 64, b"k" * 65, bytes(range(200))):
        monkeypatch.setattr(protection, "_lookup_key", lambda key=key: key)
        assert protection.lookup_digests(values) == [protection.lookup_digest(v) for v in values]


ZHIFEI = "安徽智飞龙科马生物制药有限公司"  # a series of three


@pytest.mark.django_db
def test_an_import_adding_doses_moves_the_figures_by_the_added_doses_alone(
    tree, rebuilding, monkeypatch, tmp_path
):
    """An import that only adds doses is counted once, from the doses it added, with no
    count of its residents before it: into residents without doses and into residents
    with doses stored, refused (the dose ends the refusal), away, and children. One that
    changes a stored dose (a first dose of a three-dose series under a stored second
    dose: that no longer completes the series) counts its residents before and after.
    Either way the figures equal an independent count."""
    monkeypatch.setattr(rollups, "ROW_TRACKING_LIMIT", 1)  # every import below is bulk
    calls: list[str] = []
    for name in ("_lock_and_count", "_lock_and_mark"):
        original = getattr(rollups, name)

        def spy(ids, _original=original, _name=name):
            calls.append(_name)
            return _original(ids)

        monkeypatch.setattr(rollups, name, spy)
    residents = people(tree, 8) + people(tree, 3, year=2012)  # 3 children of 9
    Resident.objects.filter(pk=residents[0].pk).update(status=ResidentStatus.REFUSED)
    Resident.objects.filter(pk=residents[1].pk).update(status=ResidentStatus.AWAY)
    rollups_recount()
    calls.clear()  # creating the residents counted each of them

    def settled() -> None:
        expected = counted_in_python(banded_on())
        assert live() == expected
        assert {leaf: v for leaf, v in recount().items() if any(v)} == expected

    assert import_doses(tmp_path, residents[:6], doses=(1,), name="first").stored == 6
    assert calls == ["_lock_and_mark"]
    settled()
    assert Resident.objects.get(pk=residents[0].pk).status == ResidentStatus.PRESENT

    # Second doses of four with one stored, first and second of the rest (none stored).
    summary = import_doses(tmp_path, residents[:4], doses=(1, 2), name="second")
    assert (summary.stored, summary.unchanged) == (4, 4)
    assert import_doses(tmp_path, residents[6:], doses=(1, 2), name="rest").stored == 10
    assert calls == ["_lock_and_mark"] * 3
    settled()

    # A stored second dose under a new first dose of a three-dose series: no longer the
    # series' last, so the import changes it and counts before and after.
    Dose.objects.filter(resident__in=residents[4:6]).delete()
    rollups_recount()
    import_doses(tmp_path, residents[4:6], doses=(2,), name="second_only")
    import_doses(tmp_path, residents[4:6], doses=(1,), name="zhifei_first", maker=ZHIFEI)
    assert calls == ["_lock_and_mark"] * 4 + ["_lock_and_count"]
    assert not Dose.objects.filter(resident=residents[4], completes_series=True).exists()
    settled()
