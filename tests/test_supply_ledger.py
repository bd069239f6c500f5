"""The stock ledger (库存台账): on hand is the ledger's sum, never negative (also under
concurrent moves), moves are never edited, only reversed."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import override
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import user_create
from epidispatch.orgunits.models import OrgUnit
from epidispatch.supply.models import Lot, MoveKind, StockBalance, StockMove
from epidispatch.supply.services import (
    move_reverse,
    stock_expire,
    stock_receive,
    stock_transfer,
    stock_write_off,
    stocktake,
    supply_item_for_product,
)
from epidispatch.vaccination.models import VaccineProduct

from .conftest import Tree
from .supply_fixtures import *  # noqa: F403 - the fixtures


def on_hand(holder, lot) -> int:
    balance = StockBalance.objects.filter(holder=holder, lot=lot).first()
    return balance.on_hand if balance else 0


def ledger_sum(holder, lot) -> int:
    moves = StockMove.objects.filter(holder=holder, lot=lot)
    return moves.aggregate(total=Sum("quantity"))["total"] or 0


def refusal(call) -> str:
    with override("zh-hans"), pytest.raises(ValidationError) as caught:
        call()
    return " ".join(caught.value.messages)


@pytest.mark.django_db
def test_an_allocation_moves_stock_from_the_store_to_the_site(tree, stocked):
    assert (on_hand(tree.county, stocked.lot), on_hand(tree.site, stocked.lot)) == (4, 6)
    for holder in (tree.county, tree.site):
        assert on_hand(holder, stocked.lot) == ledger_sum(holder, stocked.lot)
    legs = StockMove.objects.filter(kind=MoveKind.ALLOCATE)
    assert len({leg.group for leg in legs}) == 1


@pytest.mark.django_db
def test_a_transfer_to_oneself_is_refused(tree, stocked, officer):
    message = refusal(
        lambda: stock_transfer(
            source=tree.site, target=tree.site, lot=stocked.lot, quantity=1, by=officer
        )
    )
    assert "不同" in message
    assert on_hand(tree.site, stocked.lot) == 6


@pytest.mark.django_db
def test_more_than_is_on_hand_cannot_leave(tree, stocked, officer):
    message = refusal(
        lambda: stock_transfer(
            source=tree.site, target=tree.other_site, lot=stocked.lot, quantity=7, by=officer
        )
    )
    assert "6" in message
    assert (on_hand(tree.site, stocked.lot), on_hand(tree.other_site, stocked.lot)) == (6, 0)


@pytest.mark.django_db
def test_an_expired_lot_may_not_be_sent_on(tree, officer):
    item = supply_item_for_product(VaccineProduct.objects.get(code="bibp"))
    move = stock_receive(
        holder=tree.county,
        item=item,
        lot_number="202001X",
        expires_on=timezone.localdate() - timedelta(days=1),
        quantity=5,
        by=officer,
    )
    assert "过期" in refusal(
        lambda: stock_transfer(
            source=tree.county, target=tree.site, lot=move.lot, quantity=1, by=officer
        )
    )
    expired = stock_expire(holder=tree.county, lot=move.lot, by=officer)
    assert (expired.kind, expired.quantity, on_hand(tree.county, move.lot)) == ("expire", -5, 0)


@pytest.mark.django_db
def test_a_lot_not_yet_expired_cannot_be_expired(tree, stocked, officer):
    assert refusal(lambda: stock_expire(holder=tree.site, lot=stocked.lot, by=officer))


@pytest.mark.django_db
def test_a_stocktake_posts_the_difference_and_a_write_off_needs_a_reason(tree, stocked, staff):
    move = stocktake(holder=tree.site, lot=stocked.lot, counted=5, by=staff, note="月底盘点")
    assert (move.kind, move.quantity) == (MoveKind.STOCKTAKE, -1)
    assert stocktake(holder=tree.site, lot=stocked.lot, counted=5, by=staff) is None
    assert refusal(
        lambda: stock_write_off(holder=tree.site, lot=stocked.lot, quantity=1, by=staff, reason="")
    )
    stock_write_off(holder=tree.site, lot=stocked.lot, quantity=2, by=staff, reason="冷链断链")
    assert on_hand(tree.site, stocked.lot) == ledger_sum(tree.site, stocked.lot) == 3


@pytest.mark.django_db
def test_site_staff_manage_only_their_own_site_and_never_order_transfers(tree, stocked, staff):
    with pytest.raises(PermissionDenied):
        stocktake(holder=tree.other_site, lot=stocked.lot, counted=0, by=staff)
    with pytest.raises(PermissionDenied):
        stock_transfer(
            source=tree.site, target=tree.other_site, lot=stocked.lot, quantity=1, by=staff
        )


@pytest.mark.django_db
def test_a_move_is_never_edited_or_deleted_only_reversed(tree, stocked, officer):
    transfer = StockMove.objects.filter(kind=MoveKind.ALLOCATE).first()
    with pytest.raises(TypeError):
        transfer.save()
    with pytest.raises(TypeError):
        transfer.delete()
    # Not even a bulk update gets past the database.
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        StockMove.objects.filter(pk=transfer.pk).update(quantity=1)
    reversals = move_reverse(move=transfer, by=officer, reason="调拨单填错")
    assert sorted(r.quantity for r in reversals) == [-6, 6]
    assert (on_hand(tree.county, stocked.lot), on_hand(tree.site, stocked.lot)) == (10, 0)
    assert "已冲正" in refusal(lambda: move_reverse(move=transfer, by=officer, reason="再次"))


@pytest.mark.django_db
def test_a_receipt_whose_stock_was_used_cannot_be_reversed_below_zero(tree, stocked, officer):
    receipt = StockMove.objects.get(kind=MoveKind.RECEIVE)
    assert refusal(lambda: move_reverse(move=receipt, by=officer, reason="重复入库"))
    assert on_hand(tree.county, stocked.lot) == 4


@pytest.mark.django_db
def test_a_lot_received_again_with_another_expiry_is_refused(tree, stocked, officer):
    assert "有效期" in refusal(
        lambda: stock_receive(
            holder=tree.county,
            item=stocked.lot.item,
            lot_number="202105A",
            expires_on=stocked.lot.expires_on + timedelta(days=1),
            quantity=1,
            by=officer,
        )
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_allocations_that_would_overdraw_a_site_give_out_exactly_the_stock(
    tree, stocked, officer
):
    """Twelve transfers of one dose from a site holding six, all at once: six land."""
    clients = 12
    barrier = threading.Barrier(clients)
    outcomes: list[str] = []

    def send() -> None:
        try:
            barrier.wait(timeout=10)
            stock_transfer(
                source=tree.site, target=tree.other_site, lot=stocked.lot, quantity=1, by=officer
            )
            outcomes.append("sent")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("sent") == 6
    assert outcomes.count("refused") == clients - 6
    assert (on_hand(tree.site, stocked.lot), on_hand(tree.other_site, stocked.lot)) == (0, 6)
    for holder in (tree.site, tree.other_site):
        assert on_hand(holder, stocked.lot) == ledger_sum(holder, stocked.lot)


MOVES = st.lists(
    st.tuples(
        st.sampled_from(["transfer", "write_off", "stocktake", "receive"]),
        st.sampled_from(["county", "site", "other_site"]),
        st.integers(min_value=0, max_value=8),
    ),
    max_size=25,
)


class TestBalancesEqualTheLedger(TestCase):
    """Whatever sequence of moves is tried (refused ones included), every balance equals
    its ledger sum and none is negative."""

    @settings(max_examples=30, deadline=None)
    @given(moves=MOVES)
    def test_balances_equal_the_ledger_sum(self, moves):
        tree = Tree()
        officer = user_create(
            username="cdc", password="secret-pass-1", roles=[(Role.SUPPLY_OFFICER, tree.county)]
        )
        item = supply_item_for_product(VaccineProduct.objects.get(code="bibp"))
        expiry = timezone.localdate() + timedelta(days=90)
        stock_receive(
            holder=tree.county, item=item, lot_number="L1", expires_on=expiry, quantity=5,
            by=officer,
        )  # fmt: skip
        lot = Lot.objects.get(number="L1")
        for verb, where, quantity in moves:
            holder = getattr(tree, where)
            try:
                with transaction.atomic():
                    if verb == "transfer":
                        target = tree.other_site if where != "other_site" else tree.site
                        stock_transfer(
                            source=holder, target=target, lot=lot, quantity=quantity, by=officer
                        )
                    elif verb == "write_off":
                        stock_write_off(
                            holder=holder, lot=lot, quantity=quantity, by=officer, reason="破损"
                        )
                    elif verb == "stocktake":
                        stocktake(holder=holder, lot=lot, counted=quantity, by=officer)
                    else:
                        stock_receive(
                            holder=holder,
                            item=item,
                            lot_number="L1",
                            expires_on=expiry,
                            quantity=quantity,
                            by=officer,
                        )
            except ValidationError:
                pass
        for holder in OrgUnit.objects.all():
            assert on_hand(holder, lot) == ledger_sum(holder, lot) >= 0
