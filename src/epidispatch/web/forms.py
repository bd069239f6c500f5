"""Forms of the web pages: they parse and validate what a user typed, nothing more."""

import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epidispatch.registry.models import ImportKind, ResidentStatus, UnvaccinatedReason
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
        label=_("Date given"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    lot_number = forms.CharField(label=_("Lot number"), max_length=40, required=False)
    trace_code = forms.CharField(label=_("Trace code"), max_length=40, required=False)


class ImportUploadForm(forms.Form):
    """A resident or dose file sent for import (DESIGN.md §7)."""

    SUFFIXES = (".xlsx", ".xls", ".csv")
    MAX_BYTES = 200 * 1024 * 1024

    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportKind.choices)
    file = forms.FileField(
        label=_("File"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(SUFFIXES)}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in self.SUFFIXES:
            raise forms.ValidationError(_("Send an .xlsx, .xls or .csv file."))
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 200 MB."))
        return upload

    def save_file(self) -> Path:
        """Store the upload under the data folder with a random name (the original name
        goes to the ledger only), for the background import to read."""
        upload = self.cleaned_data["file"]
        folder = Path(settings.DATA_DIR) / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{uuid.uuid4().hex}{Path(upload.name).suffix.lower()}"
        with path.open("wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        return path
