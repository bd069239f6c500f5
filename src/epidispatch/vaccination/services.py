"""Writes of doses: a site recording one (`dose_record`) and every path that adds doses
(`doses_settle`, which imports use too)."""

from datetime import date, datetime

import polars as pl
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, F, ProtectedError, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.audit.models import AuditAction
from epidispatch.audit.services import audit_record, change_record_created
from epidispatch.core import bulk
from epidispatch.core.feeds import CurrentTxid
from epidispatch.core.live import figures_track
from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.models import Resident, ResidentStatus

from .models import Dose, DoseDeletion, DoseSource, VaccinationStatus, VaccineProduct
from .permissions import accepts_outside_doses, corrects_doses, records_doses_at
from .rules import DOSE_COLUMNS, DOSE_FIELDS, Rules, derive, load_rules
from .signals import dose_changed, dose_pack_changed, dose_recorded

#: The schema of the existing doses `doses_settle` compares against.
STORED_DOSE_SCHEMA = {
    "id": pl.Int64,
    "resident_id": pl.Int64,
    "dose_number": pl.Int64,
    "product_id": pl.Int64,
    "given_on": pl.Date,
    "booster_number": pl.Int64,
    "completes_series": pl.Boolean,
    "sequential": pl.Boolean,
    "next_due_by": pl.Date,
}
#: The longest lot number or trace code a dose keeps (its columns).
PACK_FIELD_MAX = 40
RESIDENT_SCHEMA = {"id": pl.Int64, "birth_date": pl.Date, "county_code": pl.String}
#: Dose fields whose indexes a first load builds after its COPY (core.bulk.insert_frame).
REBUILT_INDEXES = ("lot_number", "trace_code")


def stored_doses(resident_ids) -> pl.DataFrame:
    return bulk.select_in(Dose, "resident_id", resident_ids, STORED_DOSE_SCHEMA)


def doses_settle(
    *, new: pl.DataFrame, existing: pl.DataFrame, residents: pl.DataFrame, rules: Rules
) -> None:
    """Insert the `new` doses and bring every derived figure of their residents up to date.

    `new` holds Dose fields (DOSE_COLUMNS among them) of doses not yet stored; `existing`
    every stored dose of the same residents (STORED_DOSE_SCHEMA); `residents` their id,
    birth_date and county_code. Call inside a transaction.
    """
    if new.is_empty():
        return
    fields, statuses = derive(
        pl.concat([new.select(DOSE_COLUMNS), existing.select(DOSE_COLUMNS)]),
        residents.select(pl.col("id").alias("resident_id"), "birth_date"),
        rules,
    )
    changed = _changed_stored(existing, fields)
    # When no stored dose changes, the block only adds doses (a refusal it ends counts
    # like the presence it becomes): the figures count the added doses alone.
    with figures_track(residents.get_column("id").to_list(), adds_doses=changed.is_empty()):
        keys = ["resident_id", "dose_number"]
        new = new.with_columns(pl.col(key).cast(pl.Int64) for key in keys)
        # Rows go in by resident, the order of the natural-key index and of the residents
        # the deferred foreign-key checks visit at commit: in file order nearly every row
        # lands on another page, and inserting and committing take half as long again
        # (bench/RESULTS.md). A first load, half what is stored or more, builds the
        # indexes by lot and trace code (supply's) after the COPY instead: their values
        # are random, each row would change a random page of them.
        bulk.insert_frame(
            Dose,
            new.drop(DOSE_FIELDS, strict=False).join(fields, on=keys).sort(keys),
            rebuild_indexes=REBUILT_INDEXES,
        )
        _store_derived(changed, statuses, residents)
        _end_refusals(new.get_column("resident_id").unique().sort().to_list())


#: Residents per statement when a dose ends their refusal.
REFUSAL_CHUNK = 10_000


def _end_refusals(resident_ids: list[int]) -> None:
    """A dose ends a refusal (拒绝接种) and any 未接种原因: the person is vaccinated now.
    The refusal stays in the visit history (入户核查), never shown as current."""
    pending = Q(status=ResidentStatus.REFUSED) | ~Q(unvaccinated_reason="")
    if len(resident_ids) > REFUSAL_CHUNK:
        # An import's hundreds of thousands of residents: the few with a refusal or a
        # reason are found by one scan and matched here (looking each imported resident
        # up by id took 1.9 s for 500,000, to change 33).
        wanted = set(resident_ids)
        resident_ids = sorted(
            pk for pk in Resident.objects.filter(pending).values_list("pk", flat=True)
            if pk in wanted
        )  # fmt: skip
    for start in range(0, len(resident_ids), REFUSAL_CHUNK):
        Resident.objects.filter(pending, pk__in=resident_ids[start : start + REFUSAL_CHUNK]).update(
            status=Case(
                When(status=ResidentStatus.REFUSED, then=Value(ResidentStatus.PRESENT)),
                default=F("status"),
            ),
            unvaccinated_reason="",
            updated_at=timezone.now(),
        )


