"""The key-person list pushed by a higher level (协查推送, DESIGN.md §8), declared as a file
kind of the shared import framework: 姓名, 身份证件号码, 联系电话, 人员类别, 末次暴露或抵达日期,
optional 现住网格编码 (needed for a non-resident), 现住址 and 来源.

A row is the case of a person, a category and a reference date: the same again (in the
file or in the database) is a duplicate or unchanged, so importing a list twice adds
nobody. `run.options["registered_on"]` (the command's `--registered`, default today) picks
the policy version; a category it does not manage is a rejected row with the reason.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from epidispatch.accounts.models import Role
from epidispatch.core import protection
from epidispatch.core.ids import IdCard, parse_id_number
from epidispatch.imports.kinds import Column, FileKind, RowProblem, register
from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.registry.models import Resident

from .models import Category, Source
from .policy import NotManaged, policy_in_force
from .services import REFERENCE_MAX_AGE, case_register, key_person_resolve

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


def parse_day(text: str) -> datetime.date | None:
    """A date as lists write it (an Excel date cell arrives as 2022-07-01 00:00:00)."""
    text = text.strip().split(" ")[0]
    for pattern in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def registered_on(run) -> datetime.date:
    return run.options.get("registered_on") or timezone.localdate()


@dataclass(frozen=True)
class KeyPersonRow:
    name: str
    card: IdCard
    phone: str
    category: str
    reference_date: datetime.date
    source: str
    grid: OrgUnit | None
    address: str

    @property
    def key(self) -> tuple[str, str, datetime.date]:
        return (self.card.number, self.category, self.reference_date)


def key_person_of(values: dict[str, str], run) -> KeyPersonRow:
    """One row checked against the version in force on the registration day."""
    if "grids" not in run.cache:
        run.cache["grids"] = {g.code: g for g in OrgUnit.objects.filter(kind=UnitKind.GRID)}
        run.cache["policy"] = _policy(run)
    try:
        card = parse_id_number(values["id_number"])
    except ValidationError as error:
        raise RowProblem("id_number", " ".join(error.messages)) from None
    category = CATEGORY_SPELLINGS.get(values["category"].strip())
    if category is None:
        raise RowProblem(
            "category", _("Unknown category: %(value)s.") % {"value": values["category"]}
        )
    policy = run.cache["policy"]
    if policy is None or not policy.phases.filter(category=category).exists():
        raise RowProblem("category", _not_managed(policy, category, run))
    reference_date = parse_day(values["reference_date"])
    if reference_date is None:
        raise RowProblem(
            "reference_date", _("Not a date; write it as 2022-07-01, 2022/7/1 or 2022年7月1日.")
        )
    day = registered_on(run)
    if not day - REFERENCE_MAX_AGE <= reference_date <= day:
        raise RowProblem(
            "reference_date",
            _("The last exposure or arrival must lie within the 60 days before %(day)s.")
            % {"day": day},
        )
    source = SOURCE_SPELLINGS.get(values["source"].strip() or Source.PUSHED.value)
    if source is None:
        raise RowProblem("source", _("Unknown source: %(value)s.") % {"value": values["source"]})
    grid = _grid(values, card, run)
    return KeyPersonRow(
        name=values["name"].strip(), card=card, phone=values["phone"].strip(), category=category,
        reference_date=reference_date, source=source, grid=grid,
        address=values["address"].strip(),
    )  # fmt: skip


def _policy(run):
    try:
        return policy_in_force(registered_on(run))
    except NotManaged:
        return None


def _not_managed(policy, category: str, run) -> str:
    if policy is None:
        return _("No control policy is in force on %(day)s.") % {"day": registered_on(run)}
    return _("%(policy)s does not manage %(category)s: nobody is registered in it.") % {
        "policy": policy.name,
        "category": Category(category).label,
    }


def _grid(values: dict[str, str], card: IdCard, run) -> OrgUnit | None:
    """The person's grid: the resident's own, else the one the row names; within the
    importing user's units."""
    resident = (
        Resident.objects.select_related("grid")
        .filter(id_number_digest=protection.lookup_digest(card.number))
        .first()
    )
    code = values["grid"].replace(" ", "")
    grid = run.cache["grids"].get(code) if code else None
    if code and grid is None:
        raise RowProblem("grid", _("No grid has the code %(code)s.") % {"code": code})
    home = resident.grid if resident is not None else grid
    if home is None:
        raise RowProblem(
            "grid", _("Not a registered resident: give the grid where the person stays.")
        )
    if not run.may_write(home.path):
        raise RowProblem(
            "grid",
            _("Grid %(code)s is outside the units you may import for.") % {"code": home.code},
        )
    return grid


def key_persons_write(run, items: list[tuple[int, KeyPersonRow]]) -> None:
    """Register each row's case (the same case again is unchanged, the same row again in
    the file a duplicate), in the import's one transaction."""
    seen = set()
    day = registered_on(run)
    for _row, item in items:
        if item.key in seen:
            run.summary.duplicates += 1
            continue
        seen.add(item.key)
        person = key_person_resolve(
            name=item.name, id_number=item.card.number, phone=item.phone, grid=item.grid,
            address=item.address,
        )  # fmt: skip
        registration = case_register(
            person=person, category=item.category, reference_date=item.reference_date,
            registered_on=day, source=item.source, by=run.user,
        )  # fmt: skip
        if registration.created:
            run.summary.stored += 1
        else:
            run.summary.unchanged += 1
        run.touch([person.grid.path])


COLUMNS = (
    Column("name", ("姓名", "人员姓名"), required=True, max_length=60, example="李四"),
    Column("id_number", ("身份证件号码", "身份证号", "身份证号码", "证件号码",
                         "公民身份号码"), required=True, max_length=40),
    Column("phone", ("联系电话", "电话", "手机号", "手机号码"), max_length=20),
    Column("category", ("人员类别", "类别", "人员类型", "管控类别"), required=True,
           max_length=20, example="密接"),
    Column("reference_date", ("末次暴露或抵达日期", "末次暴露日期", "抵达日期",
                              "末次接触日期"), required=True, max_length=30,
           example="2022-07-01"),
    Column("grid", ("现住网格编码", "网格编码", "所在网格编码"), max_length=20),
    Column("address", ("现住址", "现住地址", "住址"), max_length=200),
    Column("source", ("来源", "信息来源"), max_length=20, example="协查推送"),
)  # fmt: skip


KEY_PERSONS = register(
    FileKind(
        name="key_persons",
        label=gettext_lazy("Key persons"),
        description=gettext_lazy("A list pushed by a higher level (协查推送)"),
        columns=COLUMNS,
        check_row=key_person_of,
        write=key_persons_write,
        roles=(Role.CONTROL_OFFICER, Role.DISPATCHER),
    )
)
