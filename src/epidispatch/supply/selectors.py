"""Reads of stock and trace (流向追溯), scoped to the acting user's org units first.

Doses name their lot by number (the §7 file's 疫苗批号), so a trace reads the doses by
(product, lot number) and the ledger by lot: imported doses are traced like site entries.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from epidispatch.core.dates import latest_birth_date_for_age
from epidispatch.core.scoping import paths_q, scope_paths, scope_q
from epidispatch.orgunits.models import PATH_SEPARATOR, OrgUnit, UnitKind
from epidispatch.registry.models import EXCUSED_STATUSES, Resident
from epidispatch.vaccination.models import Dose, VaccinationStatus, VaccineProduct
from epidispatch.vaccination.selectors import ADULT_AGE

from . import conf
from .codes import trace_code_is_wellformed
from .models import (
    AEFIReport,
    ItemKind,
    Lot,
    MoveKind,
    Package,
    StockBalance,
    StockMove,
    SupplyItem,
)

#: The units that hold stock: vaccination sites and the county's (or city's) store.
HOLDER_KINDS = (UnitKind.SITE, UnitKind.COUNTY, UnitKind.CITY)

#: The keys of `trace_lot --json`, as DESIGN.md §8 lists them.
TRACE_KEYS = ("lot", "product", "doses", "residents", "sites", "received", "on_hand")
#: The keys of `quality_report --json`.
QUALITY_KEYS = (
    "doses",
    "missing_trace_code",
    "malformed_trace_code",
    "trace_code_overused",
    "unknown_lot",
)
#: How many codes one `IN (…)` list carries.
CODE_CHUNK = 5000


def holders_visible_to(user):
    """The stores and sites in the user's scope, in tree order."""
    return OrgUnit.objects.filter(scope_q(user), kind__in=HOLDER_KINDS).order_by("path")


def stock_on_hand(user, *, under: OrgUnit | None = None):
    """What each store and site in the user's scope holds, lot by lot, the first to expire
    first (先到期先出)."""
    balances = StockBalance.objects.filter(scope_q(user, "holder__path"), on_hand__gt=0)
    if under is not None:
        balances = balances.filter(holder__path__startswith=under.path)
    return balances.select_related("holder", "lot__item").order_by(
        "holder__path", "lot__item__name", "lot__expires_on", "lot__number"
    )


def stock_moves(user, *, holder: OrgUnit | None = None):
    """Ledger lines in the user's scope, the latest first."""
    moves = StockMove.objects.filter(scope_q(user, "holder__path"))
    if holder is not None:
        moves = moves.filter(holder=holder)
    return moves.select_related("holder", "lot__item", "counterpart", "by")


def lot_get(pk: int) -> Lot:
    """A lot (reference data, no personal data in it), or 404."""
    return get_object_or_404(Lot.objects.select_related("item__product"), pk=pk)


def lots_in_stock(user):
    """Lots that some store or site in the user's scope holds, by expiry."""
    return (
        Lot.objects.filter(
            pk__in=StockBalance.objects.filter(scope_q(user, "holder__path"), on_hand__gt=0).values(
                "lot_id"
            )
        )
        .select_related("item")
        .order_by("expires_on", "number")
    )


def _lot_doses(lot: Lot):
    return Dose.objects.filter(product_id=lot.item.product_id, lot_number=lot.number)


def lot_sites(user, lot: Lot) -> list[tuple[OrgUnit | None, int]]:
    """Where the lot was given (sites in the user's scope), with the doses of each."""
    rows = (
        _lot_doses(lot)
        .filter(scope_q(user, "site__path"))
        .values_list("site_id")
        .annotate(doses=Count("pk"))
        .order_by()
    )
    counts = dict(rows)
    sites = OrgUnit.objects.in_bulk(list(counts))
    return sorted(((sites[pk], n) for pk, n in counts.items()), key=lambda row: row[0].code)