def _changed_stored(existing: pl.DataFrame, fields: pl.DataFrame) -> pl.DataFrame:
    """The stored doses whose derived fields `fields` changes (`_derived` beside each)."""
    keys = ["resident_id", "dose_number"]
    return existing.join(fields, on=keys, suffix="_derived").filter(
        pl.any_horizontal(
            pl.col(name).ne_missing(pl.col(f"{name}_derived")) for name in DOSE_FIELDS
        )
    )


def _store_derived(changed: pl.DataFrame, statuses: pl.DataFrame, residents: pl.DataFrame) -> None:
    """Write the derived fields that changed on stored doses (`_changed_stored`), and
    replace the residents' VaccinationStatus rows (a resident left with no dose keeps
    none)."""
    bulk.update_frame(
        Dose,
        changed.select("id", *(pl.col(f"{name}_derived").alias(name) for name in DOSE_FIELDS)),
    )
    bulk.delete_in(VaccinationStatus, "resident_id", residents.get_column("id").to_list())
    counties = residents.select(pl.col("id").alias("resident_id"), "county_code")
    bulk.insert_frame(
        VaccinationStatus, statuses.join(counties, on="resident_id").sort("resident_id")
    )


@transaction.atomic
def dose_record(
    *,
    resident: Resident,
    product: VaccineProduct | None,
    given_on: date,
    site: OrgUnit,
    by,
    lot_number: str = "",
    trace_code: str = "",
    given_at: datetime | None = None,
) -> Dose:
    """Record one dose given at a site (接种登记), checked against the schedule rules."""
    if not records_doses_at(by, site):
        raise PermissionDenied(_("Only the staff of this site may record its doses."))
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    product = VaccineProduct.objects.filter(pk=product.pk).first() if product else None
    if product is None or not product.active:
        raise ValidationError(_("Unknown vaccine product."), code="unknown_product")
    if given_on > timezone.localdate():
        raise ValidationError(
            _("The vaccination date %(day)s is in the future.") % {"day": given_on},
            code="future_date",
        )
    if resident.status == ResidentStatus.DECEASED:
        raise ValidationError(
            _("%(name)s is registered as deceased; no dose can be recorded.")
            % {"name": resident.name},
            code="deceased",
        )
    rules = load_rules()
    existing = stored_doses([resident.pk])
    status = VaccinationStatus.objects.filter(resident=resident).first()
    number = _check_next_dose(resident, status, product, given_on, rules)
    new = pl.DataFrame(
        [
            {
                "resident_id": resident.pk,
                "dose_number": number,
                "product_id": product.pk,
                "given_on": given_on,
                "given_at": given_at,
                "lot_number": lot_number.strip(),
                "trace_code": trace_code.strip(),
                "site_id": site.pk,
                "site_name": site.name,
                "source": DoseSource.SITE.value,
                "recorded_by_id": by.pk,
                "county_code": resident.county_code,
                "created_at": timezone.now(),
            }
        ]
    )
    residents = _resident_frame(resident)
    try:
        with transaction.atomic():
            doses_settle(new=new, existing=existing, residents=residents, rules=rules)
    except IntegrityError:
        raise ValidationError(
            _("Dose %(number)d of this person was recorded a moment ago by someone else.")
            % {"number": number},
            code="concurrent",
        ) from None
    dose = Dose.objects.get(resident=resident, dose_number=number)
    change_record_created(dose)
    dose_recorded.send(sender=Dose, dose=dose, by=by)
    return dose


