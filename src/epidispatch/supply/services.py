"""Writes of supply: the stock ledger (库存台账) and AEFI reports, one function per verb,
each one transaction.

Every move of the ledger locks the balance rows it changes (in a fixed order, so two
transfers between the same sites cannot deadlock) and refuses to take a balance below
zero. Moves carry who posted them and when, and each move posted here is on the audit
trail as well (django-auditlog, filed under the holder's unit; the administered moves of a
file import are covered by the import's own audit entry, as its doses are). AEFI
reports (疑似预防接种异常反应) are filed when found, reported within the deadline of the
AEFIDeadline table, then investigated and classified by the county CDC.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.accounts.models import Role
from epidispatch.core.scoping import holds_role_over
from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.vaccination.models import Dose, DoseSource, VaccineProduct

from .codes import PackCode, TraceKind, pack_code_parse, trace_code_is_wellformed
from .models import (
    AEFIClassification,
    AEFIDeadline,
    AEFIReport,
    AEFISeverity,
    AEFIStatus,
    ItemKind,
    Lot,
    MoveKind,
    Package,
    StockBalance,
    StockMove,
    SupplyItem,
)
from .permissions import files_aefi, investigates_aefi, manages_stock_of, reports_aefi
from .selectors import HOLDER_KINDS

#: No delivery or count is larger; a bigger number is a typing slip.
MAX_QUANTITY = 1_000_000


def supply_item_for_product(product: VaccineProduct) -> SupplyItem:
    """The stock item of a vaccine product (a product added later gets one on first use)."""
    item, _created = SupplyItem.objects.get_or_create(
        product=product, defaults={"name": product.name[:60], "kind": ItemKind.VACCINE}
    )
    return item


def _check_holds_stock(holder: OrgUnit) -> None:
    if holder.kind not in HOLDER_KINDS:
        raise ValidationError(
            _("%(unit)s holds no stock: stock is kept at a site or the county's store.")
            % {"unit": holder.name},
            code="not_a_holder",
        )


def _check_holder(user, holder: OrgUnit) -> None:
    _check_holds_stock(holder)
    if not manages_stock_of(user, holder):
        raise PermissionDenied(_("You do not manage the stock of %(unit)s.") % {"unit": holder})


def _check_quantity(quantity: int) -> None:
    if not 0 < quantity <= MAX_QUANTITY:
        raise ValidationError(
            _("The quantity must be between 1 and %(max)d.") % {"max": MAX_QUANTITY},
            code="quantity",
        )


def _lock(pairs: list[tuple[OrgUnit, Lot]]) -> dict[tuple[int, int], StockBalance]:
    """The balance rows of (holder, lot) pairs, created when missing, locked in id order."""
    locked = {}
    for holder, lot in sorted(pairs, key=lambda pair: (pair[0].pk, pair[1].pk)):
        balance, _created = StockBalance.objects.select_for_update().get_or_create(
            holder=holder, lot=lot, defaults={"county_code": holder.county_code}
        )
        balance.holder, balance.lot = holder, lot  # already loaded: no query per move
        locked[(holder.pk, lot.pk)] = balance
    return locked


def _post(balance: StockBalance, *, kind: str, quantity: int, **fields) -> StockMove:
    """Append one move and carry its quantity to the (locked) balance."""
    if balance.on_hand + quantity < 0:
        raise ValidationError(
            _("Only %(on_hand)d of lot %(lot)s are in stock at %(holder)s.")
            % {"on_hand": balance.on_hand, "lot": balance.lot.number, "holder": balance.holder},
            code="insufficient_stock",
        )
    balance.on_hand += quantity
    balance.save(update_fields=["on_hand"])
    return StockMove.objects.create(
        holder=balance.holder,
        lot=balance.lot,
        county_code=balance.county_code,
        kind=kind,
        quantity=quantity,
        **fields,
    )


def _lot(item: SupplyItem, number: str, expires_on: date) -> Lot:
    number = number.strip()
    if not number or len(number) > 40:
        raise ValidationError(_("A lot number has 1 to 40 characters."), code="lot_number")
    lot, _created = Lot.objects.get_or_create(
        item=item, number=number, defaults={"expires_on": expires_on}
    )
    if lot.expires_on != expires_on:
        raise ValidationError(
            _("Lot %(lot)s is registered as expiring on %(day)s.")
            % {"lot": number, "day": lot.expires_on},
            code="lot_expiry",
        )
    return lot


def _package(item: SupplyItem, lot: Lot, raw: str) -> Package:
    """A pack code received with a lot: well-formed, of this item and lot, and new."""
    code = pack_code_parse(raw)
    prefix = item.trace_prefix
    if code.kind == TraceKind.NMPA and prefix and code.product_prefix != prefix:
        raise ValidationError(
            _("Trace code %(code)s is not a pack of %(item)s.") % {"code": code.code, "item": item},
            code="other_product",
        )
    if code.kind == TraceKind.GS1:
        if item.product and item.product.gtins and code.gtin not in item.product.gtins:
            raise ValidationError(
                _("GTIN %(gtin)s is not a pack of %(item)s.") % {"gtin": code.gtin, "item": item},
                code="other_product",
            )
        _check_code_lot(code, lot)
    if Package.objects.filter(code=code.code).exists():
        raise ValidationError(
            _("Pack %(code)s was received already.") % {"code": code.code}, code="known_code"
        )
    return Package(code=code.code, lot=lot, doses=item.doses_per_package)


def _check_code_lot(code: PackCode, lot: Lot) -> None:
    if code.lot_number and code.lot_number != lot.number:
        raise ValidationError(
            _("The pack says lot %(printed)s, the ledger lot %(lot)s.")
            % {"printed": code.lot_number, "lot": lot.number},
            code="lot_mismatch",
        )
    if code.expires_on and code.expires_on != lot.expires_on:
        raise ValidationError(
            _("The pack says it expires on %(printed)s, the lot on %(day)s.")
            % {"printed": code.expires_on, "day": lot.expires_on},
            code="expiry_mismatch",
        )


@transaction.atomic
def stock_receive(
    *,
    holder: OrgUnit,
    item: SupplyItem,
    lot_number: str,
    expires_on: date,
    quantity: int,
    by,
    package_codes: tuple[str, ...] = (),
    note: str = "",
) -> StockMove:
    """Receive a delivery (平台入库) into a store or site, with the codes of its packs."""
    _check_holder(by, holder)
    _check_quantity(quantity)
    lot = _lot(item, lot_number, expires_on)
    Package.objects.bulk_create(_packages(item, lot, quantity, package_codes))
    balance = _lock([(holder, lot)])[(holder.pk, lot.pk)]
    return _post(balance, kind=MoveKind.RECEIVE, quantity=quantity, by=by, note=note[:200])


def _packages(item: SupplyItem, lot: Lot, quantity: int, codes: tuple[str, ...]) -> list[Package]:
    packages = [_package(item, lot, raw) for raw in codes if raw.strip()]
    if len({p.code for p in packages}) != len(packages):
        raise ValidationError(_("The same pack code is listed twice."), code="known_code")
    if sum(p.doses for p in packages) > quantity:
        raise ValidationError(
            _("The packs listed hold more than the %(quantity)d received.")
            % {"quantity": quantity},
            code="packages_exceed",
        )
    return packages


@transaction.atomic
def stock_receipt_post(
    *,
    holder: OrgUnit,
    item: SupplyItem,
    lot_number: str,
    expires_on: date,
    quantity: int,
    receipt: str,
    by,
    package_codes: tuple[str, ...] = (),
    received_at: datetime | None = None,
    note: str = "",
) -> tuple[StockMove, bool]:
    """One line of a delivery note (入库单): `quantity` of a lot received at `holder`.

    The note's number, the holder and the lot name the line, so posting it again finds the
    move already in the ledger and changes nothing (`(move, False)`); the same line with
    another quantity is refused (the ledger is corrected by a stocktake or a reversal, never
    by a second receipt). `by` None is the server's administrator on the command line.
    """
    receipt = receipt.strip()
    if not receipt or len(receipt) > 40:
        raise ValidationError(_("A delivery note number has 1 to 40 characters."), code="receipt")
    if by is None:
        _check_holds_stock(holder)
    else:
        _check_holder(by, holder)
    _check_quantity(quantity)
    lot = _lot(item, lot_number, expires_on)
    # The balance row is the line's lock: a second import of the same note waits here,
    # then finds the first one's move.
    balance = _lock([(holder, lot)])[(holder.pk, lot.pk)]
    posted = StockMove.objects.filter(
        kind=MoveKind.RECEIVE, holder=holder, lot=lot, receipt=receipt
    ).first()
    if posted is not None:
        if posted.quantity != quantity:
            raise ValidationError(
                _(
                    "Delivery note %(receipt)s already brought %(posted)d of lot %(lot)s to "
                    "%(holder)s; correct the stock with a stocktake or a reversal."
                )
                % {"receipt": receipt, "posted": posted.quantity, "lot": lot.number,
                   "holder": holder.name},
                code="receipt_conflict",
            )  # fmt: skip
        return posted, False
    Package.objects.bulk_create(_packages(item, lot, quantity, package_codes))
    move = _post(
        balance,
        kind=MoveKind.RECEIVE,
        quantity=quantity,
        by=by,
        receipt=receipt,
        note=note[:200],
        at=received_at or timezone.now(),
    )
    return move, True


@transaction.atomic
def stock_transfer(
    *, source: OrgUnit, target: OrgUnit, lot: Lot, quantity: int, by, note: str = ""
) -> uuid.UUID:
    """Move stock from a store or site to another (分配 from the county's store, 平级调拨
    between sites): two moves, posted together. Only the supply officer over both ends
    may order it."""
    if source.pk == target.pk:
        raise ValidationError(_("A transfer needs two different places."), code="same_place")
    for holder in (source, target):
        _check_holder(by, holder)
        if not holds_role_over(by, (Role.SUPPLY_OFFICER,), holder.path):
            raise PermissionDenied(_("Transfers are ordered by the supply officer."))
    _check_quantity(quantity)
    if lot.expired_on(timezone.localdate()):
        raise ValidationError(
            _("Lot %(lot)s expired on %(day)s and may not be sent on.")
            % {"lot": lot.number, "day": lot.expires_on},
            code="expired",
        )
    kind = MoveKind.TRANSFER if source.kind == UnitKind.SITE else MoveKind.ALLOCATE
    balances = _lock([(source, lot), (target, lot)])
    group = uuid.uuid4()
    now = timezone.now()
    common = {"kind": kind, "by": by, "group": group, "at": now, "note": note[:200]}
    _post(balances[(source.pk, lot.pk)], quantity=-quantity, counterpart=target, **common)
    _post(balances[(target.pk, lot.pk)], quantity=quantity, counterpart=source, **common)
    return group


@transaction.atomic
def stock_write_off(*, holder: OrgUnit, lot: Lot, quantity: int, by, reason: str) -> StockMove:
    """Write off wasted or damaged stock (报损), with the reason."""
    _check_holder(by, holder)
    _check_quantity(quantity)
    if not reason.strip():
        raise ValidationError(_("Say why the stock is written off."), code="no_reason")
    balance = _lock([(holder, lot)])[(holder.pk, lot.pk)]
    return _post(
        balance, kind=MoveKind.WRITE_OFF, quantity=-quantity, by=by, note=reason.strip()[:200]
    )


@transaction.atomic
def stock_expire(*, holder: OrgUnit, lot: Lot, by) -> StockMove | None:
    """Take what is left of an expired lot out of the usable stock (过期)."""
    _check_holder(by, holder)
    if not lot.expired_on(timezone.localdate()):
        raise ValidationError(
            _("Lot %(lot)s is good until %(day)s.") % {"lot": lot.number, "day": lot.expires_on},
            code="not_expired",
        )
    balance = _lock([(holder, lot)])[(holder.pk, lot.pk)]
    if balance.on_hand == 0:
        return None
    return _post(balance, kind=MoveKind.EXPIRE, quantity=-balance.on_hand, by=by)


@transaction.atomic
def stocktake(*, holder: OrgUnit, lot: Lot, counted: int, by, note: str = "") -> StockMove | None:
    """Record a count (盘点): the difference from the ledger is posted as a move."""
    _check_holder(by, holder)
    if not 0 <= counted <= MAX_QUANTITY:
        raise ValidationError(
            _("The quantity must be between 0 and %(max)d.") % {"max": MAX_QUANTITY},
            code="quantity",
        )
    balance = _lock([(holder, lot)])[(holder.pk, lot.pk)]
    difference = counted - balance.on_hand
    if difference == 0:
        return None
    return _post(balance, kind=MoveKind.STOCKTAKE, quantity=difference, by=by, note=note[:200])


@transaction.atomic
def move_reverse(*, move: StockMove, by, reason: str) -> list[StockMove]:
    """Undo a move posted in error (冲正) by posting its opposite; a transfer is undone
    whole. An administered dose is taken back by deleting the dose, not here."""
    if not reason.strip():
        raise ValidationError(_("Say why the move is reversed."), code="no_reason")
    group = list(StockMove.objects.filter(group=move.group).select_related("holder", "lot"))
    for leg in group:
        _check_holder(by, leg.holder)
    if any(leg.kind in (MoveKind.REVERSAL, MoveKind.ADMINISTER) for leg in group):
        raise ValidationError(_("This move cannot be reversed here."), code="not_reversible")
    if StockMove.objects.filter(reverses__group=move.group).exists():
        raise ValidationError(_("This move was reversed already."), code="reversed")
    balances = _lock([(leg.holder, leg.lot) for leg in group])
    reversal_group = uuid.uuid4()
    # Take stock out before putting it back, so a reversal never passes through zero.
    return [
        _post(
            balances[(leg.holder_id, leg.lot_id)],
            kind=MoveKind.REVERSAL,
            quantity=-leg.quantity,
            counterpart=leg.counterpart,
            reverses=leg,
            group=reversal_group,
            by=by,
            note=reason.strip()[:200],
        )
        for leg in sorted(group, key=lambda leg: -leg.quantity)
    ]


def pack_check(*, code: str, on: date, product: VaccineProduct | None = None) -> Package:
    """The pack a site is about to use, or ValidationError saying why it may not be: an
    unknown code, another product, an expired lot, or a pack already used up."""
    parsed = pack_code_parse(code)
    package = (
        Package.objects.select_for_update(of=("self",))
        .select_related("lot__item")
        .filter(code=parsed.code)
        .first()
    )
    if package is None:
        raise ValidationError(
            _("Unknown code %(code)s: no pack with this code was received.")
            % {"code": parsed.code},
            code="unknown_code",
        )
    lot = package.lot
    if lot.item.product_id is None:
        raise ValidationError(
            _("%(code)s is a pack of %(item)s, not of a vaccine.")
            % {"code": package.code, "item": lot.item},
            code="other_product",
        )
    if product is not None and lot.item.product_id != product.pk:
        raise ValidationError(
            _("This pack is %(item)s, not %(product)s.")
            % {"item": lot.item, "product": product.name},
            code="other_product",
        )
    _check_code_lot(parsed, lot)
    if lot.expired_on(on):
        raise ValidationError(
            _("Lot %(lot)s expired on %(day)s.") % {"lot": lot.number, "day": lot.expires_on},
            code="expired",
        )
    used = Dose.objects.filter(trace_code=package.code).count()
    if used >= package.doses:
        raise ValidationError(
            _("Pack %(code)s holds %(doses)d doses and all have been given.")
            % {"code": package.code, "doses": package.doses},
            code="used_up",
        )
    return package


def dose_administer(sender, *, dose: Dose, by, note: str = "", **kwargs) -> StockMove | None:
    """Receiver of `dose_recorded`: check the pack the site used and take the dose out of
    the site's stock of its lot (接种出库). A refusal rolls the dose back with it."""
    lot = None
    if dose.trace_code:
        # The dose is stored already, so it must not count against its own pack.
        Dose.objects.filter(pk=dose.pk).update(trace_code="")
        package = pack_check(code=dose.trace_code, on=dose.given_on, product=dose.product)
        lot = package.lot
        if dose.lot_number and dose.lot_number != lot.number:
            raise ValidationError(
                _("Lot %(typed)s was entered, but the pack is of lot %(lot)s.")
                % {"typed": dose.lot_number, "lot": lot.number},
                code="lot_mismatch",
            )
        Dose.objects.filter(pk=dose.pk).update(trace_code=package.code, lot_number=lot.number)
    elif dose.lot_number:
        lot = Lot.objects.filter(item__product_id=dose.product_id, number=dose.lot_number).first()
    if lot is None or dose.site_id is None:
        return None
    if lot.expired_on(dose.given_on):
        raise ValidationError(
            _("Lot %(lot)s expired on %(day)s.") % {"lot": lot.number, "day": lot.expires_on},
            code="expired",
        )
    site = OrgUnit.objects.get(pk=dose.site_id)
    balance = _lock([(site, lot)])[(site.pk, lot.pk)]
    return _post(
        balance, kind=MoveKind.ADMINISTER, quantity=-1, dose_id=dose.pk, by=by, note=note[:200]
    )