def recall_list(user, lot: Lot):
    """召回名单: the residents in the user's scope given a dose of the lot, with their grid
    and masked phone, for the grid workers to call (unmasking is the resident page's,
    audited)."""
    return (
        _lot_doses(lot)
        .filter(scope_q(user, "resident__grid__path"))
        .select_related("resident__grid", "site")
        .order_by("resident__grid__code", "resident__name", "resident_id", "dose_number")
    )


def resident_lots(user, resident_id: int):
    """Resident → lots: the doses of a resident in the user's scope, each with the ledger's
    lot when it knows it (None otherwise)."""
    doses = list(
        Dose.objects.filter(scope_q(user, "resident__grid__path"), resident_id=resident_id)
        .select_related("product", "site")
        .order_by("dose_number")
    )
    wanted = Q(pk__in=[])
    for dose in doses:
        wanted |= Q(item__product_id=dose.product_id, number=dose.lot_number)
    lots = {
        (lot.item.product_id, lot.number): lot
        for lot in Lot.objects.filter(wanted).select_related("item")
    }
    return [(dose, lots.get((dose.product_id, dose.lot_number))) for dose in doses]


def lot_trace(number: str, *, paths: tuple[str, ...] | None = None) -> dict:
    """`trace_lot`'s figures (DESIGN.md §8): the doses given from the lot, the people, the
    sites, and the ledger's receipts and stock on hand. `paths` limits it to a scope
    (None: everything, for the command line); a dose without a known site counts where
    its person lives. Three queries, each on an index (bench/trace.py)."""
    number = number.replace("\x00", "").strip()[:40]
    doses = Dose.objects.filter(lot_number=number)
    balances = StockBalance.objects.filter(lot=OuterRef("pk"))
    moves = StockMove.objects.filter(
        Q(kind=MoveKind.RECEIVE) | Q(kind=MoveKind.REVERSAL, reverses__kind=MoveKind.RECEIVE),
        lot=OuterRef("pk"),
    )
    if paths is not None:
        doses = doses.filter(
            paths_q(paths, "site__path")
            | (Q(site__isnull=True) & paths_q(paths, "resident__grid__path"))
        )
        balances = balances.filter(paths_q(paths, "holder__path"))
        moves = moves.filter(paths_q(paths, "holder__path"))
    rows = list(doses.values_list("site__code", "product__code").annotate(n=Count("pk")).order_by())
    residents = doses.aggregate(n=Count("resident_id", distinct=True))["n"] if rows else 0
    ledger = list(
        Lot.objects.filter(number=number, item__product__isnull=False)
        .annotate(
            received=Coalesce(Subquery(_total(moves, "quantity")), 0),
            on_hand=Coalesce(Subquery(_total(balances, "on_hand")), 0),
        )
        .values_list("item__product__code", "received", "on_hand")
    )
    by_site: Counter = Counter()
    for site_code, _product, n in rows:
        by_site[site_code] += n
    products = {product for _site, product, _n in rows} | {product for product, *_ in ledger}
    return {
        "lot": number,
        "product": products.pop() if len(products) == 1 else None,
        "doses": sum(by_site.values()),
        "residents": residents,
        "sites": [
            {"code": code, "doses": n}
            for code, n in sorted(by_site.items(), key=lambda row: (row[0] is None, row[0] or ""))
        ],
        "received": sum(received for _product, received, _on_hand in ledger),
        "on_hand": sum(on_hand for _product, _received, on_hand in ledger),
    }


def _total(queryset, column: str):
    """A subquery's one-row total of `column` (a correlated SUM)."""
    return queryset.order_by().values("lot").annotate(total=Sum(column)).values("total")


def lot_trace_for(user, number: str) -> dict:
    """`lot_trace` within the user's scope (the API's)."""
    return lot_trace(number, paths=scope_paths(user))


