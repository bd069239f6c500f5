"""Forms of the web pages: they parse and validate what a user typed, nothing more."""

from pathlib import Path

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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

    def __init__(self, *args, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(kind.name, kind.label) for kind in kinds]

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
