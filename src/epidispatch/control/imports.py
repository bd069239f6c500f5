"""Importing a list of key persons pushed by a higher level (协查推送, DESIGN.md §8):
姓名, 身份证件号码, 联系电话, 人员类别, 末次暴露或抵达日期, optional 现住网格编码 (needed
for a non-resident), 现住址 and 来源.

A row is the case of a person, a category and a reference date: the same again (in the
file or in the database) is a duplicate or unchanged, so importing a list twice adds
nobody. Each row is checked on its own (a savepoint) inside one transaction for the file.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from epidispatch.core import protection
from epidispatch.core.ids import mask_id_number, parse_id_number
from epidispatch.core.importing import ImportSummary, RowError
from epidispatch.core.tables import cell_text, match_columns, read_table, unmatched_headers
from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.registry.models import Resident

from .models import Category, Source
from .services import case_register, key_person_resolve

COLUMNS = {
    "name": ("姓名", "人员姓名"),
    "id_number": ("身份证件号码", "身份证号", "身份证号码", "证件号码", "公民身份号码"),
    "phone": ("联系电话", "电话", "手机号", "手机号码"),
    "category": ("人员类别", "类别", "人员类型", "管控类别"),
    "reference_date": ("末次暴露或抵达日期", "末次暴露日期", "抵达日期", "末次接触日期"),
    "grid": ("现住网格编码", "网格编码", "所在网格编码"),
    "address": ("现住址", "现住地址", "住址"),
    "source": ("来源", "信息来源"),
}
REQUIRED = ("name", "id_number", "category", "reference_date")

CATEGORY_SPELLINGS = {
    **{category.value: category.value for category in Category},
    "密接": Category.CLOSE_CONTACT, "密切接触者": Category.CLOSE_CONTACT,
    "次密接": Category.SECONDARY_CONTACT, "密接的密接": Category.SECONDARY_CONTACT,
    "次密切接触者": Category.SECONDARY_CONTACT,
    "高风险地区来返": Category.HIGH_RISK_ARRIVAL, "高风险区来返": Category.HIGH_RISK_ARRIVAL,
    "高风险地区来返人员": Category.HIGH_RISK_ARRIVAL, "高风险区": Category.HIGH_RISK_ARRIVAL,
    "中风险地区来返": Category.MEDIUM_RISK_ARRIVAL, "中风险区来返": Category.MEDIUM_RISK_ARRIVAL,
    "中风险地区来返人员": Category.MEDIUM_RISK_ARRIVAL, "中风险区": Category.MEDIUM_RISK_ARRIVAL,
    "入境人员": Category.INBOUND, "入境": Category.INBOUND,
}  # fmt: skip
SOURCE_SPELLINGS = {
    **{source.value: source.value for source in Source},
    "协查推送": Source.PUSHED, "协查": Source.PUSHED, "推送": Source.PUSHED,
    "上级推送": Source.PUSHED,
    "二码联查": Source.CHECKPOINT, "卡口": Source.CHECKPOINT, "查验点": Source.CHECKPOINT,
    "自主申报": Source.SELF_REPORT, "主动报告": Source.SELF_REPORT, "自报": Source.SELF_REPORT,
    "流调": Source.TRACING, "流调排查": Source.TRACING,
}  # fmt: skip
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d", "%Y.%m.%d")


class RowProblem(Exception):
    def __init__(self, column: str, reason: str):
        super().__init__(reason)
        self.column, self.reason = column, str(reason)


def parse_day(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = cell_text(value).split(" ")[0]
    for pattern in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def key_persons_import(path, *, registered_on: datetime.date) -> ImportSummary:
    """Import a pushed list; every case is registered on `registered_on` (the version in
    force that day gives the measures)."""
    table = read_table(path)
    columns = match_columns(table.headers, COLUMNS, REQUIRED)
    header = {field: table.headers[index] for field, index in columns.items()}
    header.setdefault("grid", COLUMNS["grid"][0])
    summary = ImportSummary(extra_columns=unmatched_headers(table.headers, columns))
    grids = {unit.code: unit for unit in OrgUnit.objects.filter(kind=UnitKind.GRID)}
    seen: set[tuple[str, str, datetime.date]] = set()
    with transaction.atomic():
        for number, cells in table.rows:
            summary.rows += 1
            raw = {field: cells[index] if index < len(cells) else None
                   for field, index in columns.items()}  # fmt: skip
            values = {field: cell_text(value) for field, value in raw.items()}
            try:
                with transaction.atomic():
                    key = _import_row(values, raw, header, grids, registered_on, seen, summary)
            except RowProblem as problem:
                summary.reject(
                    RowError(
                        row=number,
                        column=problem.column,
                        reason=problem.reason,
                        name=values.get("name", "")[:60],
                        id_number=mask_id_number(values.get("id_number", "").replace(" ", "")),
                    )
                )
                continue
            seen.add(key)
    return summary


def _import_row(values, raw, header, grids, registered_on, seen, summary):
    for field in REQUIRED:
        if not values[field]:
            raise RowProblem(header[field], _("This cell is empty."))
    name = values["name"]
    if len(name) > 60 or "\x00" in name:
        raise RowProblem(header["name"], _("A name has at most 60 characters."))
    try:
        card = parse_id_number(values["id_number"])
    except ValidationError as error:
        raise RowProblem(header["id_number"], " ".join(error.messages)) from None
    category = CATEGORY_SPELLINGS.get(values["category"])
    if category is None:
        raise RowProblem(
            header["category"], _("Unknown category: %(value)s.") % {"value": values["category"]}
        )
    reference_date = parse_day(raw["reference_date"])
    if reference_date is None:
        raise RowProblem(
            header["reference_date"],
            _("Not a date; write it as 2022-07-01, 2022/7/1 or 2022年7月1日."),
        )
    source = SOURCE_SPELLINGS.get(values.get("source") or Source.PUSHED.value)
    if source is None:
        raise RowProblem(
            header["source"], _("Unknown source: %(value)s.") % {"value": values["source"]}
        )
    key = (card.number, category, reference_date)
    if key in seen:
        summary.duplicates += 1
        return key
    grid_code = values.get("grid", "").replace(" ", "")
    grid = grids.get(grid_code)
    if grid_code and grid is None:
        raise RowProblem(header["grid"], _("No grid has the code %(code)s.") % {"code": grid_code})
    digest = protection.lookup_digest(card.number)
    if grid is None and not Resident.objects.filter(id_number_digest=digest).exists():
        raise RowProblem(
            header["grid"],
            _("Not a registered resident: give the grid where the person stays."),
        )
    phone = values.get("phone", "")
    if len(phone) > 20:
        raise RowProblem(header["phone"], _("A phone number has at most 20 characters."))
    person = key_person_resolve(
        name=name, id_number=card.number, phone=phone, grid=grid,
        address=values.get("address", ""),
    )  # fmt: skip
    try:
        registration = case_register(
            person=person,
            category=category,
            reference_date=reference_date,
            registered_on=registered_on,
            source=source,
        )
    except ValidationError as error:
        column = header["reference_date"] if error.code == "reference_date" else header["category"]
        raise RowProblem(column, " ".join(error.messages)) from None
    if registration.created:
        summary.stored += 1
    else:
        summary.unchanged += 1
    return key