def doses_imported_administer(sender, *, batch, **kwargs) -> int:
    """Receiver of `doses_imported`: the file's doses given at a site from a lot the ledger
    holds there leave that stock, the earliest first. The file is the record of what was
    given, so a dose the stock cannot cover is not refused; it stays out of the ledger
    until a stocktake (盘点) posts the difference."""
    lots = {
        (lot.item.product_id, lot.number): lot
        for lot in Lot.objects.filter(item__product__isnull=False).select_related("item")
    }
    if not lots:
        return 0  # a million-row file is not read back for nothing
    doses = (
        Dose.objects.filter(batch=batch, site__isnull=False)
        .filter(lot_number__in={number for _product, number in lots})
        .order_by("given_on", "pk")
        .values_list("pk", "site_id", "product_id", "lot_number")
    )
    wanted: dict[tuple[int, int], list[int]] = {}
    for dose_id, site_id, product_id, number in doses:
        lot = lots.get((product_id, number))
        if lot is not None:
            wanted.setdefault((site_id, lot.pk), []).append(dose_id)
    posted = 0
    sites = OrgUnit.objects.in_bulk({site_id for site_id, _lot in wanted})
    by_id = {lot.pk: lot for lot in lots.values()}
    for (site_id, lot_id), dose_ids in sorted(wanted.items()):
        balance = _lock([(sites[site_id], by_id[lot_id])])[(site_id, lot_id)]
        covered = dose_ids[: balance.on_hand]
        StockMove.objects.bulk_create(
            StockMove(
                holder_id=site_id,
                lot_id=lot_id,
                county_code=balance.county_code,
                kind=MoveKind.ADMINISTER,
                quantity=-1,
                dose_id=dose_id,
                by=batch.uploaded_by,
            )
            for dose_id in covered
        )
        balance.on_hand -= len(covered)
        balance.save(update_fields=["on_hand"])
        posted += len(covered)
    return posted


