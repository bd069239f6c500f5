"""A large COPY checks its foreign keys set-wise and keeps the database's guarantees
(issue 20, the bulk path; core/bulk.py and docs/imports.md, "References")."""

import signal
import time
from datetime import date

import polars as pl
import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from epidispatch.core import bulk
from epidispatch.core.protection import decrypt
from epidispatch.figures.models import Rollup
from epidispatch.imports.models import ImportBatch, ImportState
from epidispatch.imports.services import import_batch_create, import_batch_run
from epidispatch.registry.models import Resident
from epidispatch.registry.services import resident_build, resident_create
from epidispatch.vaccination.models import Dose, VaccinationStatus, VaccineProduct

from .cli import start
from .dose_files import DOSE_HEADERS, dose_row, id_number, write_table

SINOVAC = MAKER = "北京科兴中维生物技术有限公司"


@pytest.fixture
def setwise(monkeypatch):
    """Every COPY takes the set-wise path, however few its rows."""
    monkeypatch.setattr(bulk, "SETWISE_FROM", 1)


def replication_role() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        return cursor.fetchone()[0]


def constraints(table: str) -> dict[str, tuple[bool, bool, bool]]:
    """Foreign keys of `table`: name → (validated, deferrable, initially deferred)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, convalidated, condeferrable, condeferred FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
            [table],
        )
        return {name: tuple(flags) for name, *flags in cursor.fetchall()}


def status_frame(resident_ids: list[int], product_id: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "resident_id": resident_ids,
            "county_code": ["621121"] * len(resident_ids),
            "doses": [1] * len(resident_ids),
            "series_product_id": [product_id] * len(resident_ids),
            "first_dose_on": [date(2021, 5, 1)] * len(resident_ids),
            "last_dose_on": [date(2021, 5, 1)] * len(resident_ids),
        }
    )


def number_of(resident) -> str:
    return decrypt(resident.id_number_encrypted)


def run_import(path):
    batch = import_batch_create(kind="doses", path=path, file_name=path.name)
    summary = import_batch_run(batch, path)
    batch.refresh_from_db()
    return summary, batch


@pytest.mark.django_db
def test_a_copy_referring_to_a_missing_row_stores_nothing_and_names_the_column(tree, setwise):
    resident = resident_create(name="甲", id_number=id_number(date(1970, 1, 1)), grid=tree.grid)
    product = VaccineProduct.objects.get(code="coronavac")
    missing = resident.pk + 1000

    with pytest.raises(IntegrityError, match=rf"resident_id .*\[{missing}\]"):
        bulk.insert_frame(VaccinationStatus, status_frame([resident.pk, missing], product.pk))

    assert not VaccinationStatus.objects.exists()
    assert replication_role() == "origin"
    with pytest.raises(IntegrityError, match="series_product_id"):
        bulk.insert_frame(VaccinationStatus, status_frame([resident.pk], product.pk + 1000))
    assert not VaccinationStatus.objects.exists()


@pytest.mark.django_db
def test_a_set_wise_copy_stores_every_row_and_leaves_the_constraints_as_they_were(tree, setwise):
    before = constraints("vaccination_vaccinationstatus")
    residents = [
        resident_create(name=f"r{i}", id_number=id_number(date(1960 + i, 1, 1)), grid=tree.grid)
        for i in range(3)
    ]
    product = VaccineProduct.objects.get(code="coronavac")
    with transaction.atomic():
        assert bulk.references_setwise(VaccinationStatus)
        bulk.insert_frame(VaccinationStatus, status_frame([r.pk for r in residents], product.pk))
        assert replication_role() == "origin"  # only the COPY ran without per-row checks

    assert VaccinationStatus.objects.count() == 3
    assert constraints("vaccination_vaccinationstatus") == before
    assert all(validated for validated, _d, _i in before.values()) and len(before) == 2


@pytest.mark.django_db
def test_the_row_checks_stay_where_the_set_wise_check_is_not_allowed(tree, setwise):
    """A role without SET on session_replication_role, or a table with a trigger or a rule
    of its own, keeps PostgreSQL's per-row checks."""
    assert bulk.references_setwise(Dose)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL ROLE pg_monitor")
        try:
            assert not bulk.references_setwise(Dose)
        finally:
            cursor.execute("RESET ROLE")
        cursor.execute(
            "CREATE FUNCTION bulk_test_noop() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ "
            "LANGUAGE plpgsql; CREATE TRIGGER bulk_test_noop BEFORE INSERT ON vaccination_dose "
            "FOR EACH ROW EXECUTE FUNCTION bulk_test_noop()"
        )
    assert not bulk.references_setwise(Dose)
    assert bulk.references_setwise(VaccinationStatus)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE RULE bulk_test_rule AS ON INSERT TO vaccination_vaccinationstatus "
            "DO ALSO NOTIFY bulk_test"
        )
    assert not bulk.references_setwise(VaccinationStatus)


