"""Forms of the field-work pages: they parse what a worker typed, nothing more (the rules
live in services.py)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epidispatch.core.bounds import MAX_BIGINT, NOTE_MAX

from .models import FollowUpOutcome, Severity, VisitOutcome

PROOF_ACCEPT = "image/jpeg,image/png,application/pdf"


class VisitForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=VisitOutcome.choices, widget=forms.RadioSelect
    )
    proof = forms.FileField(
        label=_("Proof (photo or PDF)"),
        required=False,
        allow_empty_file=True,  # the service refuses it with its own message
        widget=forms.ClearableFileInput(attrs={"accept": PROOF_ACCEPT, "capture": "environment"}),
    )
    reason = forms.CharField(label=_("Contraindication"), max_length=200, required=False)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    seen_visit = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=MAX_BIGINT)
    submission_id = forms.UUIDField(widget=forms.HiddenInput)


class CheckpointForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Checkpoint of"), queryset=None, empty_label=None)
    place = forms.CharField(label=pgettext_lazy("checkpoint location", "Place"), max_length=100)
    seen_at = forms.DateTimeField(
        label=_("Seen at"),
        initial=lambda: timezone.localtime().replace(second=0, microsecond=0),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=24,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    name = forms.CharField(label=_("Name (if given)"), max_length=60, required=False)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units


class FollowUpForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("How is the person?"), choices=FollowUpOutcome.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    severity = forms.ChoiceField(
        label=_("Severity"), choices=[("", "—"), *Severity.choices], required=False
    )
    description = forms.CharField(
        label=_("Describe the reaction"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
