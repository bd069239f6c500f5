"""Reads for other systems (DESIGN.md §8): FHIR R4 resources and the dose change feed.

Every read takes the acting user first and keeps only residents of grids in the user's
units; `user` None is the command line of the server's administrator (the whole database).
ID numbers leave masked unless the caller asks to unmask, holds a role that may over the
whole unit, and the view is written to the audit log.
"""

from datetime import date

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from epidispatch.core import feeds, protection
from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.models import Resident, Sex
from epidispatch.registry.selectors import residents_visible_to
from epidispatch.vaccination.models import Dose, DoseDeletion

CVX_SYSTEM = "http://hl7.org/fhir/sid/cvx"
#: Our own code systems: the product codes of the reference data, and the resident ID
#: card number (居民身份证号码, GB 11643) in clear or masked.
PRODUCT_SYSTEM = "urn:epidispatch:vaccine-product"
ID_NUMBER_SYSTEM = "urn:epidispatch:resident-id-card"
MASKED_ID_NUMBER_SYSTEM = "urn:epidispatch:resident-id-card-masked"
GENDERS = {Sex.MALE: "male", Sex.FEMALE: "female"}
#: Doses in one page of the change feed, at most and by default.
MAX_CHANGES, DEFAULT_CHANGES = 1000, 100


def _residents(user) -> QuerySet:
    return Resident.objects.all() if user is None else residents_visible_to(user)


def _doses(user) -> QuerySet:
    doses = Dose.objects.select_related("product", "site")
    return doses if user is None else doses.filter(resident__in=residents_visible_to(user))


def unit_bundle_read(user, unit: OrgUnit, as_of: date, *, unmask: bool = False) -> dict:
    """The FHIR R4 Bundle (collection) of a unit: a Patient per resident under it and an
    Immunization per dose of theirs given on or before `as_of`. Unmasked only through
    `services.unit_bundle`, which checks the permission and writes the audit entry."""
    residents = (
        _residents(user).filter(grid__path__startswith=unit.path).order_by("pk").only(*_FIELDS)
    )
    doses = (
        _doses(user)
        .filter(resident__grid__path__startswith=unit.path, given_on__lte=as_of)
        .order_by("resident_id", "dose_number")
    )
    entries = [patient_resource(resident, unmask=unmask) for resident in residents]
    entries += [immunization_resource(dose) for dose in doses]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timezone.localtime().isoformat(timespec="seconds"),
        "entry": [{"resource": resource} for resource in entries],
    }


_FIELDS = ("pk", "name", "sex", "birth_date", "id_number_masked", "id_number_encrypted")


def patient_for_user(user, resident_id: int) -> dict:
    """One resident as a FHIR Patient (masked), or Http404 outside the user's units."""
    resident = get_object_or_404(_residents(user).only(*_FIELDS), pk=resident_id)
    return patient_resource(resident)


def immunization_for_user(user, dose_id: int) -> dict:
    """One dose as a FHIR Immunization, or Http404 outside the user's units."""
    return immunization_resource(get_object_or_404(_doses(user), pk=dose_id))


def patient_resource(resident: Resident, *, unmask: bool = False) -> dict:
    if unmask:
        identifier = {
            "system": ID_NUMBER_SYSTEM,
            "value": protection.decrypt(resident.id_number_encrypted),
        }
    else:
        identifier = {"system": MASKED_ID_NUMBER_SYSTEM, "value": resident.id_number_masked}
    return {
        "resourceType": "Patient",
        "id": str(resident.pk),
        "identifier": [identifier],
        "name": [{"text": resident.name}],
        "gender": GENDERS.get(resident.sex, "unknown"),
        "birthDate": resident.birth_date.isoformat(),
    }


def immunization_resource(dose: Dose) -> dict:
    """The dose with the product's CVX code (where it has one) and its NMPA-registered
    product name, the lot and the dose number in the series."""
    product = dose.product
    coding = [{"system": PRODUCT_SYSTEM, "code": product.code, "display": product.name}]
    if product.cvx_code:
        coding.insert(0, {"system": CVX_SYSTEM, "code": product.cvx_code})
    given = timezone.localtime(dose.given_at) if dose.given_at else dose.given_on
    resource = {
        "resourceType": "Immunization",
        "id": str(dose.pk),
        "status": "completed",
        "vaccineCode": {"coding": coding, "text": product.name},
        "patient": {"reference": f"Patient/{dose.resident_id}"},
        "occurrenceDateTime": given.isoformat(),
        "manufacturer": {"display": product.manufacturer},
        "protocolApplied": [{"doseNumberPositiveInt": dose.dose_number}],
    }
    if dose.lot_number:
        resource["lotNumber"] = dose.lot_number
    if dose.site_id:
        resource["location"] = {"display": dose.site.name}
    return resource


def _deletions(user) -> QuerySet:
    deletions = DoseDeletion.objects.all()
    return deletions if user is None else deletions.filter(resident__in=residents_visible_to(user))


def dose_changes(user, *, cursor: tuple[int, int], limit: int = DEFAULT_CHANGES) -> dict:
    """The doses recorded, corrected (`kind`) or deleted after `cursor` ((txid, id),
    core.feeds) in the user's units, in the order their transactions wrote them, and the
    cursor to ask with next time: a follower stores `next_cursor` and asks again. A dose
    committed late by a slow transaction comes on a later page, never skipped; a corrected
    one comes again, a deleted one once more as `deleted`. Two queries (doses, deletions)."""
    limit = max(1, min(limit, MAX_CHANGES))
    doses = list(feeds.after(_doses(user), cursor)[: limit + 1])
    deletions = list(feeds.after(_deletions(user), cursor, key="dose_id")[: limit + 1])
    rows = sorted(
        [(dose.txid or 0, dose.pk, _dose_item(dose)) for dose in doses]
        + [(gone.txid or 0, gone.dose_id, _deletion_item(gone)) for gone in deletions],
        key=lambda row: row[:2],
    )
    items = rows[:limit]
    return {
        "items": [item for _txid, _pk, item in items],
        "next_cursor": feeds.format_cursor(*items[-1][:2])
        if items
        else feeds.format_cursor(*cursor),
        "has_more": len(rows) > limit,
    }


def _dose_item(dose: Dose) -> dict:
    return {
        "id": dose.pk,
        "kind": "corrected" if dose.corrected_at else "recorded",
        "resident_id": dose.resident_id,
        "dose_number": dose.dose_number,
        "product": dose.product.code,
        "cvx_code": dose.product.cvx_code,
        "given_on": dose.given_on,
        "lot_number": dose.lot_number,
        "site": dose.site.code if dose.site_id else "",
        "source": dose.source,
        "created_at": dose.created_at,
        "changed_at": dose.corrected_at or dose.created_at,
    }


def _deletion_item(gone: DoseDeletion) -> dict:
    return {
        "id": gone.dose_id,
        "kind": "deleted",
        "resident_id": gone.resident_id,
        "dose_number": gone.dose_number,
        "product": "",
        "cvx_code": "",
        "given_on": None,
        "lot_number": "",
        "site": "",
        "source": "",
        "created_at": None,
        "changed_at": gone.at,
    }