def quality_report(unit: OrgUnit, start: date, end: date) -> dict[str, int]:
    """The 国家督察 data-quality rules over the doses given from `start` to `end` to the
    residents living under `unit` (DESIGN.md §8).

    `trace_code_overused` counts the doses whose code is used, across every dose ever
    recorded, more times than its pack holds (the pack's own count when it was received,
    else the product's doses per package); `unknown_lot` the doses whose product and lot
    number are not a lot of the ledger (a dose with no lot number among them).
    """
    rows = list(
        Dose.objects.filter(
            resident__grid__path__startswith=unit.path, given_on__gte=start, given_on__lte=end
        ).values_list("trace_code", "product_id", "lot_number")
    )
    codes = {code for code, _product, _lot in rows if code}
    wellformed = {code for code in codes if trace_code_is_wellformed(code)}
    uses = _code_uses(wellformed)
    capacity = _pack_capacity(wellformed)
    per_product = dict(
        SupplyItem.objects.filter(product__isnull=False).values_list(
            "product_id", "doses_per_package"
        )
    )
    ledger_lots = set(
        Lot.objects.filter(item__product__isnull=False).values_list("item__product_id", "number")
    )
    report = Counter(doses=len(rows))
    for code, product_id, lot_number in rows:
        if not code:
            report["missing_trace_code"] += 1
        elif code not in wellformed:
            report["malformed_trace_code"] += 1
        elif uses[code] > capacity.get(code, per_product.get(product_id, 1)):
            report["trace_code_overused"] += 1
        if (product_id, lot_number) not in ledger_lots:
            report["unknown_lot"] += 1
    return {key: report[key] for key in QUALITY_KEYS}


def _code_uses(codes: set[str]) -> Counter:
    uses: Counter = Counter()
    ordered = sorted(codes)
    for start in range(0, len(ordered), CODE_CHUNK):
        chunk = ordered[start : start + CODE_CHUNK]
        uses.update(
            dict(
                Dose.objects.filter(trace_code__in=chunk)
                .values_list("trace_code")
                .annotate(n=Count("pk"))
                .order_by()
            )
        )
    return uses


def _pack_capacity(codes: set[str]) -> dict[str, int]:
    ordered = sorted(codes)
    capacity: dict[str, int] = {}
    for start in range(0, len(ordered), CODE_CHUNK):
        chunk = ordered[start : start + CODE_CHUNK]
        capacity.update(Package.objects.filter(code__in=chunk).values_list("code", "doses"))
    return capacity


def aefi_reports_visible_to(user):
    """AEFI reports of the people living in the user's units or vaccinated at the user's
    sites, the latest found first, each with its overdue flags: not reported (or reported
    late) by the report deadline; the investigation not started (or started late) by its
    deadline."""
    now = timezone.now()
    return (
        AEFIReport.objects.filter(
            scope_q(user, "resident__grid__path") | scope_q(user, "site__path")
        )
        .annotate(
            report_overdue=Q(reported_at__isnull=True, report_due_by__lt=now)
            | Q(reported_at__isnull=False, reported_at__gt=F("report_due_by")),
            investigation_overdue=Q(
                investigation_due_by__isnull=False,
                investigation_started_at__isnull=True,
                investigation_due_by__lt=now,
            )
            | Q(
                investigation_due_by__isnull=False,
                investigation_started_at__isnull=False,
                investigation_started_at__gt=F("investigation_due_by"),
            ),
        )
        .select_related("resident__grid", "product", "site")
        .order_by("-discovered_at", "-pk")
    )


def aefi_report_for(user, pk: int) -> AEFIReport:
    """One report in the user's scope, or 404."""
    return get_object_or_404(aefi_reports_visible_to(user), pk=pk)


@dataclass(frozen=True)
class LotRate:
    product: str
    lot_number: str
    reports: int
    doses: int
    per_10000: float
    alert: bool