def dose_withdraw(sender, *, instance: Dose, **kwargs) -> None:
    """Receiver of Dose's pre_delete: a dose deleted as recorded in error goes back into the
    stock it was taken from."""
    _administer_reverse(instance, _("dose deleted"))


def _administer_reverse(dose: Dose, note: str) -> None:
    move = (
        StockMove.objects.filter(
            kind=MoveKind.ADMINISTER, dose_id=dose.pk, reversed_by__isnull=True
        )
        .select_related("holder", "lot")
        .first()
    )
    if move is None:
        return
    balance = _lock([(move.holder, move.lot)])[(move.holder_id, move.lot_id)]
    _post(balance, kind=MoveKind.REVERSAL, quantity=1, reverses=move, note=note[:200])


#: The note of the moves a corrected lot number or trace code posts: a dose's original
#: administered move carries none (`one_administered_move_per_dose`).
CORRECTED = "更正"


def dose_repack(sender, *, dose: Dose, by, **kwargs) -> StockMove | None:
    """Receiver of `dose_pack_changed`: a dose's lot number or trace code was corrected.
    The dose goes back into the stock it was taken from; then the pack named now is
    checked as at the site's table (a known pack of the dose's product, its lot the lot
    named, not expired, not used up) and the dose leaves that lot's stock. A dose of a file
    or from elsewhere may carry a code the ledger never received (the file is the record),
    but never a malformed one (国家督察: 追溯码格式错误). A refusal rolls the correction back."""
    _administer_reverse(dose, CORRECTED)
    code = dose.trace_code
    known = bool(code) and (
        trace_code_is_wellformed(code)
        and Package.objects.filter(code=pack_code_parse(code).code).exists()
    )
    if dose.source == DoseSource.SITE or known or not code:
        return dose_administer(sender, dose=dose, by=by, note=CORRECTED)
    if not trace_code_is_wellformed(code):
        raise ValidationError(
            _("%(code)s is not a trace code: 20 digits, or a GS1 code of one pack.")
            % {"code": code[:40]},
            code="malformed_code",
        )
    return None


