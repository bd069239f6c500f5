"""The binding rules of a round, shared by the phone page and the file import.

A person is sampled once per round. The one exception is the retest (复核): a single tube
(capacity 1) for someone whose pooled tube came back positive, once.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from epidispatch.accounts.models import Role
from epidispatch.orgunits.models import UnitKind

from .models import Result

#: Who runs rounds: creates them, hands boxes to couriers, records receipts and results.
OFFICER_ROLES = (Role.SCREENING_OFFICER, Role.DISPATCHER)
#: Who may bind people to tubes at a collection point, besides the officers.
COLLECTOR_ROLES = (*OFFICER_ROLES, Role.SITE_STAFF, Role.GRID_WORKER)
#: Who keeps a key group's member list, besides the officers: the town and the grid
#: workers of the group's unit (an industry grid's worker knows its employees).
GROUP_KEEPER_ROLES = (*OFFICER_ROLES, Role.TOWN_OFFICIAL, Role.GRID_WORKER)
#: The units a round is opened over: places where people live, down to a village.
ROUND_KINDS = (UnitKind.CITY, UnitKind.COUNTY, UnitKind.TOWN, UnitKind.VILLAGE)
#: The units that keep key groups: an industry grid (行业网格) for its industry, a town or a
#: county for a key-place category across its area.
GROUP_UNIT_KINDS = (UnitKind.INDUSTRY_GRID, UnitKind.TOWN, UnitKind.COUNTY)


@dataclass(frozen=True)
class Prior:
    """A tube the person is already in, in this round."""

    barcode: str
    capacity: int
    result: str


def binding_problem(*, barcode: str, capacity: int, priors: list[Prior]) -> str | None:
    """Why this person may not go into tube `barcode`, or None when they may.

    `priors` are the person's tubes in the round so far (the same tube again is the
    caller's "unchanged", checked before this)."""
    if not priors:
        return None
    positive_pool = any(p.capacity > 1 and p.result == Result.POSITIVE for p in priors)
    has_single = any(p.capacity == 1 for p in priors)
    if capacity == 1 and positive_pool and not has_single:
        return None
    first = priors[0]
    if capacity == 1 and not positive_pool:
        return _(
            "Already sampled in tube %(barcode)s this round; a single-tube retest is only "
            "for members of a positive pooled tube."
        ) % {"barcode": first.barcode}
    return _("Already sampled in tube %(barcode)s this round.") % {"barcode": first.barcode}


RESULT_SPELLINGS = {
    "阴性": Result.NEGATIVE,
    "阴": Result.NEGATIVE,
    "negative": Result.NEGATIVE,
    "neg": Result.NEGATIVE,
    "-": Result.NEGATIVE,
    "阳性": Result.POSITIVE,
    "阳": Result.POSITIVE,
    "positive": Result.POSITIVE,
    "pos": Result.POSITIVE,
    "+": Result.POSITIVE,
}


def parse_result(text: str) -> str | None:
    return RESULT_SPELLINGS.get("".join(str(text).split()).lower())
