"""The change feeds under concurrent writers (issue 28): two transactions commit in the
reverse order of their ids, and a follower paging in between still sees every row exactly
once: a row waits until every transaction before it has ended, then comes after the
cursor (core.feeds)."""

import threading
import time
from datetime import date

import pytest
from django.db import connection, transaction

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.control.models import CaseChange
from epidispatch.registry.services import resident_create
from epidispatch.vaccination.models import Dose, DoseSource, Platform, VaccineProduct

from .control_fixtures import *  # noqa: F403 - the fixtures
from .control_fixtures import register
from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db(transaction=True)

DOSES = "/api/v1/changes/doses"
KEY_PERSONS = "/api/v1/changes/key-persons"


def bearer(user) -> dict:
    _record, token = api_token_create(user=user, name="feed follower")
    return {"Authorization": f"Bearer {token}"}


def read(client, url: str, headers: dict, cursor: str, limit: int = 100) -> tuple[list, str]:
    """Every page after `cursor`: (the ids, the cursor to ask with next)."""
    ids = []
    while True:
        response = client.get(url, {"cursor": cursor, "limit": limit}, headers=headers)
        assert response.status_code == 200, response.content
        page = response.json()
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return ids, cursor


def settle(client, url: str, headers: dict, cursor: str, rows: int) -> tuple[list, str]:
    """Read until `rows` rows came: transaction ids are the server's, so a transaction of
    another database on it (a test run next door) may hold the rows back a moment."""
    ids: list[int] = []
    deadline = time.monotonic() + 60
    while len(ids) < rows and time.monotonic() < deadline:
        more, cursor = read(client, url, headers, cursor)
        ids += more
        if len(ids) < rows:
            time.sleep(0.2)
    return ids, cursor


def older_transactions_ended() -> None:
    """Wait until every transaction that began before now has ended, on the whole server:
    a transaction of another database (a test run next door) holds the feeds' rows back,
    and the follower's first read must see all rows committed before the writers start."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text")  # autocommit: a transaction of its own
        (mark,) = cursor.fetchone()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot()) > %s::xid8", [mark])
            if cursor.fetchone()[0]:
                return
            time.sleep(0.2)
    raise AssertionError("a transaction older than the test stayed open for 60 s")


class Held:
    """A writer in its own connection: writes, then keeps its transaction open until
    released, so a later writer can commit first."""

    def __init__(self, write):
        self.written, self.release = threading.Event(), threading.Event()
        self.ids: list[int] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(write,))
        self.thread.start()
        assert self.written.wait(timeout=20), self.error

    def _run(self, write):
        try:
            with transaction.atomic():
                self.ids.append(write())
                self.written.set()
                self.release.wait(timeout=20)
        except BaseException as error:
            self.error = error
            self.written.set()
        finally:
            connection.close()

    def commit(self):
        self.release.set()
        self.thread.join(timeout=20)
        assert self.error is None, self.error


def follow_two_writers(client, url: str, headers: dict, write) -> None:
    """The older writer (lower id) commits after the newer one; the follower pages while
    the older is open, and again after: each row once, none lost."""
    older_transactions_ended()
    known, cursor = read(client, url, headers, "0")
    older = Held(write)
    newer = Held(write)
    assert older.ids[0] < newer.ids[0]
    newer.commit()

    early, cursor = read(client, url, headers, cursor)
    # The newer row waits: the older transaction, below it, has not ended.
    assert early == []

    older.commit()
    late, cursor = settle(client, url, headers, cursor, rows=2)
    assert late == [older.ids[0], newer.ids[0]]
    again, _cursor = read(client, url, headers, cursor)
    assert again == []
    everything, _cursor = read(client, url, headers, "0")
    assert everything == [*known, older.ids[0], newer.ids[0]]


def test_a_dose_committed_after_a_later_one_is_not_skipped(tree, client, make_user):
    product, _created = VaccineProduct.objects.get_or_create(
        code="feedvac",
        defaults={"name": "Feed", "manufacturer": "Feed Co.", "platform": Platform.INACTIVATED},
    )
    resident = resident_create(name="甲", id_number=id_number(1), grid=tree.grid)
    numbers = iter(range(1, 10))

    def write() -> int:
        dose = Dose.objects.create(
            resident=resident,
            dose_number=next(numbers),
            product=product,
            given_on=date(2021, 5, 1),
            source=DoseSource.HL7,
            county_code=tree.county.code[:6],
        )
        return dose.pk

    headers = bearer(make_user(Role.TOWN_OFFICIAL, tree.town))
    follow_two_writers(client, DOSES, headers, write)


def test_a_key_person_change_committed_after_a_later_one_is_not_skipped(tree, client, officer):
    case = register(sequence=300, grid=tree.grid, reference=date.today())

    def write() -> int:
        change = CaseChange.objects.create(
            case=case,
            kind="extended",
            day=case.registered_on,
            plan=case.plan,
            ends_on=case.ends_on,
            grid=case.grid,
            county_code=case.county_code,
        )
        return change.pk

    follow_two_writers(client, KEY_PERSONS, bearer(officer), write)


def test_many_changes_paged_small_are_each_given_once(tree, client, officer):
    for n in range(23):
        register(sequence=400 + n, grid=tree.grid, reference=date.today())
    headers = bearer(officer)
    expected_count = CaseChange.objects.count()
    ids, cursor = read(client, KEY_PERSONS, headers, "0", limit=4)
    more, _cursor = settle(client, KEY_PERSONS, headers, cursor, rows=expected_count - len(ids))
    ids += more
    expected = list(CaseChange.objects.order_by("txid", "pk").values_list("pk", flat=True))
    assert ids == expected
    assert len(set(ids)) == len(ids) >= 23
