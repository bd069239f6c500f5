"""Forms of the web pages: they parse and validate what a user typed, nothing more."""

from pathlib import Path

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epidispatch.core.bounds import EARLIEST_DAY, LATEST_DAY
from epidispatch.imports.services import upload_save
from epidispatch.registry.models import ResidentStatus, UnvaccinatedReason
from epidispatch.vaccination.models import VaccineProduct

#: The `reason` filter value for residents with no 未接种原因 recorded ("" means "any").
NO_REASON = "none"


class GridFilter(forms.Form):
    """The filters of a unit's lists; the grid is one of the unit's grids or none."""

    grid = forms.ChoiceField(label=_("Grid"), required=False)

    def __init__(self, data, *, grids):
        super().__init__(data)
        self.fields["grid"].choices = [("", _("All grids")), *((g.code, g.name) for g in grids)]

    def value(self, name: str):
        """The cleaned value of a filter, or its empty value when it was not valid."""
        self.is_valid()
        return self.cleaned_data.get(name) or self.fields[name].to_python("")


class ResidentFilter(GridFilter):
    q = forms.CharField(label=_("Name, phone or ID number"), required=False, max_length=60)
    town = forms.ChoiceField(label=_("Town or street"), required=False)
    village = forms.ChoiceField(label=_("Village or community"), required=False)

    def __init__(self, data, *, grids, places=()):
        """`places`: the towns and villages under the unit, offered as filters."""
        super().__init__(data, grids=grids)
        for kind, empty in (("town", _("All towns")), ("village", _("All villages"))):
            units = [(u.code, u.name) for u in places if u.kind == kind]
            self.fields[kind].choices = [("", empty), *units]
            if not units:
                del self.fields[kind]
        self.order_fields(["q", "town", "village", "grid", "status"])

    def value(self, name: str):
        return super().value(name) if name in self.fields else ""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *ResidentStatus.choices]
    )


class ClearanceFilter(GridFilter):
    reason = forms.ChoiceField(
        label=_("Reason not vaccinated"),
        required=False,
        choices=[
            ("", _("Any reason")),
            *UnvaccinatedReason.choices,
            (NO_REASON, _("No reason recorded")),
        ],
    )

    ages = forms.ChoiceField(
        label=_("Age"),
        required=False,
        choices=[
            ("", _("3 and over")),
            ("18+", _("18 and over")),
            ("12-17", _("12–17")),
            ("3-11", _("3–11")),
            ("60+", _("60 and over")),
        ],
    )

    def selected_reason(self) -> str | None:
        """The selector's `reason`: None for any, "" for none recorded."""
        reason = self.value("reason")
        if not reason:
            return None
        return "" if reason == NO_REASON else reason


class DueFilter(GridFilter):
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)


