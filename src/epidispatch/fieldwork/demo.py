"""Field work of the demo county: a few visits, checkpoint records and 60+ follow-ups in
the demo grid worker's grid (北关社区第1网格), so `grid_worker` sees a useful round."""

import uuid
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from epidispatch.accounts.models import User
from epidispatch.core import protection
from epidispatch.core.dates import latest_birth_date_for_age
from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.models import Resident
from epidispatch.vaccination.models import Dose
from epidispatch.vaccination.selectors import clearance_list

from .models import Visit, VisitOutcome
from .services import checkpoint_record_create, follow_up_open_for_dose, visit_record

DEMO_GRID = "621121100001001"
DEMO_CHECKPOINT_PLACE = "通渭县汽车站"
#: An ID number nobody in the demo registry has (a traveller from 兰州).
UNKNOWN_TRAVELLER = "620102198805123615"
#: A one-page PDF standing in for a photo of a vaccination record.
DEMO_PROOF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 100]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
#: Outcomes of the demo visits, in the order of the grid's 清零 list: the first two stay
#: on the list (a refusal, nobody home), the others leave it.
VISITS = [
    (VisitOutcome.REFUSED, "", "本人表示再考虑"),
    (VisitOutcome.NOT_FOUND, "", "家中无人，明天再访"),
    (VisitOutcome.AWAY_REACHED, "", "在兰州务工，电话联系，已发来接种凭证"),
    (VisitOutcome.CONTRAINDICATED, "正在化疗，医生建议暂缓接种", ""),
]


@transaction.atomic
def load_fieldwork() -> int:
    """Add the demo's field work once (nothing when the grid has visits already, or the
    demo has no residents); returns how many visits were added."""
    grid = OrgUnit.objects.filter(code=DEMO_GRID).first()
    worker = User.objects.filter(username="grid_worker").first()
    dispatcher = User.objects.filter(username="dispatcher").first()
    if not (grid and worker and dispatcher) or Visit.objects.filter(grid=grid).exists():
        return 0
    to_clear = list(clearance_list(worker, grid)[: len(VISITS)])
    if not to_clear:
        return 0
    for resident, (outcome, reason, note) in zip(to_clear, VISITS, strict=False):
        proof = (
            SimpleUploadedFile("proof.pdf", DEMO_PROOF, "application/pdf")
            if outcome == VisitOutcome.AWAY_REACHED
            else None
        )
        visit_record(
            resident=resident,
            outcome=outcome,
            by=worker,
            reason=reason,
            note=note,
            proof=proof,
            submission_id=uuid.uuid5(uuid.NAMESPACE_URL, f"demo-visit-{resident.pk}"),
        )
    county = OrgUnit.objects.get(code=grid.county_code)
    seen = timezone.now() - timedelta(hours=3)
    # Seen at the bus station after the visit: a task on the round again.
    for resident in to_clear[-1:]:
        checkpoint_record_create(
            unit=county,
            place=DEMO_CHECKPOINT_PLACE,
            seen_at=seen,
            id_number=_id_number(resident),
            by=dispatcher,
        )
    checkpoint_record_create(
        unit=county,
        place="通渭县百货大楼",
        seen_at=seen,
        id_number=UNKNOWN_TRAVELLER,
        by=dispatcher,
    )
    _open_follow_ups(grid)
    return len(to_clear)


def _id_number(resident: Resident) -> str:
    return protection.decrypt(resident.id_number_encrypted)


def _open_follow_ups(grid: OrgUnit, count: int = 3) -> None:
    """Follow-ups of the latest doses of a few residents aged 60+ in the grid, as if the
    site had just recorded them."""
    doses = (
        Dose.objects.filter(resident__grid=grid, follow_up__isnull=True)
        .select_related("resident")
        .order_by("-given_on", "pk")
    )
    opened = 0
    for dose in doses[:200]:
        if dose.resident.birth_date <= latest_birth_date_for_age(dose.given_on, 60):
            follow_up_open_for_dose(Dose, dose=dose, by=None)
            opened += 1
            if opened == count:
                return