@pytest.mark.django_db(transaction=True)
def test_a_referenced_row_cannot_be_deleted_until_the_copy_commits(tree):
    """The set-wise check locks what it counted, as PostgreSQL's own check does."""
    resident = resident_create(name="甲", id_number=id_number(date(1970, 1, 1)), grid=tree.grid)
    product = VaccineProduct.objects.get(code="coronavac")
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    with transaction.atomic():
        bulk.references_lock(VaccinationStatus, status_frame([resident.pk], product.pk))
        with psycopg.connect(url, autocommit=True) as other:
            other.execute("SET lock_timeout = '300ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("DELETE FROM registry_resident WHERE id = %s", [resident.pk])
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute(
                    "UPDATE vaccination_vaccineproduct SET id = id + 1000 WHERE id = %s",
                    [product.pk],
                )
            # A change that leaves the key alone is not held up.
            other.execute("UPDATE registry_resident SET name = name WHERE id = %s", [resident.pk])
    assert Resident.objects.filter(pk=resident.pk).exists()


@pytest.mark.django_db
def test_a_set_wise_import_rejects_unknown_people_stores_once_and_again_changes_nothing(
    tree, setwise, tmp_path
):
    people = [
        resident_create(name=f"r{i}", id_number=id_number(date(1950 + i, 3, 1)), grid=tree.grid)
        for i in range(20)
    ]
    stranger = id_number(date(1980, 1, 1))
    rows = [
        dose_row(
            id_number=number_of(person), given=f"2021-0{dose + 3}-01", dose=dose, maker=SINOVAC
        )
        for person in people
        for dose in (1, 2)
    ] + [dose_row(id_number=stranger, given="2021-05-01", dose=1, maker=SINOVAC)]
    path = write_table(tmp_path / "doses", DOSE_HEADERS, rows, "utf-8")
    calls = []
    original = bulk.references_lock

    def counted(model, frame):
        calls.append(model)
        return original(model, frame)

    bulk.references_lock = counted
    try:
        summary, batch = run_import(path)
    finally:
        bulk.references_lock = original

    assert calls == [Dose, VaccinationStatus]  # the set-wise path ran
    assert (summary.stored, summary.rejected) == (40, 1)
    [error] = summary.errors
    assert (error.row, error.column) == (42, "身份证件号码")
    assert Dose.objects.count() == 40
    assert VaccinationStatus.objects.aggregate(doses=Sum("doses"))["doses"] == 40
    assert Rollup.objects.aggregate(doses=Sum("doses"))["doses"] == 40
    figures = sorted(Rollup.objects.values_list("grid_id", "band", "doses", "series_complete"))

    again, batch = run_import(path)

    assert (again.stored, again.unchanged, again.rejected) == (0, 40, 1)
    assert batch.state == ImportState.DONE
    assert Dose.objects.count() == 40
    assert sorted(Rollup.objects.values_list("grid_id", "band", "doses", "series_complete")) == (
        figures
    )


@pytest.mark.django_db(transaction=True)
def test_an_import_killed_during_its_set_wise_copy_stores_nothing_and_runs_again_whole(
    tree, tmp_path
):
    """6,000 people with two doses each: both COPYs (12,000 doses, 6,000 statuses) take
    the set-wise path. The command is killed while it copies the doses; nothing of the file
    is stored, and the same file imported again stores every dose once."""
    people = [
        resident_build(
            name=f"r{i}", id_number=id_number(date(1940 + i % 60, 1 + i % 12, 1 + i % 28)),
            phone="", grid=tree.grid,
        )
        for i in range(6000)
    ]  # fmt: skip
    Resident.objects.bulk_create(people, batch_size=2000)
    rows = [
        dose_row(
            id_number=number_of(person), given=f"2021-0{dose + 3}-01", dose=dose, maker=SINOVAC
        )
        for person in people
        for dose in (1, 2)
    ]
    path = write_table(tmp_path / "doses", DOSE_HEADERS, rows, "utf-8")
    process = start("import_doses", str(path))
    deadline = time.monotonic() + 120
    copying = False
    with connection.cursor() as cursor:
        while not copying:
            assert time.monotonic() < deadline and process.poll() is None
            cursor.execute(
                "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                "AND query LIKE %s AND pid <> pg_backend_pid()",
                ['COPY "vaccination_dose"%'],
            )
            copying = cursor.fetchone() is not None
    process.send_signal(signal.SIGKILL)
    process.wait()

    assert not Dose.objects.exists()
    assert not VaccinationStatus.objects.exists()
    assert not Rollup.objects.filter(doses__gt=0).exists()
    assert ImportBatch.objects.get().state != ImportState.DONE

    summary, _batch = run_import(path)

    assert (summary.stored, summary.unchanged, summary.rejected) == (12_000, 0, 0)
    assert Dose.objects.count() == 12_000
    assert VaccinationStatus.objects.filter(doses=2).count() == 6000
    assert Rollup.objects.aggregate(doses=Sum("doses"))["doses"] == 12_000
    assert replication_role() == "origin"


@pytest.mark.django_db(transaction=True)
def test_held_references_are_left_to_the_caller_and_the_others_are_still_locked(tree):
    """`held` keys (rows the caller keeps by other means, e.g. a lock on rows that refer to
    them) are neither locked nor counted again; every other key is, as before."""
    kept, other = (
        resident_create(name=name, id_number=id_number(date(1970, 1, day)), grid=tree.grid)
        for name, day in (("甲", 1), ("乙", 2))
    )
    product = VaccineProduct.objects.get(code="coronavac")
    frame = status_frame([kept.pk, other.pk], product.pk)
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    held = {"resident_id": pl.Series([kept.pk])}
    with transaction.atomic():
        bulk.references_lock(VaccinationStatus, frame, held=held)
        with psycopg.connect(url, autocommit=True) as others:
            lock = "SELECT 1 FROM registry_resident WHERE id = %s FOR UPDATE NOWAIT"
            with pytest.raises(psycopg.errors.LockNotAvailable):
                others.execute(lock, [other.pk])
            others.execute(lock, [kept.pk])  # not locked here: the caller answers for it
    with transaction.atomic(), pytest.raises(IntegrityError, match="registry_resident"):
        missing = status_frame([other.pk, 10**9], product.pk)
        bulk.references_lock(VaccinationStatus, missing, held=held)
