"""Loading a county's own org tree from a spreadsheet (`epidispatch import_units FILE`).

Columns: 编码, 名称, 类型, 上级编码 (or their aliases). Rows may come in any order: a
unit is placed after its parent. The whole file is one transaction, so a killed import
stores nothing; a bad row is rejected with its row, column and reason and the others
still land; importing the same file again changes nothing.
"""

from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from epidispatch.core.tables import cell_text, match_columns, read_table

from . import services
from .models import OrgUnit, UnitKind

COLUMNS = {
    "code": ("编码", "单位编码", "机构编码", "区划代码", "代码", "code"),
    "name": ("名称", "单位名称", "机构名称", "name"),
    "kind": ("类型", "单位类型", "层级", "kind"),
    "parent": ("上级编码", "上级单位编码", "上级代码", "parent"),
}
REQUIRED = ("code", "name", "kind")

#: The spellings of each kind a county's own list may use.
KIND_SPELLINGS = {
    **{kind.value: kind.value for kind in UnitKind},
    "市": UnitKind.CITY, "地级市": UnitKind.CITY, "州": UnitKind.CITY,
    "县": UnitKind.COUNTY, "区": UnitKind.COUNTY, "县级市": UnitKind.COUNTY,
    "县/区": UnitKind.COUNTY,
    "镇": UnitKind.TOWN, "乡": UnitKind.TOWN, "街道": UnitKind.TOWN, "乡镇": UnitKind.TOWN,
    "乡镇/街道": UnitKind.TOWN,
    "村": UnitKind.VILLAGE, "社区": UnitKind.VILLAGE, "村/社区": UnitKind.VILLAGE,
    "网格": UnitKind.GRID,
    "部门": UnitKind.DEPARTMENT, "县直部门": UnitKind.DEPARTMENT, "市直部门": UnitKind.DEPARTMENT,
    "行业网格": UnitKind.INDUSTRY_GRID,
    "接种点": UnitKind.SITE, "接种单位": UnitKind.SITE,
}  # fmt: skip


@dataclass
class RowError:
    row: int
    column: str
    reason: str


@dataclass
class UnitRow:
    row: int
    code: str
    name: str
    kind: str
    parent_code: str


@dataclass
class UnitImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)

    def reject(self, row: int, column: str, reason: str) -> None:
        self.rejected += 1
        self.errors.append(RowError(row=row, column=column, reason=str(reason)))

    def as_dict(self) -> dict:
        return asdict(self)


def units_import(path: str | Path) -> UnitImportResult:
    """Import the units of a file; raises UnreadableFile when it cannot be read at all."""
    table = read_table(path)
    columns = match_columns(table.headers, COLUMNS, REQUIRED)
    header = {name: table.headers[index] for name, index in columns.items()}
    header.setdefault("parent", COLUMNS["parent"][0])
    result = UnitImportResult()
    rows = _parse_rows(table, columns, header, result)
    ordered = _parents_first(rows, header, result)
    with transaction.atomic():
        _apply(ordered, header, result)
    result.errors.sort(key=lambda error: error.row)
    return result


def _parse_rows(table, columns, header, result: UnitImportResult) -> list[UnitRow]:
    """Rows with their values checked; duplicates of a code earlier in the file dropped."""
    first_by_code: dict[str, UnitRow] = {}
    for number, cells in table.rows:
        result.rows += 1
        code, name, kind_text, parent_code = (
            _cell(cells, columns.get(field)) for field in ("code", "name", "kind", "parent")
        )
        code, parent_code = code.replace(" ", ""), parent_code.replace(" ", "")
        blank = next((field for field, text in (("code", code), ("name", name), ("kind", kind_text))
                      if not text), None)  # fmt: skip
        if blank:
            result.reject(number, header[blank], _("This cell is empty."))
            continue
        kind = KIND_SPELLINGS.get(kind_text)
        if kind is None:
            result.reject(
                number, header["kind"], _("Unknown kind of unit: %(kind)s.") % {"kind": kind_text}
            )
            continue
        row = UnitRow(row=number, code=code, name=name, kind=kind, parent_code=parent_code)
        earlier = first_by_code.get(code)
        if earlier is None:
            first_by_code[code] = row
        elif (earlier.name, earlier.kind, earlier.parent_code) == (name, kind, parent_code):
            result.duplicates += 1
        else:
            result.reject(
                number,
                header["code"],
                _("Code %(code)s already appears in row %(row)d with different values.")
                % {"code": code, "row": earlier.row},
            )
    return list(first_by_code.values())