@dataclass(frozen=True)
class PackScan:
    """What a scanned pack fills in on the dose form."""

    product_id: int
    product: str
    lot_number: str
    expires_on: date
    trace_code: str
    doses_left: int


def pack_scan(*, site: OrgUnit, code: str, on: date) -> PackScan:
    """Read a pack at the site's table: the pack must be usable, and its lot in the site's
    stock (a pack delivered elsewhere was not sent here)."""
    with transaction.atomic():
        package = pack_check(code=code, on=on)
    lot = package.lot
    if not StockBalance.objects.filter(holder=site, lot=lot, on_hand__gt=0).exists():
        raise ValidationError(
            _("Lot %(lot)s is not in stock at %(site)s.") % {"lot": lot.number, "site": site},
            code="not_in_stock",
        )
    used = Dose.objects.filter(trace_code=package.code).count()
    return PackScan(
        product_id=lot.item.product_id,
        product=lot.item.product.name,
        lot_number=lot.number,
        expires_on=lot.expires_on,
        trace_code=package.code,
        doses_left=package.doses - used,
    )


def _hours(case: str) -> AEFIDeadline:
    deadline = AEFIDeadline.objects.filter(case=case).first()
    if deadline is None:
        raise ValidationError(
            _("No reporting deadline is set for %(case)s cases.") % {"case": case},
            code="no_deadline",
        )
    return deadline


