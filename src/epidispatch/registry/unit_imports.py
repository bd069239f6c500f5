"""Loading a county's own org tree from a spreadsheet (`epidispatch import_units FILE`).

Columns: 编码, 名称, 类型, 上级编码 (or their aliases). Rows may come in any order: a
unit is placed after its parent. The whole file is one transaction, so a killed import
stores nothing; a bad row is rejected with its row, column and reason and the others
still land; importing the same file again changes nothing. From the web, a dispatcher
may add and change units only inside their own scope.

The kind lives with the registry, the county's base data, because the imports framework
(and the roles it checks) sit above the org tree (docs/architecture.md, layers).
"""

from collections import deque
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from epidispatch.accounts.models import Role
from epidispatch.imports.kinds import Column, FileKind, RowProblem, register
from epidispatch.orgunits import services
from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.orgunits.selectors import unit_by_code

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
class UnitRow:
    row: int
    code: str
    name: str
    kind: str
    parent_code: str


def unit_row_of(values: dict[str, str], run) -> UnitRow:
    kind = KIND_SPELLINGS.get(values["kind"])
    if kind is None:
        raise RowProblem("kind", _("Unknown kind of unit: %(kind)s.") % {"kind": values["kind"]})
    return UnitRow(
        row=0,
        code=values["code"].replace(" ", ""),
        name=values["name"],
        kind=kind,
        parent_code=values["parent"].replace(" ", ""),
    )


def units_write(run, items: list[tuple[int, UnitRow]]) -> None:
    """Place the rows parents first and create or update each unit."""
    rows = _first_by_code(run, items)
    _apply(_parents_first(rows, run), run)


def _first_by_code(run, items) -> list[UnitRow]:
    """Rows by code; a repeat with the same values is a duplicate, else rejected."""
    first: dict[str, UnitRow] = {}
    for number, row in items:
        row.row = number
        earlier = first.get(row.code)
        if earlier is None:
            first[row.code] = row
        elif (earlier.name, earlier.kind, earlier.parent_code) == (
            row.name,
            row.kind,
            row.parent_code,
        ):
            run.summary.duplicates += 1
        else:
            run.reject(
                number,
                "code",
                _("Code %(code)s already appears in row %(row)d with different values.")
                % {"code": row.code, "row": earlier.row},
            )
    return list(first.values())


def _parents_first(rows: list[UnitRow], run) -> list[UnitRow]:
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
            run.reject(row.row, "parent", _cycle_message(row, by_code))
    return ordered


def _cycle_message(row: UnitRow, by_code: dict[str, UnitRow]) -> str:
    chain = [row.code]
    while by_code[chain[-1]].parent_code not in chain:
        chain.append(by_code[chain[-1]].parent_code)
    chain.append(by_code[chain[-1]].parent_code)
    return _("The parent codes form a cycle: %(chain)s.") % {"chain": " → ".join(chain)}


def _apply(rows: list[UnitRow], run) -> None:
    rejected_rows: dict[str, int] = {}
    existing = {unit.code: unit for unit in OrgUnit.objects.select_related("parent")}
    for row in rows:
        if row.parent_code in rejected_rows:
            rejected_rows[row.code] = row.row
            run.reject(
                row.row,
                "parent",
                _("Its parent unit (row %(row)d) was not imported.")
                % {"row": rejected_rows[row.parent_code]},
            )
            continue
        try:
            with transaction.atomic():
                outcome = _apply_row(row, existing, run)
        except ValidationError as error:
            rejected_rows[row.code] = row.row
            for name, messages in _fields_of(error).items():
                run.reject(row.row, name if name in run.kind.fields else "code", " ".join(messages))
            continue
        if outcome == "unchanged":
            run.summary.unchanged += 1
        else:
            run.summary.stored += 1
            run.touch([outcome.path])


def _apply_row(row: UnitRow, existing: dict[str, OrgUnit], run) -> OrgUnit | str:
    """Create or update one unit (returned), or "unchanged"; `existing` is the tree as it
    stood before the import (a code is applied once per file, so it never needs
    refreshing). The unit and its parent must both lie inside the uploader's scope."""
    unit = existing.get(row.code)
    parent = unit_by_code(row.parent_code) if row.parent_code else None
    if not run.may_write(unit.path if unit else parent.path if parent else ""):
        raise ValidationError({"code": _("This unit is outside the units you may import for.")})
    if parent is not None and not run.may_write(parent.path):
        raise ValidationError({"parent": _("This unit is outside the units you may import for.")})
    if unit is None:
        return services.unit_create(
            code=row.code, name=row.name, kind=row.kind, parent_code=row.parent_code or None
        )
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
        unit = services.unit_move(unit=unit, new_parent=unit_by_code(row.parent_code))
    if unit.name != row.name:
        unit = services.unit_update(unit=unit, name=row.name)
    return unit


def _fields_of(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            "code" if name == "__all__" else name: msgs for name, msgs in error.message_dict.items()
        }
    if error.code == "unknown_unit":
        return {"parent": error.messages}
    return {"code": error.messages}


UNITS = register(
    FileKind(
        name="units",
        label=gettext_lazy("Org units"),
        description=gettext_lazy("The county's own org tree, down to every grid."),
        columns=(
            Column("code", ("编码", "单位编码", "机构编码", "区划代码", "代码", "code"),
                   required=True, max_length=15, example="621121100001001"),
            Column("name", ("名称", "单位名称", "机构名称", "name"), required=True,
                   max_length=100, example="北关社区第1网格"),
            Column("kind", ("类型", "单位类型", "层级", "kind"), required=True, max_length=16,
                   example="网格"),
            Column("parent", ("上级编码", "上级单位编码", "上级代码", "parent"), max_length=15,
                   example="621121100001"),
        ),
        check_row=unit_row_of,
        write=units_write,
        roles=(Role.DISPATCHER,),
    )
)  # fmt: skip