@transaction.atomic
def dose_record_outside(
    *,
    resident: Resident,
    product: VaccineProduct | None,
    given_on: date,
    place: str,
    by,
    lot_number: str = "",
) -> Dose:
    """Record a dose given elsewhere (外地接种) on accepted proof: it counts like any other
    dose, with its source (`place`, as the proof names it) kept on the dose.

    The proof is the record of what was given, so, as for an imported file, the schedule's
    intervals do not apply; the dose must still follow the doses already recorded.
    """
    resident = Resident.objects.select_for_update().select_related("grid").get(pk=resident.pk)
    if not accepts_outside_doses(by, resident):
        raise PermissionDenied(_("Only the county office or the town may accept this proof."))
    place = place.strip()
    if not place:
        raise ValidationError(_("Say where the dose was given."), code="no_place")
    product = VaccineProduct.objects.filter(pk=product.pk).first() if product else None
    if product is None:
        raise ValidationError(_("Unknown vaccine product."), code="unknown_product")
    if given_on > timezone.localdate():
        raise ValidationError(
            _("The vaccination date %(day)s is in the future.") % {"day": given_on},
            code="future_date",
        )
    status = VaccinationStatus.objects.filter(resident=resident).first()
    if status is not None and given_on <= status.last_dose_on:
        raise ValidationError(
            _("The previous dose was given on %(day)s; a new one must come later.")
            % {"day": status.last_dose_on},
            code="before_previous",
        )
    number = status.doses + 1 if status else 1
    new = pl.DataFrame(
        [
            {
                "resident_id": resident.pk,
                "dose_number": number,
                "product_id": product.pk,
                "given_on": given_on,
                "lot_number": lot_number.strip()[:40],
                "site_name": place[:100],
                "source": DoseSource.OUTSIDE.value,
                "recorded_by_id": by.pk,
                "county_code": resident.county_code,
                "created_at": timezone.now(),
            }
        ]
    )
    doses_settle(
        new=new,
        existing=stored_doses([resident.pk]),
        residents=_resident_frame(resident),
        rules=load_rules(),
    )
    return Dose.objects.get(resident=resident, dose_number=number)


def _check_next_dose(
    resident: Resident,
    status: VaccinationStatus | None,
    product: VaccineProduct,
    given_on: date,
    rules: Rules,
) -> int:
    """The number the new dose gets, or a ValidationError saying why it may not be given."""
    if status is None:
        return 1
    if given_on <= status.last_dose_on:
        raise ValidationError(
            _("The previous dose was given on %(day)s; a new one must come later.")
            % {"day": status.last_dose_on},
            code="before_previous",
        )
    if status.next_dose_number is None:
        raise ValidationError(
            _("%(name)s has had the full series and every booster the rules allow.")
            % {"name": resident.name},
            code="beyond_series",
        )
    in_series = status.series_complete_on is None
    series_platform = rules.platforms[status.series_product_id]
    if in_series and rules.platforms[product.pk] != series_platform:
        raise ValidationError(
            _(
                "Dose %(number)d completes a series begun with %(product)s: "
                "use a vaccine of the same kind."
            )
            % {"number": status.next_dose_number, "product": status.series_product.name},
            code="series_platform",
        )  # fmt: skip
    if status.next_due_from and given_on < status.next_due_from:
        message = (
            _("Too soon: dose %(number)d may be given from %(day)s on.")
            if in_series
            else _("Too soon for a booster: it may be given from %(day)s on.")
        )
        raise ValidationError(
            message % {"number": status.next_dose_number, "day": status.next_due_from},
            code="too_soon",
        )
    return status.next_dose_number


