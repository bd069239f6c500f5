"""Screening's answer to control's first-response hook (`contact_candidates_wanted`): the
other members of the positive person's positive pooled tubes are candidate contacts.

A pooled tube (混采) mixes the swabs of up to 20 people; when it is positive and one of its
members turns out to be a case, the rest shared the collection queue and the tube. Only
registered residents are proposed: control confirms a contact by their ID number, which
screening keeps for residents alone (travellers' samples hold the masked number)."""

from datetime import date, timedelta

from django.utils.translation import gettext as _

from epidispatch.control.models import CandidateReason
from epidispatch.control.signals import Proposal

from .models import Result, Sample

#: How far back a positive pool counts as an exposure of a case found on a day.
LOOKBACK_DAYS = 14


def pooled_tube_contacts(sender, *, id_number_digest: str, found_on: date, **kwargs):
    """Receiver of `contact_candidates_wanted`: the resident members of every positive
    pooled tube the person was sampled into in the `LOOKBACK_DAYS` before `found_on`."""
    tubes = Sample.objects.filter(
        id_number_digest=id_number_digest,
        tube__capacity__gt=1,
        tube__result=Result.POSITIVE,
        collected_at__date__gte=found_on - timedelta(days=LOOKBACK_DAYS),
        collected_at__date__lte=found_on,
    ).values("tube_id")
    members = (
        Sample.objects.filter(tube_id__in=tubes, resident__isnull=False)
        .exclude(id_number_digest=id_number_digest)
        .select_related("resident", "tube")
        .order_by("tube_id", "pk")
    )
    return [
        Proposal(
            reason=CandidateReason.POOLED_TUBE,
            id_number_digest=sample.id_number_digest,
            id_number_encrypted=sample.resident.id_number_encrypted,
            id_number_masked=sample.id_number_masked,
            name=sample.name,
            exposed_on=sample.collected_at.date(),
            detail=_("Tube %(barcode)s") % {"barcode": sample.tube.barcode},
        )
        for sample in members
    ]