@transaction.atomic
def aefi_report_file(
    *,
    dose: Dose,
    severity: str,
    description: str,
    discovered_at: datetime,
    by,
    clustered: bool = False,
    follow_up_id: int | None = None,
) -> AEFIReport:
    """File a suspected reaction found after `dose`; its report is due 48 h after it was
    found, 2 h for a death, a severe or a clustered case (per AEFIDeadline)."""
    if severity not in AEFISeverity.values:
        raise ValidationError(_("Say how severe the reaction is."), code="severity")
    description = description.replace("\x00", "").strip()
    if not description:
        raise ValidationError(_("Describe the reaction."), code="description")
    dose = Dose.objects.select_related("resident").get(pk=dose.pk)
    case = "clustered" if clustered else severity
    return AEFIReport.objects.create(
        dose=dose,
        resident=dose.resident,
        product_id=dose.product_id,
        lot_number=dose.lot_number,
        site_id=dose.site_id,
        county_code=dose.county_code,
        severity=severity,
        clustered=clustered,
        description=description[:4000],
        follow_up_id=follow_up_id,
        discovered_at=discovered_at,
        filed_by=by,
        report_due_by=discovered_at + timedelta(hours=_hours(case).report_hours),
    )


@transaction.atomic
def aefi_report_submit(
    *,
    dose: Dose,
    severity: str,
    description: str,
    discovered_at: datetime,
    by,
    clustered: bool = False,
) -> AEFIReport:
    """File a suspected reaction directly (the site's staff or the CDC, through the API):
    `aefi_report_file` once `by` may, for a reaction found after the dose and not later
    than now."""
    if not files_aefi(by, dose):
        raise PermissionDenied(
            _("Only the staff of the site that gave the dose or the CDC file this report.")
        )
    if discovered_at > timezone.now():
        raise ValidationError(_("A reaction cannot be found in the future."), code="discovered_at")
    if timezone.localdate(discovered_at) < dose.given_on:
        raise ValidationError(
            _("The reaction is found before the dose was given (%(day)s).")
            % {"day": dose.given_on.isoformat()},
            code="discovered_at",
        )
    return aefi_report_file(
        dose=dose, severity=severity, description=description, discovered_at=discovered_at,
        by=by, clustered=clustered,
    )  # fmt: skip


