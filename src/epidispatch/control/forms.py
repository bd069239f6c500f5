from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import CONTACT_CATEGORIES, AreaLevel, Category, Source, TestResult
from .services import Stop


class CheckInForm(forms.Form):
    temperature = forms.DecimalField(
        label=_("Temperature (°C)"), max_digits=3, decimal_places=1, min_value=30, max_value=45
    )
    symptoms = forms.CharField(label=_("Symptoms"), max_length=200, required=False)


class TestForm(forms.Form):
    result = forms.ChoiceField(label=_("Result"), choices=TestResult.choices)


class TransferForm(forms.Form):
    place = forms.CharField(label=_("Isolation place"), max_length=100)


class ExtendForm(forms.Form):
    days = forms.IntegerField(label=_("Extra days"), min_value=1, max_value=14)
    decision = forms.CharField(label=_("Local decision"), max_length=150)


class PositiveForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    id_number = forms.CharField(label=_("ID number"), max_length=30)
    grid = forms.CharField(
        label=_("Grid code"), max_length=20, required=False,
        help_text=_("where the person stays, when not a registered resident"),
    )  # fmt: skip
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    found_on = forms.DateField(label=_("Found positive on"))
    trajectory = forms.CharField(
        label=_("Trajectory"), max_length=5000, required=False, widget=forms.Textarea,
        help_text=_("one place a line: place, from, until (2022-07-04 15:00)"),
    )  # fmt: skip

    def clean_trajectory(self) -> list[Stop]:
        stops = []
        for number, line in enumerate(self.cleaned_data["trajectory"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.replace("，", ",").split(",")]
            try:
                place, start, end = parts
                started, ended = (
                    timezone.make_aware(datetime.strptime(text, "%Y-%m-%d %H:%M"))
                    for text in (start, end)
                )
            except ValueError:
                raise ValidationError(
                    _("Line %(line)d: write place, 2022-07-04 15:00, 2022-07-04 17:00.")
                    % {"line": number}
                ) from None
            if not place or len(place) > 100:
                raise ValidationError(_("Line %(line)d: name the place.") % {"line": number})
            stops.append(Stop(place, started, ended))
        return stops


CONFIRM_CHOICES = [("", _("Not a contact"))] + [
    (value, label) for value, label in Category.choices if value in CONTACT_CATEGORIES
]


class KeyPersonForm(forms.Form):
    """One person reported outside a pushed list: a self-report, a checkpoint, tracing."""

    name = forms.CharField(label=_("Name"), max_length=60)
    id_number = forms.CharField(label=_("ID number"), max_length=30)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    reference_date = forms.DateField(label=_("Last exposure or arrival"))
    source = forms.ChoiceField(label=_("Source"), choices=Source.choices)
    grid = forms.CharField(
        label=_("Grid code"), max_length=20, required=False,
        help_text=_("where the person stays, when not a registered resident"),
    )  # fmt: skip
    address = forms.CharField(label=_("Address"), max_length=200, required=False)


class AreaForm(forms.Form):
    """A control area drawn on the page's unit; its version comes from the start day."""

    name = forms.CharField(label=_("Name"), max_length=100)
    level = forms.ChoiceField(label=_("Level"), choices=AreaLevel.choices)
    started_on = forms.DateField(label=_("Started on"))
    last_case_on = forms.DateField(
        label=_("Last new case on"), required=False, help_text=_("empty: the start day")
    )
    addresses = forms.CharField(
        label=_("Addresses"), required=False, max_length=20_000, widget=forms.Textarea,
        help_text=_("one address a line, as the households are written; empty: the whole unit"),
    )  # fmt: skip


class AreaEditForm(forms.Form):
    """What changes while an area is in force: after a new case, its level and the day."""

    name = forms.CharField(label=_("Name"), max_length=100)
    level = forms.ChoiceField(label=_("Level"), choices=AreaLevel.choices)
    last_case_on = forms.DateField(label=_("Last new case on"))
    addresses = forms.CharField(
        label=_("Addresses"), required=False, max_length=20_000, widget=forms.Textarea,
        help_text=_("one address a line, as the households are written; empty: the whole unit"),
    )  # fmt: skip


class LiftForm(forms.Form):
    on = forms.DateField(label=_("Lifted on"))
