"""The resident register file (DESIGN.md §7, "Resident file"): 姓名, 身份证件号码, 联系电话,
网格编码, optional 人员状态 and 未接种原因.

A resident is known by the keyed digest of their ID number: a row for someone already
registered updates them when a value differs and is "unchanged" otherwise, so importing
the same file twice changes nothing. An import may create or change a person only where
the uploader's scope covers both the person's current grid and the new one: a town cannot
take over another town's resident, and the refusal does not say where they live.
"""

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from epidispatch.core.live import figures_track
from epidispatch.imports.kinds import Column, FileKind, RowProblem, register
from epidispatch.orgunits.models import OrgUnit, UnitKind

from . import unit_imports  # noqa: F401  (declares the org units file kind)
from .household_import import HOUSEHOLDS  # noqa: F401 - declared next to its writer
from .models import Resident, ResidentStatus, UnvaccinatedReason
from .services import resident_build

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


def resident_of(values: dict[str, str], run) -> Resident:
    """One row as an unsaved Resident, or RowProblem."""
    if "grids" not in run.cache:
        run.cache["grids"] = {g.code: g for g in OrgUnit.objects.filter(kind=UnitKind.GRID)}
    grid = run.cache["grids"].get(values["grid"].replace(" ", ""))
    if grid is None:
        raise RowProblem("grid", _("No grid has the code %(code)s.") % {"code": values["grid"]})
    if not run.may_write(grid.path):
        raise RowProblem(
            "grid",
            _("Grid %(code)s is outside the units you may import for.") % {"code": grid.code},
        )
    status = STATUS_SPELLINGS.get(values["status"] or ResidentStatus.PRESENT.value)
    if status is None:
        raise RowProblem("status", _("Unknown status: %(value)s.") % {"value": values["status"]})
    reason = REASON_SPELLINGS.get(values["reason"]) if values["reason"] else ""
    if reason is None:
        raise RowProblem("reason", _("Unknown reason: %(value)s.") % {"value": values["reason"]})
    try:
        resident = resident_build(
            name=values["name"],
            id_number=values["id_number"],
            phone=values["phone"],
            grid=grid,
            status=status,
        )
    except ValidationError as error:
        raise RowProblem("id_number", " ".join(error.messages)) from None
    resident.unvaccinated_reason = reason
    return resident


def residents_write(run, items: list[tuple[int, Resident]]) -> None:
    """Insert the new residents, update the changed ones, count the unchanged; a person
    registered outside the uploader's scope is a rejected row."""
    first_rows = _first_rows(run, items)
    stored = _stored(list(first_rows))
    new, changed = [], []
    now = timezone.now()
    for digest, (row, resident) in first_rows.items():
        current = stored.get(digest)
        if current is None:
            new.append(resident)
        elif not run.may_write(current.grid.path):
            run.reject(
                row,
                "id_number",
                _(
                    "This person is registered in a unit outside yours; only that unit or "
                    "an office above both may change their record."
                ),
                name=resident.name,
            )
            continue
        elif _values(current) != _values(resident):
            resident.pk, resident.updated_at = current.pk, now
            changed.append(resident)
        else:
            run.summary.unchanged += 1
        run.touch([resident.grid.path])
    with figures_track(resident.pk for resident in changed) as tracked:
        Resident.objects.bulk_update(
            changed,
            ["name", "phone_digest", "phone_encrypted", "phone_masked", "grid", "county_code",
             "status", "unvaccinated_reason", "updated_at"],
            batch_size=1000,
        )  # fmt: skip
        Resident.objects.bulk_create(new, batch_size=2000)
        tracked.add_new(resident.pk for resident in new)
    run.summary.stored = len(new) + len(changed)


def _first_rows(run, items) -> dict[str, tuple[int, Resident]]:
    """The first row of each person; a repeat with the same values is a duplicate, with
    other values a rejected row pointing at the first."""
    first: dict[str, tuple[int, Resident]] = {}
    for row, resident in items:
        earlier = first.get(resident.id_number_digest)
        if earlier is None:
            first[resident.id_number_digest] = (row, resident)
        elif _values(earlier[1]) == _values(resident):
            run.summary.duplicates += 1
        else:
            run.reject(
                row,
                "id_number",
                _("The same person appears in row %(row)d with other values.")
                % {"row": earlier[0]},
                name=resident.name,
            )
    return first


def _stored(digests: list[str]) -> dict[str, Resident]:
    stored = {}
    for start in range(0, len(digests), LOOKUP_CHUNK):
        for current in (
            Resident.objects.filter(id_number_digest__in=digests[start : start + LOOKUP_CHUNK])
            .select_related("grid")
            .only("id", "id_number_digest", "grid__path", *COMPARED)
        ):
            stored[current.id_number_digest] = current
    return stored


def _values(resident: Resident) -> tuple:
    return tuple(getattr(resident, field) for field in COMPARED)


RESIDENTS = register(
    FileKind(
        name="residents",
        label=gettext_lazy("Residents"),
        description=gettext_lazy("The resident register (常住人口) of your grids."),
        columns=(
            Column("name", ("姓名", "居民姓名", "受种者姓名"), required=True, max_length=60,
                   example="张三"),
            Column("id_number",
                   ("身份证件号码", "身份证号", "身份证号码", "证件号码", "公民身份号码"),
                   required=True, max_length=40, example="621121198001010017"),
            Column("phone", ("联系电话", "电话", "手机号", "手机号码", "联系方式"), max_length=20,
                   example="13800000000"),
            Column("grid", ("网格编码", "网格代码", "所属网格编码"), required=True, max_length=20,
                   example="621121100001001"),
            Column("status", ("人员状态", "状态"), max_length=20, example="在家"),
            Column("reason", ("未接种原因", "未种原因"), max_length=20, example=""),
        ),
        check_row=resident_of,
        write=residents_write,
    )
)  # fmt: skip
