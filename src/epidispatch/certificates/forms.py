"""The checkpoint record form: it parses what the page sends, nothing more."""

from django import forms
from django.utils.translation import gettext_lazy as _

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
