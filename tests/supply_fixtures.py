"""Fixtures shared by the supply tests (tests/test_supply_*.py): a county store and two
sites, the CDC's supply officer, site staff, and a lot of CoronaVac received with its packs."""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.supply.models import Lot
from epidispatch.supply.services import stock_receive, stock_transfer, supply_item_for_product
from epidispatch.vaccination.models import VaccineProduct

__all__ = ["officer", "packs", "staff", "stocked"]

#: 20-digit 码上放心 codes of the packs received (the first 7 digits: the product).
PACK_CODES = [f"8123456{n:013d}" for n in range(1, 11)]
#: A GS1 pack: GTIN, expiry, lot, serial (FNC1 between variable fields).
GTIN = "06901234567892"


def gs1(lot: str, expiry: date, serial: str) -> str:
    return f"01{GTIN}17{expiry:%y%m%d}10{lot}\x1d21{serial}"


@dataclass
class Stocked:
    lot: Lot
    product: VaccineProduct


@pytest.fixture
def officer(tree, make_user):
    return make_user(Role.SUPPLY_OFFICER, tree.county, username="cdc-supply")


@pytest.fixture
def staff(tree, make_user):
    return make_user(Role.SITE_STAFF, tree.site, username="site-staff")


@pytest.fixture
def stocked(tree, officer) -> Stocked:
    """Lot 202105A of CoronaVac: 10 packs of 1 dose received at the county store, 6
    allocated to the first site."""
    product = VaccineProduct.objects.get(code="coronavac")
    item = supply_item_for_product(product)
    item.trace_prefix = "8123456"
    item.save()
    move = stock_receive(
        holder=tree.county,
        item=item,
        lot_number="202105A",
        expires_on=timezone.localdate() + timedelta(days=180),
        quantity=10,
        by=officer,
        package_codes=tuple(PACK_CODES),
    )
    stock_transfer(source=tree.county, target=tree.site, lot=move.lot, quantity=6, by=officer)
    return Stocked(lot=move.lot, product=product)


@pytest.fixture
def packs():
    return PACK_CODES