def aefi_lot_rates(user) -> list[LotRate]:
    """Per lot with reports, in the user's units: reports per 10,000 doses given from it,
    flagged at the alert threshold (conf.AEFI_ALERT_PER_10000), the highest rate first."""
    rows = (
        AEFIReport.objects.filter(scope_q(user, "resident__grid__path"))
        .exclude(lot_number="")
        .values_list("product_id", "lot_number")
        .annotate(n=Count("pk"))
        .order_by()
    )
    reports = {(product_id, number): n for product_id, number, n in rows}
    if not reports:
        return []
    doses = {
        (product_id, number): n
        for product_id, number, n in Dose.objects.filter(
            scope_q(user, "resident__grid__path"),
            lot_number__in={number for _product, number in reports},
        )
        .values_list("product_id", "lot_number")
        .annotate(n=Count("pk"))
        .order_by()
    }
    names = dict(
        VaccineProduct.objects.filter(pk__in={p for p, _n in reports}).values_list("pk", "name")
    )
    rates = []
    for (product_id, number), n in reports.items():
        given = doses.get((product_id, number), 0)
        rate = n * 10000 / given if given else 0.0
        rates.append(
            LotRate(
                product=names.get(product_id, str(product_id)),
                lot_number=number,
                reports=n,
                doses=given,
                per_10000=round(rate, 1),
                alert=rate >= conf.AEFI_ALERT_PER_10000,
            )
        )
    return sorted(rates, key=lambda row: (-row.per_10000, row.lot_number))


@dataclass
class SiteDemand:
    """A site's vaccine demand against its stock (精准测算疫苗使用需求)."""

    site: OrgUnit
    clearance: int = 0
    second_due: int = 0
    booster_due: int = 0
    on_hand: int = 0
    used: int = 0
    lots: list = field(default_factory=list)  # [(lot, on_hand)], the first to expire first

    @property
    def need(self) -> int:
        return self.clearance + self.second_due + self.booster_due

    @property
    def daily_use(self) -> float:
        return self.used / conf.USAGE_DAYS

    @property
    def days_of_supply(self) -> float | None:
        """Days the stock lasts at the recent rate of use (None: no doses given lately)."""
        return round(self.on_hand / self.daily_use, 1) if self.used else None

    @property
    def shortfall(self) -> int:
        return max(0, self.need - self.on_hand)

    @property
    def use_first(self):
        """First-expiry-first-out advice: the lot to open first, if any."""
        return self.lots[0][0] if self.lots else None

    @property
    def expiring_soon(self) -> bool:
        soon = timezone.localdate() + timedelta(days=conf.EXPIRY_WARNING_DAYS)
        return any(lot.expires_on <= soon for lot, _n in self.lots)


def _parent_path(path: str) -> str:
    return path.rstrip(PATH_SEPARATOR).rsplit(PATH_SEPARATOR, 1)[0] + PATH_SEPARATOR