def aefi_from_follow_up(sender, *, dose, severity, description, discovered_at, by, **kwargs):
    """Receiver of `adverse_reaction_suspected` (field work's 60+ follow-ups)."""
    return aefi_report_file(
        dose=dose,
        severity=severity,
        description=description,
        discovered_at=discovered_at,
        by=by,
        follow_up_id=kwargs.get("follow_up_id"),
    )


def _locked(report: AEFIReport, by, may) -> AEFIReport:
    report = (
        AEFIReport.objects.select_for_update(of=("self",))
        .select_related("resident__grid", "site")
        .get(pk=report.pk)
    )
    if not may(by, report):
        raise PermissionDenied(_("You may not handle this report."))
    return report


def _refuse_unless(report: AEFIReport, *statuses: str) -> None:
    if report.status not in statuses:
        raise ValidationError(
            _("This report is %(status)s; that step is not open now.")
            % {"status": report.get_status_display()},
            code="wrong_status",
        )


@transaction.atomic
def aefi_mark_reported(*, report: AEFIReport, by) -> AEFIReport:
    """The case was reported (网络直报); the CDC's investigation falls due from now."""
    report = _locked(report, by, reports_aefi)
    _refuse_unless(report, AEFIStatus.DISCOVERED)
    now = timezone.now()
    report.reported_at = now
    report.investigation_due_by = now + timedelta(hours=_hours(report.case).investigate_hours)
    report.status = AEFIStatus.REPORTED
    report.save(update_fields=["reported_at", "investigation_due_by", "status"])
    return report