def _cell(cells: list, index: int | None) -> str:
    return cell_text(cells[index]) if index is not None and index < len(cells) else ""


def _parents_first(rows: list[UnitRow], header, result: UnitImportResult) -> list[UnitRow]:
    """Order rows so that a parent given in the file comes before its children; rows whose
    parent chain in the file loops back on itself are rejected."""
    by_code = {row.code: row for row in rows}
    children: dict[str, list[UnitRow]] = {}
    ready = deque()
    for row in rows:
        if row.parent_code == row.code:
            continue  # its own parent: a cycle of one, reported below
        if row.parent_code in by_code:
            children.setdefault(row.parent_code, []).append(row)
        else:
            ready.append(row)
    ordered: list[UnitRow] = []
    while ready:
        row = ready.popleft()
        ordered.append(row)
        ready.extend(children.get(row.code, ()))
    placed = {row.code for row in ordered}
    for row in rows:
        if row.code not in placed:
            result.reject(row.row, header["parent"], _cycle_message(row, by_code))
    return ordered


def _cycle_message(row: UnitRow, by_code: dict[str, UnitRow]) -> str:
    chain = [row.code]
    while by_code[chain[-1]].parent_code not in chain:
        chain.append(by_code[chain[-1]].parent_code)
    chain.append(by_code[chain[-1]].parent_code)
    return _("The parent codes form a cycle: %(chain)s.") % {"chain": " → ".join(chain)}


def _apply(rows: list[UnitRow], header, result: UnitImportResult) -> None:
    rejected_rows: dict[str, int] = {}
    existing = {unit.code: unit for unit in OrgUnit.objects.select_related("parent")}
    for row in rows:
        if row.parent_code in rejected_rows:
            rejected_rows[row.code] = row.row
            result.reject(
                row.row,
                header["parent"],
                _("Its parent unit (row %(row)d) was not imported.")
                % {"row": rejected_rows[row.parent_code]},
            )
            continue
        try:
            with transaction.atomic():
                outcome = _apply_row(row, existing)
        except ValidationError as error:
            rejected_rows[row.code] = row.row
            for name, messages in _fields_of(error).items():
                result.reject(row.row, header.get(name, header["code"]), " ".join(messages))
            continue
        setattr(result, outcome, getattr(result, outcome) + 1)


def _apply_row(row: UnitRow, existing: dict[str, OrgUnit]) -> str:
    """Create or update one unit; `existing` is the tree as it stood before the import
    (a code is applied once per file, so it never needs refreshing)."""
    unit = existing.get(row.code)
    if unit is None:
        services.unit_create(
            code=row.code, name=row.name, kind=row.kind, parent_code=row.parent_code or None
        )
        return "created"
    if unit.kind != row.kind:
        raise ValidationError(
            {"kind": _("Unit %(code)s exists as a %(old)s and cannot become a %(new)s.") % {
                "code": row.code, "old": unit.get_kind_display(), "new": UnitKind(row.kind).label,
            }}
        )  # fmt: skip
    current_parent = unit.parent.code if unit.parent else ""
    if current_parent == row.parent_code and unit.name == row.name:
        return "unchanged"
    if current_parent != row.parent_code:
        if not row.parent_code:
            raise ValidationError({"parent": _("This cell is empty.")})
        unit = services.unit_move(unit=unit, new_parent=services.unit_by_code(row.parent_code))
    if unit.name != row.name:
        services.unit_update(unit=unit, name=row.name)
    return "updated"


def _fields_of(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            "code" if name == "__all__" else name: msgs for name, msgs in error.message_dict.items()
        }
    if error.code == "unknown_unit":
        return {"parent": error.messages}
    return {"code": error.messages}
