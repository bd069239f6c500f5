"""Supply of the demo county: lots of each vaccine received at the county store (县疾控
中心), with the packs' trace codes of one lot, allocated to every site, so `supply` sees
stock to move and `site_staff` can scan a pack (81234560000000000001 …) at 平襄镇卫生院."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from epidispatch.accounts.models import User
from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.vaccination.models import VaccineProduct

from .models import StockMove
from .services import stock_receive, stock_transfer, supply_item_for_product

DEMO_COUNTY = "621121"
DEMO_OFFICER = "supply"
#: (product, lot, days to expiry, doses received); the first lot's packs carry codes.
DEMO_LOTS = [
    ("coronavac", "202108C015", 150, 2000),
    ("coronavac", "202107C009", 20, 300),
    ("bibp", "202108B021", 200, 2000),
    ("zf2001", "202107Z004", 120, 600),
]
DEMO_PACKS = 200
ALLOCATED_PER_SITE = 60


@transaction.atomic
def load_supply() -> int:
    """Stock the demo county once; returns the number of moves posted (0 when present)."""
    officer = User.objects.filter(username=DEMO_OFFICER).first()
    store = OrgUnit.objects.filter(code=DEMO_COUNTY).first()
    if officer is None or store is None or StockMove.objects.filter(holder=store).exists():
        return 0
    today = timezone.localdate()
    sites = list(
        OrgUnit.objects.filter(kind=UnitKind.SITE, county_code=DEMO_COUNTY).order_by("code")
    )
    posted = 0
    for index, (code, number, days, quantity) in enumerate(DEMO_LOTS):
        item = supply_item_for_product(VaccineProduct.objects.get(code=code))
        if index == 0 and not item.trace_prefix:
            item.trace_prefix = "8123456"
            item.save(update_fields=["trace_prefix"])
        packs = [f"8123456{n:013d}" for n in range(1, DEMO_PACKS + 1)] if index == 0 else []
        move = stock_receive(
            holder=store, item=item, lot_number=number, expires_on=today + timedelta(days=days),
            quantity=quantity, by=officer, package_codes=tuple(packs),
        )  # fmt: skip
        posted += 1
        # The first lot goes to every site, the others to the first three (the county's
        # two and 平襄镇卫生院, where the demo site staff work).
        for site in sites if index == 0 else sites[:3]:
            stock_transfer(
                source=store, target=site, lot=move.lot, quantity=ALLOCATED_PER_SITE, by=officer
            )
            posted += 2
    return posted