@transaction.atomic
def dose_correct(
    *,
    dose: Dose,
    given_on: date,
    product: VaccineProduct,
    by,
    reason: str,
    seen: str = "",
    lot_number: str | None = None,
    trace_code: str | None = None,
) -> Dose:
    """Correct a dose's day, product, lot number or trace code (更正); the resident's status
    and the live figures follow, the snapshots already taken do not. `seen`: the
    `Dose.version` the form showed. A lot number or trace code left None stays as it is; a
    changed one goes through the same checks as at the site's table (`dose_pack_changed`:
    supply checks the pack and moves the stock to the lot now named)."""
    dose = _dose_for_change(dose, by, reason, seen)
    previous = (dose.lot_number, dose.trace_code)
    lot_number = dose.lot_number if lot_number is None else lot_number.strip()
    trace_code = dose.trace_code if trace_code is None else "".join(trace_code.split())
    for value, label in ((lot_number, _("lot number")), (trace_code, _("trace code"))):
        if len(value) > PACK_FIELD_MAX:
            raise ValidationError(
                _("The %(field)s is longer than %(limit)d characters.")
                % {"field": label, "limit": PACK_FIELD_MAX},
                code="too_long",
            )
    if given_on > timezone.localdate():
        raise ValidationError(
            _("The vaccination date %(day)s is in the future.") % {"day": given_on},
            code="future_date",
        )
    neighbours = Dose.objects.filter(resident_id=dose.resident_id).exclude(pk=dose.pk)
    earlier = neighbours.filter(dose_number__lt=dose.dose_number, given_on__gte=given_on)
    later = neighbours.filter(dose_number__gt=dose.dose_number, given_on__lte=given_on)
    if earlier.exists() or later.exists():
        raise ValidationError(
            _("Dose %(number)d must fall between the doses before and after it.")
            % {"number": dose.dose_number},
            code="out_of_order",
        )
    with figures_track([dose.resident_id]):
        dose.given_on, dose.product = given_on, product
        dose.lot_number, dose.trace_code = lot_number, trace_code
        # A new txid: the dose change feed gives the dose again, as corrected.
        dose.txid, dose.corrected_at = CurrentTxid(), timezone.now()
        dose.save(
            update_fields=[
                "given_on",
                "product",
                "lot_number",
                "trace_code",
                "txid",
                "corrected_at",
            ]
        )
        _rederive(dose.resident)
    if (lot_number, trace_code) != previous:
        dose_pack_changed.send(
            sender=Dose,
            dose=dose,
            by=by,
            previous_lot_number=previous[0],
            previous_trace_code=previous[1],
        )
    _audit_change(by, AuditAction.CORRECT_DOSE, dose, reason)
    dose_changed.send(sender=Dose, resident=dose.resident, by=by, reason=reason)
    return Dose.objects.get(pk=dose.pk)


@transaction.atomic
def dose_delete(*, dose: Dose, by, reason: str, seen: str = "") -> None:
    """Delete a dose recorded in error (删除). Only a resident's latest dose can go, so the
    numbering of the others stays whole."""
    dose = _dose_for_change(dose, by, reason, seen)
    if Dose.objects.filter(resident_id=dose.resident_id, dose_number__gt=dose.dose_number):
        raise ValidationError(
            _("Only the latest dose of a person can be deleted."), code="not_latest"
        )
    with figures_track([dose.resident_id]):
        try:
            with transaction.atomic():
                pk = dose.pk
                dose.delete()
                # The dose change feed gives the deletion once (its txid: this transaction).
                DoseDeletion.objects.create(
                    dose_id=pk, resident_id=dose.resident_id, dose_number=dose.dose_number
                )
        except ProtectedError:
            raise ValidationError(
                _(
                    "A record that must be kept refers to this dose (an adverse reaction "
                    "report): correct the dose instead of deleting it."
                ),
                code="protected",
            ) from None
        _rederive(dose.resident)
    _audit_change(by, AuditAction.DELETE_DOSE, dose, reason)
    dose_changed.send(sender=Dose, resident=dose.resident, by=by, reason=reason)


def _dose_for_change(dose: Dose, by, reason: str, seen: str = "") -> Dose:
    """The dose, read again under the resident's lock; a `seen` version that is no longer
    the dose's (someone changed or deleted it since the form was shown) is refused rather
    than overwritten."""
    Resident.objects.select_for_update().get(pk=dose.resident_id)
    stored = Dose.objects.select_related("resident__grid", "site").filter(pk=dose.pk).first()
    if stored is None:
        raise ValidationError(_("This dose was deleted a moment ago by someone else."), code="gone")
    if not corrects_doses(by, stored):
        raise PermissionDenied(_("You may not change this dose."))
    if seen and seen != stored.version:
        raise ValidationError(
            _("Someone else changed this dose a moment ago; check it and try again."),
            code="changed",
        )
    if not reason.strip():
        raise ValidationError(_("Say why the dose is changed."), code="no_reason")
    return stored


def _rederive(resident: Resident) -> None:
    existing = stored_doses([resident.pk])
    residents = _resident_frame(resident)
    fields, statuses = derive(
        existing.select(DOSE_COLUMNS),
        residents.select(pl.col("id").alias("resident_id"), "birth_date"),
        load_rules(),
    )
    _store_derived(_changed_stored(existing, fields), statuses, residents)


def _resident_frame(resident: Resident) -> pl.DataFrame:
    row = {
        "id": resident.pk,
        "birth_date": resident.birth_date,
        "county_code": resident.county_code,
    }
    return pl.DataFrame([row], schema=RESIDENT_SCHEMA)


def _audit_change(by, action: str, dose: Dose, reason: str) -> None:
    audit_record(
        user=by,
        action=action,
        subject=f"{dose.resident} #{dose.dose_number} {dose.given_on} · {reason.strip()}"[:120],
        unit_path=dose.resident.grid.path,
    )