@transaction.atomic
def aefi_investigation_start(*, report: AEFIReport, by) -> AEFIReport:
    """The county CDC began its investigation (调查)."""
    report = _locked(report, by, investigates_aefi)
    _refuse_unless(report, AEFIStatus.REPORTED)
    report.investigation_started_at = timezone.now()
    report.status = AEFIStatus.INVESTIGATING
    report.save(update_fields=["investigation_started_at", "status"])
    return report


@transaction.atomic
def aefi_classify(*, report: AEFIReport, classification: str, by) -> AEFIReport:
    """The investigation's conclusion (诊断/鉴定): one of the six classes."""
    if classification not in AEFIClassification.values:
        raise ValidationError(_("Choose a classification."), code="classification")
    report = _locked(report, by, investigates_aefi)
    _refuse_unless(report, AEFIStatus.INVESTIGATING, AEFIStatus.CLASSIFIED)
    report.classification = classification
    report.status = AEFIStatus.CLASSIFIED
    report.save(update_fields=["classification", "status"])
    return report


@transaction.atomic
def aefi_close(*, report: AEFIReport, by) -> AEFIReport:
    """Handling finished (结案)."""
    report = _locked(report, by, investigates_aefi)
    _refuse_unless(report, AEFIStatus.CLASSIFIED)
    report.status = AEFIStatus.CLOSED
    report.save(update_fields=["status"])
    return report
