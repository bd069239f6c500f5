"""Forms of the certificate pages: they parse what is sent, nothing more."""

from django import forms
from django.utils.translation import gettext_lazy as _

from epidispatch.vaccination.models import VaccineProduct

from .payload import MAX_LENGTH


class CheckpointRecordForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Checkpoint of"), queryset=None, empty_label=None)
    place = forms.CharField(label=_("Place"), max_length=100)
    payload = forms.CharField(max_length=MAX_LENGTH, required=False, widget=forms.HiddenInput)
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=24,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    name = forms.CharField(label=_("Name (if given)"), max_length=60, required=False)
    seen_at = forms.DateTimeField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units


class ProofReviewForm(forms.Form):
    """Accept (with the dose the proof shows) or refuse (with why)."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("accept", _("Accept: count the dose")), ("refuse", _("Refuse"))],
        widget=forms.RadioSelect,
    )
    product = forms.ModelChoiceField(
        label=_("Vaccine"), queryset=VaccineProduct.objects.filter(active=True), required=False
    )
    given_on = forms.DateField(
        label=_("Date given"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    place = forms.CharField(
        label=_("Given at (as the proof says)"),
        max_length=100,
        required=False,
        help_text=_("e.g. 甘肃省兰州市城关区疾控中心接种门诊"),
    )
    lot_number = forms.CharField(label=_("Lot number"), max_length=40, required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if data.get("decision") == "accept":
            for name in ("product", "given_on", "place"):
                if not data.get(name):
                    self.add_error(name, _("Needed to accept the proof."))
        return data
