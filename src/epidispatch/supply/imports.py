"""The stock-receipt file (入库单), declared as a file kind of the shared import framework:
入库单号, 入库单位编码, 物资名称, 批号, 有效期至, 数量, optional 入库日期, 追溯码 and 备注.

One row is one line of a delivery note: a quantity of one lot received at a store or a
site, with the codes of its packs. The note's number, the holder and the lot name the
line, so importing the same file again finds every line in the ledger and changes nothing
(`unchanged`); the same line with another quantity is a rejected row (the ledger is
corrected by a stocktake or a reversal, never by a second receipt). Each line goes through
`stock_receipt_post`, the ledger's own verb, inside the import's one transaction: a killed
import posts nothing.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from epidispatch.accounts.models import Role
from epidispatch.imports.kinds import Column, FileKind, RowProblem, register
from epidispatch.orgunits.models import OrgUnit
from epidispatch.vaccination.models import VaccineProduct

from .models import SupplyItem
from .services import HOLDER_KINDS, MAX_QUANTITY, stock_receipt_post, supply_item_for_product

DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d", "%Y.%m.%d")
#: What separates the pack codes of one line: spaces, line breaks, commas, semicolons, 、.
CODE_SEPARATORS = re.compile(r"[\s,，;；、]+")
#: The ledger's refusals (ValidationError codes) and the column each one is about.
FIELD_OF_REFUSAL = {
    "receipt": "receipt",
    "not_a_holder": "holder",
    "quantity": "quantity",
    "receipt_conflict": "quantity",
    "lot_number": "lot_number",
    "lot_expiry": "expires_on",
}
MAX_PACK_CODES_CHARS = 32_000


@dataclass(frozen=True)
class ReceiptLine:
    receipt: str
    holder: OrgUnit
    item: SupplyItem | None
    product: VaccineProduct | None
    lot_number: str
    expires_on: date
    quantity: int
    received_on: date | None
    package_codes: tuple[str, ...]
    note: str

    @property
    def key(self) -> tuple:
        item = ("item", self.item.pk) if self.item else ("product", self.product.pk)
        return (self.receipt, self.holder.pk, item, self.lot_number)


def _squeeze(text: str) -> str:
    """A name as offices type it: no spaces, brackets full-width as the registered names."""
    return "".join(text.split()).replace("(", "（").replace(")", "）")


def _items(run) -> dict[str, SupplyItem | VaccineProduct]:
    """Every spelling of an item → the item, or the vaccine product (whose item the writer
    finds or creates): item names, product names, manufacturers and their short names."""
    if "items" not in run.cache:
        lookup: dict[str, SupplyItem | VaccineProduct] = {}
        for product in VaccineProduct.objects.filter(active=True):
            for spelling in (product.manufacturer, *product.short_names, product.name):
                if spelling:
                    lookup[_squeeze(spelling)] = product
        for item in SupplyItem.objects.select_related("product"):
            lookup[_squeeze(item.name)] = item
        run.cache["items"] = lookup
        run.cache["holders"] = {}
    return run.cache["items"]


def _holder(run, code: str) -> OrgUnit:
    holders = run.cache["holders"]
    if code not in holders:
        holders[code] = OrgUnit.objects.filter(code=code).first()
    holder = holders[code]
    if holder is None or not run.may_write(holder.path):
        raise RowProblem("holder", _("No org unit %(code)s within your units.") % {"code": code})
    if holder.kind not in HOLDER_KINDS:
        raise RowProblem(
            "holder",
            _("%(unit)s holds no stock: stock is kept at a site or the county's store.")
            % {"unit": holder.name},
        )
    return holder


def parse_day(text: str) -> date | None:
    """A date as delivery notes write it (an Excel date cell arrives as 2022-07-01 00:00:00)."""
    text = unicodedata.normalize("NFKC", text).strip().split(" ")[0]
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _day(values: dict[str, str], field: str) -> date:
    day = parse_day(values[field])
    if day is None:
        raise RowProblem(
            field,
            _("%(value)s is not a date; write it as 2022-07-01.") % {"value": values[field]},
        )
    return day


def _quantity(text: str) -> int:
    digits = unicodedata.normalize("NFKC", text).replace(",", "").strip()
    if re.fullmatch(r"\d{1,9}(\.0+)?", digits):
        quantity = int(digits.split(".")[0])
        if 0 < quantity <= MAX_QUANTITY:
            return quantity
    raise RowProblem(
        "quantity",
        _("The quantity must be a whole number between 1 and %(max)d, not %(value)s.")
        % {"max": MAX_QUANTITY, "value": text},
    )


def receipt_line_of(values: dict[str, str], run) -> ReceiptLine:
    items = _items(run)
    holder = _holder(run, values["holder"])
    found = items.get(_squeeze(values["item"]))
    if found is None:
        raise RowProblem(
            "item",
            _("Unknown item %(value)s: write the name of a vaccine product or a supply item.")
            % {"value": values["item"]},
        )
    expires_on = _day(values, "expires_on")
    received_on = _day(values, "received_on") if values["received_on"] else None
    if received_on and received_on > timezone.localdate():
        raise RowProblem("received_on", _("The receipt date lies in the future."))
    if expires_on < (received_on or timezone.localdate()):
        raise RowProblem(
            "expires_on",
            _("Lot %(lot)s expired on %(day)s; an expired lot is not received.")
            % {"lot": values["lot_number"], "day": expires_on},
        )
    codes = tuple(code for code in CODE_SEPARATORS.split(values["package_codes"]) if code)
    return ReceiptLine(
        receipt=values["receipt"],
        holder=holder,
        item=found if isinstance(found, SupplyItem) else None,
        product=found if isinstance(found, VaccineProduct) else None,
        lot_number=values["lot_number"],
        expires_on=expires_on,
        quantity=_quantity(values["quantity"]),
        received_on=received_on,
        package_codes=codes,
        note=values["note"],
    )


def _received_at(day: date | None) -> datetime | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time.min))


def receipts_write(run, items: list[tuple[int, ReceiptLine]]) -> None:
    """Post each line through the ledger; a line the ledger refuses is a rejected row (its
    savepoint undone), the others stay in the import's one transaction."""
    seen: dict[tuple, int] = {}
    touched = set()
    for done, (row, line) in enumerate(items, start=1):
        if line.key in seen:
            if seen[line.key] == line.quantity:
                run.summary.duplicates += 1
            else:
                run.reject(
                    row,
                    "quantity",
                    _("Delivery note %(receipt)s lists lot %(lot)s twice with other quantities.")
                    % {"receipt": line.receipt, "lot": line.lot_number},
                )
            continue
        seen[line.key] = line.quantity
        try:
            _move, posted = stock_receipt_post(
                holder=line.holder,
                item=line.item or supply_item_for_product(line.product),
                lot_number=line.lot_number,
                expires_on=line.expires_on,
                quantity=line.quantity,
                receipt=line.receipt,
                by=run.user,
                package_codes=line.package_codes,
                received_at=_received_at(line.received_on),
                note=line.note,
            )
        except PermissionDenied as refusal:
            run.reject(row, "holder", str(refusal))
            continue
        except ValidationError as refusal:
            field = FIELD_OF_REFUSAL.get(refusal.code, "package_codes")
            run.reject(row, field, " ".join(refusal.messages))
            continue
        if posted:
            run.summary.stored += 1
        else:
            run.summary.unchanged += 1
        touched.add(line.holder.path)
        if done % 100 == 0:
            run.progress(done)
    run.touch(touched)


