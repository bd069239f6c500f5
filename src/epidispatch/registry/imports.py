"""Importing the resident register (DESIGN.md §7, "Resident file"): 姓名, 身份证件号码,
联系电话, 网格编码, optional 人员状态 and 未接种原因.

A resident is known by the keyed digest of their ID number: a row for someone already
registered updates them when a value differs and is "unchanged" otherwise, so importing
the same file twice changes nothing. The whole file lands in one transaction.
"""

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.core.ids import mask_id_number
from epidispatch.core.importing import ImportSummary, RowError
from epidispatch.core.scoping import paths_q
from epidispatch.core.tables import cell_text, match_columns, read_table, unmatched_headers
from epidispatch.dispatch.rollups import rollups_count_new, rollups_track
from epidispatch.orgunits.models import OrgUnit, UnitKind

from .models import ImportBatch, Resident, ResidentStatus, UnvaccinatedReason
from .services import resident_build

COLUMNS = {
    "name": ("姓名", "居民姓名", "受种者姓名"),
    "id_number": ("身份证件号码", "身份证号", "身份证号码", "证件号码", "公民身份号码"),
    "phone": ("联系电话", "电话", "手机号", "手机号码", "联系方式"),
    "grid": ("网格编码", "网格代码", "所属网格编码"),
    "status": ("人员状态", "状态"),
    "reason": ("未接种原因", "未种原因"),
}
REQUIRED = ("name", "id_number", "grid")

STATUS_SPELLINGS = {
    **{status.value: status.value for status in ResidentStatus},
    **{str(status.label): status.value for status in ResidentStatus},
    "在家": ResidentStatus.PRESENT, "在册": ResidentStatus.PRESENT, "正常": ResidentStatus.PRESENT,
    "常住": ResidentStatus.PRESENT,
    "外出": ResidentStatus.AWAY, "外出务工": ResidentStatus.AWAY, "外地接种": ResidentStatus.AWAY,
    "禁忌": ResidentStatus.CONTRAINDICATED, "接种禁忌": ResidentStatus.CONTRAINDICATED,
    "禁忌症": ResidentStatus.CONTRAINDICATED,
    "拒绝": ResidentStatus.REFUSED, "拒种": ResidentStatus.REFUSED,
    "拒绝接种": ResidentStatus.REFUSED,
    "死亡": ResidentStatus.DECEASED, "已故": ResidentStatus.DECEASED,
    "迁出": ResidentStatus.MOVED_OUT, "已迁出": ResidentStatus.MOVED_OUT,
}  # fmt: skip
REASON_SPELLINGS = {
    **{reason.value: reason.value for reason in UnvaccinatedReason},
    "无接种意愿": "1", "不愿意": "1", "不愿接种": "1",
    "接种禁忌": "2", "禁忌": "2",
    "有意愿无资源": "3", "无疫苗": "3",
    "已报名未接种": "4", "已预约": "4",
}  # fmt: skip
#: The values an import compares to decide "unchanged".
COMPARED = ("name", "phone_digest", "grid_id", "status", "unvaccinated_reason")
LOOKUP_CHUNK = 10_000


