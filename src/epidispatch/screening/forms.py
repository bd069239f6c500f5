"""Forms of the screening pages. Lengths are bounded here and again in the services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import CAPACITIES, EVERY_DAYS, GroupKind, MissedReason, Result

CAPACITY_CHOICES = [(c, _("single tube") if c == 1 else f"{c}混1") for c in CAPACITIES]


class RoundForm(forms.Form):
    unit = forms.ChoiceField(label=_("Unit"))
    name = forms.CharField(label=_("Name"), max_length=100)
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    pool_size = forms.TypedChoiceField(
        label=_("Tube capacity"), choices=CAPACITY_CHOICES, coerce=int, initial=10
    )

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.code, f"{u.name} ({u.code})") for u in units]


class CollectForm(forms.Form):
    barcode = forms.CharField(label=_("Tube barcode"), max_length=40)
    capacity = forms.TypedChoiceField(
        label=_("Tube capacity"), choices=CAPACITY_CHOICES, coerce=int
    )
    id_number = forms.CharField(label=_("ID number"), max_length=40)
    name = forms.CharField(
        label=_("Name (only for people not in the registry)"), max_length=60, required=False
    )


class BarcodesField(forms.CharField):
    """Barcodes one per line (a scanner types a line per tube), or separated by spaces."""

    widget = forms.Textarea(attrs={"rows": 4})

    def to_python(self, value):
        text = super().to_python(value)
        return [code for code in text.replace(",", " ").split() if code]


class SendForm(forms.Form):
    barcodes = BarcodesField(label=_("Tube barcodes"), max_length=200_000)
    courier = forms.CharField(label=_("Courier"), max_length=60)
    box = forms.CharField(label=_("Transport box"), max_length=40, required=False)


class ReceiveForm(forms.Form):
    barcodes = BarcodesField(label=_("Tube barcodes"), max_length=200_000)


class ResultForm(forms.Form):
    barcode = forms.CharField(label=_("Tube barcode"), max_length=40)
    result = forms.ChoiceField(label=_("Result"), choices=Result.choices)
    tested_at = forms.DateTimeField(
        label=_("Tested at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    lab = forms.CharField(label=_("Lab"), max_length=100)


class MissedForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why not sampled"), choices=MissedReason.choices)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class GroupForm(forms.Form):
    unit = forms.ChoiceField(label=_("Kept by"))
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Industry"), choices=GroupKind.choices)
    every_days = forms.IntegerField(
        label=_("Test every (days)"), min_value=EVERY_DAYS[0], max_value=EVERY_DAYS[1], initial=3
    )

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.code, f"{u.name} ({u.code})") for u in units]


class MemberForm(forms.Form):
    id_number = forms.CharField(label=_("ID number"), max_length=40)
    employer = forms.CharField(label=_("Employer"), max_length=100, required=False)