class DoseForm(forms.Form):
    """A dose given at a site (接种登记)."""

    id_number = forms.CharField(
        label=_("ID number"),
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    product = forms.ModelChoiceField(
        label=_("Vaccine"), queryset=VaccineProduct.objects.filter(active=True)
    )
    given_on = forms.DateField(
        validators=[MinValueValidator(EARLIEST_DAY), MaxValueValidator(LATEST_DAY)],
        label=_("Date given"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    lot_number = forms.CharField(label=_("Lot number"), max_length=40, required=False)
    trace_code = forms.CharField(label=_("Trace code"), max_length=40, required=False)


class ImportUploadForm(forms.Form):
    """A file of one of the kinds the user may import (DESIGN.md §7, §8)."""

    SUFFIXES = (".xlsx", ".xls", ".csv")

    kind = forms.ChoiceField(label=_("What the file holds"))
    file = forms.FileField(
        label=_("File"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(SUFFIXES)}),
    )

    def __init__(self, *args, kinds, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = {kind.name: kind for kind in kinds}
        self.fields["kind"].choices = [(kind.name, kind.label) for kind in kinds]
        # One select per declared option (kinds.Option) of the kinds offered, with the
        # values the user may choose; a name several kinds declare is one select.
        for option, users in _options_of(kinds).items():
            self.fields[f"option_{option.name}"] = forms.ChoiceField(
                label=option.label,
                required=False,
                choices=[("", "—"), *option.choices(user)],
                help_text=_("For %(kinds)s files.")
                % {"kinds": "、".join(str(kind.label) for kind in users)},
                widget=forms.Select(
                    attrs={"data-option-for": " ".join(kind.name for kind in users)}
                ),
            )

    def clean(self):
        cleaned = super().clean()
        kind = self.kinds.get(cleaned.get("kind") or "")
        for option in kind.options if kind else ():
            if not cleaned.get(f"option_{option.name}"):
                self.add_error(
                    f"option_{option.name}",
                    _("Choose %(option)s for this file.") % {"option": option.label},
                )
        return cleaned

    def options(self) -> dict[str, str]:
        """The raw values of the chosen kind's options, for `import_batch_create`."""
        kind = self.kinds[self.cleaned_data["kind"]]
        return {option.name: self.cleaned_data[f"option_{option.name}"] for option in kind.options}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in self.SUFFIXES:
            raise forms.ValidationError(_("Send an .xlsx, .xls or .csv file."))
        limit = settings.EPIDISPATCH_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is larger than %(limit)d MB.") % {"limit": limit >> 20}
            )
        return upload

    def save_file(self) -> Path:
        return upload_save(self.cleaned_data["file"])


def _options_of(kinds) -> dict:
    """Each declared option of `kinds` (by name) with the kinds that declare it."""
    found: dict[str, tuple] = {}
    for kind in kinds:
        for option in kind.options:
            first, users = found.get(option.name, (option, []))
            found[option.name] = (first, [*users, kind])
    return {option: users for option, users in found.values()}


class AuditFilter(forms.Form):
    """The filters of the audit trail page: all optional, all bounded."""

    unit = forms.CharField(label=_("Org unit code"), required=False, max_length=20)
    user = forms.CharField(label=_("User name"), required=False, max_length=150)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    since = forms.DateField(
        label=_("From"),
        required=False,
        validators=[MinValueValidator(EARLIEST_DAY), MaxValueValidator(LATEST_DAY)],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = forms.DateField(
        label=pgettext_lazy("date range", "To"),
        required=False,
        validators=[MinValueValidator(EARLIEST_DAY), MaxValueValidator(LATEST_DAY)],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=1000)

    def __init__(self, data, *, kinds):
        super().__init__(data)
        self.fields["kind"].choices = [("", _("Every kind")), *kinds]

    def filters(self) -> dict:
        data = self.cleaned_data
        return {
            "unit_code": data["unit"].strip(),
            "username": data["user"].strip(),
            "kind": data["kind"],
            "since": data["since"],
            "until": data["until"],
        }


#: The longest reason a dose correction or deletion keeps (the audit entry's subject).
DOSE_REASON_MAX = 60


class DoseChangeForm(forms.Form):
    """Why a dose is deleted (删除) — required — and the version of the dose the form showed,
    so that a change someone else made meanwhile is never silently overwritten."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=DOSE_REASON_MAX,
        help_text=_("Kept in the audit log with the change."),
    )
    version = forms.CharField(max_length=40, widget=forms.HiddenInput)


class DoseCorrectForm(DoseChangeForm):
    """A dose's day or vaccine corrected (更正), with the reason."""

    given_on = forms.DateField(
        validators=[MinValueValidator(EARLIEST_DAY), MaxValueValidator(LATEST_DAY)],
        label=_("Date given"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    product = forms.ModelChoiceField(
        label=_("Vaccine"), queryset=VaccineProduct.objects.filter(active=True)
    )
    lot_number = forms.CharField(label=_("Lot number"), max_length=40, required=False)
    trace_code = forms.CharField(label=_("Trace code"), max_length=40, required=False)
    field_order = ["given_on", "product", "lot_number", "trace_code", "reason"]

    def __init__(self, *args, dose, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "given_on": dose.given_on,
                "product": dose.product_id,
                "lot_number": dose.lot_number,
                "trace_code": dose.trace_code,
                "version": dose.version,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = VaccineProduct.objects.filter(
            Q(active=True) | Q(pk=dose.product_id)
        )

    def _pack_field(self, name: str) -> str | None:
        """None (unchanged) when the form sent no such field: a form of the day and the
        vaccine alone never clears the lot number or the trace code."""
        return self.cleaned_data[name] if name in self.data else None

    def clean_lot_number(self):
        return self._pack_field("lot_number")

    def clean_trace_code(self):
        return self._pack_field("trace_code")


class SiteDayForm(forms.Form):
    """The day of a site's register to show (today when none is asked for)."""

    day = forms.DateField(
        required=False,
        validators=[MinValueValidator(EARLIEST_DAY), MaxValueValidator(LATEST_DAY)],
        label=_("Day"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