def residents_import(
    path,
    *,
    batch: ImportBatch,
    scope_paths: tuple[str, ...] | None = None,
    progress: Callable[[int, int], None] | None = None,
    finish: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    """Import a resident file; `scope_paths` limits the grids it may write (None: all)."""
    table = read_table(path)
    columns = match_columns(table.headers, COLUMNS, REQUIRED)
    header = {field: table.headers[index] for field, index in columns.items()}
    summary = ImportSummary(extra_columns=unmatched_headers(table.headers, columns))
    grids = OrgUnit.objects.filter(kind=UnitKind.GRID)
    writable = grids if scope_paths is None else grids.filter(paths_q(scope_paths))
    grid_by_code = {grid.code: grid for grid in writable}
    known_grids = set(grids.values_list("code", flat=True))
    first_rows: dict[str, tuple[int, Resident]] = {}
    for number, cells in table.rows:
        summary.rows += 1
        values = {
            field: cell_text(cells[index]) if index < len(cells) else ""
            for field, index in columns.items()
        }
        try:
            resident = _resident_of(values, header, grid_by_code, known_grids)
        except RowProblem as problem:
            summary.reject(
                RowError(
                    row=number,
                    column=problem.column,
                    reason=problem.reason,
                    name=values.get("name", ""),
                    id_number=mask_id_number(values.get("id_number", "").replace(" ", "")),
                )
            )
            continue
        earlier = first_rows.get(resident.id_number_digest)
        if earlier is None:
            first_rows[resident.id_number_digest] = (number, resident)
        elif _values(earlier[1]) == _values(resident):
            summary.duplicates += 1
        else:
            summary.reject(
                RowError(
                    row=number,
                    column=header["id_number"],
                    reason=_("The same person appears in row %(row)d with other values.")
                    % {"row": earlier[0]},
                    name=resident.name,
                    id_number=resident.id_number_masked,
                )
            )
        if progress and summary.rows % 10_000 == 0:
            progress(summary.rows, 0)
    with transaction.atomic():
        _store([resident for _row, resident in first_rows.values()], summary)
        if finish:
            finish(summary)
    return summary


class RowProblem(Exception):
    def __init__(self, column: str, reason: str):
        super().__init__(reason)
        self.column, self.reason = column, str(reason)


def _resident_of(values: dict, header: dict, grid_by_code: dict, known_grids: set) -> Resident:
    for field in REQUIRED:
        if not values[field]:
            raise RowProblem(header[field], _("This cell is empty."))
    grid_code = values["grid"].replace(" ", "")
    if grid_code not in grid_by_code:
        reason = (
            _("Grid %(code)s is outside the units you may import for.")
            if grid_code in known_grids
            else _("No grid has the code %(code)s.")
        )
        raise RowProblem(header["grid"], reason % {"code": grid_code})
    status = STATUS_SPELLINGS.get(values.get("status") or ResidentStatus.PRESENT.value)
    if status is None:
        raise RowProblem(
            header["status"], _("Unknown status: %(value)s.") % {"value": values["status"]}
        )
    reason = REASON_SPELLINGS.get(values.get("reason", "")) if values.get("reason") else ""
    if reason is None:
        raise RowProblem(
            header["reason"], _("Unknown reason: %(value)s.") % {"value": values["reason"]}
        )
    try:
        resident = resident_build(
            name=values["name"],
            id_number=values["id_number"],
            phone=values.get("phone", ""),
            grid=grid_by_code[grid_code],
            status=status,
        )
    except ValidationError as error:
        raise RowProblem(header["id_number"], " ".join(error.messages)) from None
    resident.unvaccinated_reason = reason
    return resident


def _values(resident: Resident) -> tuple:
    return tuple(getattr(resident, field) for field in COMPARED)


def _store(residents: list[Resident], summary: ImportSummary) -> None:
    """Insert the new residents, update the changed ones, count the unchanged."""
    digests = [resident.id_number_digest for resident in residents]
    stored = {}
    for start in range(0, len(digests), LOOKUP_CHUNK):
        for current in Resident.objects.filter(
            id_number_digest__in=digests[start : start + LOOKUP_CHUNK]
        ).only("id", "id_number_digest", *COMPARED):
            stored[current.id_number_digest] = current
    new, changed = [], []
    now = timezone.now()
    for resident in residents:
        current = stored.get(resident.id_number_digest)
        if current is None:
            new.append(resident)
        elif _values(current) != _values(resident):
            resident.pk, resident.updated_at = current.pk, now
            changed.append(resident)
        else:
            summary.unchanged += 1
    with rollups_track(resident.pk for resident in changed):
        Resident.objects.bulk_update(
            changed,
            ["name", "phone_digest", "phone_encrypted", "phone_masked", "grid", "county_code",
             "status", "unvaccinated_reason", "updated_at"],
            batch_size=1000,
        )  # fmt: skip
    Resident.objects.bulk_create(new, batch_size=2000)
    rollups_count_new(resident.pk for resident in new)
    summary.stored = len(new) + len(changed)