def site_demand(user, unit: OrgUnit) -> list[SiteDemand]:
    """Per vaccination site in the user's scope under `unit`: the doses still needed by the
    people living in the site's town (or county) — the 清零 list, series doses and boosters
    falling due within conf.DEMAND_DAYS — against its stock on hand, its daily use over the
    last conf.USAGE_DAYS, days of supply, and the lot to use first. Sites sharing a town
    share its need in proportion to the doses each gave lately (equally when none did)."""
    sites = list(
        OrgUnit.objects.filter(
            scope_q(user), kind=UnitKind.SITE, path__startswith=unit.path
        ).order_by("path")
    )
    if not sites:
        return []
    rows = {site.pk: SiteDemand(site=site) for site in sites}
    areas = {_parent_path(site.path) for site in sites}
    needs = _needs_by_area(areas)
    vaccine = Q(lot__item__kind=ItemKind.VACCINE)
    for balance in (
        StockBalance.objects.filter(vaccine, holder__in=sites, on_hand__gt=0)
        .select_related("lot")
        .order_by("lot__expires_on", "lot__number")
    ):
        row = rows[balance.holder_id]
        row.on_hand += balance.on_hand
        row.lots.append((balance.lot, balance.on_hand))
    since = timezone.now() - timedelta(days=conf.USAGE_DAYS)
    for holder_id, used in (
        StockMove.objects.filter(holder__in=sites, kind=MoveKind.ADMINISTER, at__gte=since)
        .values_list("holder_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        rows[holder_id].used = used
    by_area = defaultdict(list)
    for row in rows.values():
        by_area[_parent_path(row.site.path)].append(row)
    for area, members in by_area.items():
        total_used = sum(row.used for row in members)
        for part, count in needs[area].items():
            shares = _shares(
                count, [row.used for row in members] if total_used else None, len(members)
            )
            for row, share in zip(members, shares, strict=True):
                setattr(row, part, share)
    return [rows[site.pk] for site in sites]


def _needs_by_area(areas: set[str]) -> dict[str, Counter]:
    """The need of the people under each area path, from per-grid counts (three queries
    whatever the number of sites)."""
    today = timezone.localdate()
    horizon = today + timedelta(days=conf.DEMAND_DAYS)
    under = paths_q(areas, "grid__path")
    grids: dict[str, Counter] = defaultdict(Counter)
    clearance = (
        Resident.objects.filter(
            under,
            birth_date__lte=latest_birth_date_for_age(today, ADULT_AGE),
            vaccination__isnull=True,
        )
        .exclude(status__in=EXCUSED_STATUSES)
        .values_list("grid__path")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for path, n in clearance:
        grids[path]["clearance"] += n
    due = (
        VaccinationStatus.objects.filter(
            paths_q(areas, "resident__grid__path"),
            next_dose_number__isnull=False,
            next_due_from__lte=horizon,
        )
        .values_list("resident__grid__path")
        .annotate(
            second=Count("pk", filter=Q(series_complete_on__isnull=True)),
            booster=Count("pk", filter=Q(series_complete_on__isnull=False)),
        )
        .order_by()
    )
    for path, second, booster in due:
        grids[path]["second_due"] += second
        grids[path]["booster_due"] += booster
    needs: dict[str, Counter] = {area: Counter() for area in areas}
    for path, counts in grids.items():
        for area in areas:
            if path.startswith(area):
                needs[area].update(counts)
    return needs


def _shares(total: int, weights: list[int] | None, parts: int) -> list[int]:
    """`total` split into whole shares by `weights` (equal when None), remainders to the
    first; the shares add up to `total`."""
    weights = weights or [1] * parts
    whole = sum(weights)
    shares = [total * weight // whole for weight in weights]
    for k in range(total - sum(shares)):
        shares[k % parts] += 1
    return shares


@dataclass(frozen=True)
class Allocation:
    site: OrgUnit
    lot: Lot
    quantity: int


def allocation_suggest(user, store: OrgUnit) -> list[Allocation]:
    """A suggested allocation (统筹调配) from the store's usable vaccine stock to the sites
    under it that are short: each gets its shortfall, or when the store cannot cover them
    all a share in proportion to it; the lots that expire first go first (FEFO)."""
    short = [row for row in site_demand(user, store) if row.shortfall]
    lots = [
        [balance.lot, balance.on_hand]
        for balance in StockBalance.objects.filter(
            scope_q(user, "holder__path"),
            holder=store,
            on_hand__gt=0,
            lot__item__kind=ItemKind.VACCINE,
            lot__expires_on__gte=timezone.localdate(),
        )
        .select_related("lot")
        .order_by("lot__expires_on", "lot__number")
    ]
    available = sum(n for _lot, n in lots)
    wanted = sum(row.shortfall for row in short)
    if not short or not available:
        return []
    gives = (
        [row.shortfall for row in short]
        if available >= wanted
        else _shares(available, [row.shortfall for row in short], len(short))
    )
    suggestion = []
    for row, give in zip(short, gives, strict=True):
        for entry in lots:
            if give == 0:
                break
            take = min(give, entry[1])
            if take:
                suggestion.append(Allocation(site=row.site, lot=entry[0], quantity=take))
                entry[1] -= take
                give -= take
    return suggestion
