"""The household file (户籍/同住人员, docs/households.md): 户地址, 网格编码, 身份证件号码,
optional 姓名 and 与户主关系. A row puts one registered resident into the household at that
address of the grid.

The §7 resident file stays as it is: households are a file of their own. A resident is in
one household; a row for someone already in the same household with the same relation is
"unchanged", in another household "stored" (they moved), so importing the same file twice
changes nothing. An empty relation keeps the stored one. A person not registered in the
row's grid, or a grid outside the uploader's scope, is a rejected row that does not say
where the person lives.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from epidispatch.accounts.models import Role
from epidispatch.core import protection
from epidispatch.core.ids import parse_id_number
from epidispatch.imports.kinds import Column, FileKind, RowProblem, register
from epidispatch.orgunits.models import OrgUnit, UnitKind

from .models import Household, HouseholdMember, Resident
from .services import ADDRESS_MAX_LENGTH, household_address_clean

LOOKUP_CHUNK = 10_000


@dataclass(frozen=True)
class Placement:
    grid: OrgUnit
    address: str
    digest: str
    name: str
    relation: str


def placement_of(values: dict[str, str], run) -> Placement:
    """One row -> a placement, or RowProblem."""
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
    address = household_address_clean(values["address"])
    if not address:
        raise RowProblem("address", _("Give the household's address."))
    if len(address) > ADDRESS_MAX_LENGTH:
        raise RowProblem("address", _("An address has at most 200 characters."))
    try:
        card = parse_id_number(values["id_number"])
    except ValidationError as error:
        raise RowProblem("id_number", " ".join(error.messages)) from None
    return Placement(
        grid=grid,
        address=address,
        digest=protection.lookup_digest(card.number),
        name=values["name"],
        relation=household_address_clean(values["relation"]),
    )


def households_write(run, items: list[tuple[int, Placement]]) -> None:
    """Make the new households, place the residents, count the unchanged; set-wise: a few
    queries per 10,000 rows whatever the file's size."""
    first: dict[str, tuple[int, Placement]] = {}
    for row, placement in items:
        earlier = first.get(placement.digest)
        if earlier is None:
            first[placement.digest] = (row, placement)
        elif (earlier[1].grid.pk, earlier[1].address) == (placement.grid.pk, placement.address):
            run.summary.duplicates += 1
        else:
            run.reject(
                row,
                "id_number",
                _("The same person appears in row %(row)d with another address.")
                % {"row": earlier[0]},
                name=placement.name,
            )
    residents = _residents(list(first))
    placed: dict[int, tuple[int, Placement]] = {}
    for digest, (row, placement) in first.items():
        resident = residents.get(digest)
        if resident is None or resident.grid_id != placement.grid.pk:
            run.reject(
                row,
                "id_number",
                _("This person is not a registered resident of grid %(code)s.")
                % {"code": placement.grid.code},
                name=placement.name,
            )
            continue
        placed[resident.pk] = (row, placement)
    households = _households(run, {(p.grid, p.address) for _row, p in placed.values()})
    members = {
        member.resident_id: member
        for member in HouseholdMember.objects.filter(resident_id__in=list(placed))
    }
    new, moved, left = [], [], set()
    for resident_id, (_row, placement) in placed.items():
        household = households[(placement.grid.pk, placement.address)]
        member = members.get(resident_id)
        if member is None:
            new.append(
                HouseholdMember(
                    household=household, resident_id=resident_id, relation=placement.relation
                )
            )
            continue
        relation = placement.relation or member.relation
        if member.household_id == household.pk and member.relation == relation:
            run.summary.unchanged += 1
            continue
        if member.household_id != household.pk:
            left.add(member.household_id)
        member.household, member.relation = household, relation
        moved.append(member)
    HouseholdMember.objects.bulk_create(new, batch_size=2000)
    HouseholdMember.objects.bulk_update(moved, ["household", "relation"], batch_size=2000)
    Household.objects.filter(pk__in=list(left), members__isnull=True).delete()
    run.summary.stored = len(new) + len(moved)
    run.touch({placement.grid.path for _row, placement in placed.values()})


def _residents(digests: list[str]) -> dict[str, Resident]:
    found = {}
    for start in range(0, len(digests), LOOKUP_CHUNK):
        for resident in Resident.objects.filter(
            id_number_digest__in=digests[start : start + LOOKUP_CHUNK]
        ).only("id", "id_number_digest", "grid_id"):
            found[resident.id_number_digest] = resident
    return found


def _households(run, wanted: set[tuple[OrgUnit, str]]) -> dict[tuple[int, str], Household]:
    """The households the rows name, the missing ones made in one statement."""
    grids = {grid.pk for grid, _address in wanted}
    stored = {
        (household.grid_id, household.address): household
        for household in Household.objects.filter(grid_id__in=grids)
    }
    missing = [
        Household(grid=grid, address=address, county_code=grid.county_code)
        for grid, address in wanted
        if (grid.pk, address) not in stored
    ]
    Household.objects.bulk_create(missing, batch_size=2000)
    stored.update({(household.grid_id, household.address): household for household in missing})
    return stored


HOUSEHOLDS = register(
    FileKind(
        name="households",
        label=gettext_lazy("Households"),
        description=gettext_lazy(
            "Who lives with whom (同住人员): one registered resident a row, at the household's "
            "address in their grid."
        ),
        columns=(
            Column("address", ("户地址", "家庭住址", "住址", "现住址", "地址"), required=True,
                   max_length=ADDRESS_MAX_LENGTH, example="北关社区3号楼2单元101"),
            Column("grid", ("网格编码", "网格代码", "所属网格编码"), required=True, max_length=20,
                   example="621121100001001"),
            Column("id_number",
                   ("身份证件号码", "身份证号", "身份证号码", "证件号码", "公民身份号码"),
                   required=True, max_length=40, example="621121198001010017"),
            Column("name", ("姓名", "居民姓名"), max_length=60, example="张三"),
            Column("relation", ("与户主关系", "关系", "家庭关系"), max_length=20, example="户主"),
        ),
        check_row=placement_of,
        write=households_write,
        roles=(Role.DISPATCHER, Role.TOWN_OFFICIAL, Role.GRID_WORKER),
    )
)  # fmt: skip
