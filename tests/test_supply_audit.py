"""Stock moves on the audit trail (issue 25): every verb of the ledger leaves a change
entry for each move it posts, filed under the store or site whose stock it changes, read by
the dispatchers of that unit and not by another county's."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.audit.models import Change
from epidispatch.audit.selectors import TrailFilters, audit_trail
from epidispatch.registry.services import resident_create
from epidispatch.supply.models import StockMove
from epidispatch.supply.services import (
    move_reverse,
    stock_transfer,
    stock_write_off,
    stocktake,
)
from epidispatch.vaccination.services import dose_record

from .supply_fixtures import *  # noqa: F403 - the fixtures
from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db


def _dose(tree, stocked, staff):
    resident = resident_create(name="牛建国", id_number=id_number(1, "19500101"), grid=tree.grid)
    dose_record(
        resident=resident, product=stocked.product, given_on=timezone.localdate(),
        site=tree.site, by=staff, lot_number=stocked.lot.number,
    )  # fmt: skip


#: (verb, the call, the holders whose moves it posts)
VERBS = [
    (
        "transfer",
        lambda t, s, o, st: stock_transfer(
            source=t.site, target=t.other_site, lot=s.lot, quantity=2, by=o
        ),
        ("site", "other_site"),
    ),
    (
        "write_off",
        lambda t, s, o, st: stock_write_off(
            holder=t.site, lot=s.lot, quantity=1, by=o, reason="冷链断链"
        ),
        ("site",),
    ),
    (
        "stocktake",
        lambda t, s, o, st: stocktake(holder=t.county, lot=s.lot, counted=3, by=o),
        ("county",),
    ),
    (
        "reverse",
        lambda t, s, o, st: move_reverse(
            move=StockMove.objects.filter(kind="allocate").first(), by=o, reason="调错"
        ),
        ("county", "site"),
    ),
    ("administer", lambda t, s, o, st: _dose(t, s, st), ("site",)),
]


def _stock_changes():
    content_type = ContentType.objects.get_for_model(StockMove)
    return Change.objects.filter(content_type=content_type)


def test_a_receipt_and_an_allocation_are_on_the_trail_under_their_holders(tree, stocked):
    changes = _stock_changes()
    paths = sorted(changes.values_list("unit_path", flat=True))
    assert paths == sorted([tree.county.path, tree.county.path, tree.site.path])
    assert {int(pk) for pk in changes.values_list("object_pk", flat=True)} == set(
        StockMove.objects.values_list("pk", flat=True)
    )


@pytest.mark.parametrize(("verb", "call", "holders"), VERBS, ids=[v[0] for v in VERBS])
def test_every_ledger_verb_leaves_a_change_per_move_under_its_holder(
    tree, stocked, officer, staff, verb, call, holders
):
    seen = set(_stock_changes().values_list("pk", flat=True))
    moves_before = set(StockMove.objects.values_list("pk", flat=True))
    call(tree, stocked, officer, staff)
    new_moves = StockMove.objects.exclude(pk__in=moves_before)
    changes = _stock_changes().exclude(pk__in=seen)
    assert sorted(changes.values_list("unit_path", flat=True)) == sorted(
        getattr(tree, holder).path for holder in holders
    )
    assert {int(pk) for pk in changes.values_list("object_pk", flat=True)} == set(
        new_moves.values_list("pk", flat=True)
    )
    assert all(change.action == Change.Action.CREATE for change in changes)


def test_the_county_dispatcher_reads_the_moves_and_another_countys_does_not(
    tree, stocked, make_user
):
    filters = TrailFilters(kind="supply.stockmove")
    own = audit_trail(make_user(Role.DISPATCHER, tree.county), filters, limit=50)
    assert len(own) == 3
    assert all("出入库记录" in row.kind or "stock move" in row.kind for row in own)
    far = audit_trail(make_user(Role.DISPATCHER, tree.other_county), filters, limit=50)
    assert far == []


def test_an_expired_lot_taken_out_is_on_the_trail(tree, stocked, officer):
    from epidispatch.supply.models import Lot
    from epidispatch.supply.services import stock_expire

    Lot.objects.filter(pk=stocked.lot.pk).update(
        expires_on=timezone.localdate() - timedelta(days=1)
    )
    stocked.lot.refresh_from_db()
    seen = set(_stock_changes().values_list("pk", flat=True))
    stock_expire(holder=tree.site, lot=stocked.lot, by=officer)
    [change] = _stock_changes().exclude(pk__in=seen)
    assert change.unit_path == tree.site.path