STOCK_RECEIPTS = register(
    FileKind(
        name="stock_receipts",
        label=gettext_lazy("Stock receipts"),
        description=gettext_lazy(
            "Delivery notes (入库单): lots received at a store or a site, with their pack codes."
        ),
        columns=(
            Column(
                "receipt",
                ("入库单号", "入库单编号", "单据号", "单据编号", "出库单号"),
                required=True,
                max_length=40,
                example="RK20211101001",
            ),
            Column(
                "holder",
                ("入库单位编码", "接收单位编码", "收货单位编码", "库房编码", "接种单位编码"),
                required=True,
                max_length=15,
                example="621121",
            ),
            Column(
                "item",
                ("物资名称", "疫苗名称", "品名", "产品名称", "疫苗生产企业"),
                required=True,
                max_length=60,
                example="北京科兴中维生物技术有限公司",
            ),
            Column(
                "lot_number",
                ("批号", "疫苗批号", "生产批号"),
                required=True,
                max_length=40,
                example="202111A",
            ),
            Column(
                "expires_on",
                ("有效期至", "有效期", "失效日期", "效期"),
                required=True,
                max_length=30,
                example="2030-12-31",
            ),
            Column(
                "quantity",
                ("数量", "入库数量", "剂数", "数量（剂）"),
                required=True,
                max_length=12,
                example="100",
            ),
            Column(
                "received_on",
                ("入库日期", "到货日期", "入库时间"),
                max_length=30,
                example="2021-11-01",
            ),
            Column(
                "package_codes",
                ("追溯码", "疫苗追溯码", "药品追溯码", "包装追溯码"),
                max_length=MAX_PACK_CODES_CHARS,
                example="81234560000000000001",
            ),
            Column("note", ("备注",), max_length=200, example=""),
        ),
        check_row=receipt_line_of,
        write=receipts_write,
        roles=(Role.SUPPLY_OFFICER, Role.SITE_STAFF),
    )
)
