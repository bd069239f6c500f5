"""Forms of the accountability pages (parsing only; the rules are in services.py)."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import Kind


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            ("confirm", pgettext_lazy("accountability", "Confirm")),
            ("dismiss", pgettext_lazy("accountability", "Dismiss")),
        ]
    )
    kind = forms.ChoiceField(label=pgettext_lazy("accountability", "Measure"), choices=Kind.choices)
    persons = forms.CharField(label=_("Persons concerned"), max_length=200, required=False)
    note = forms.CharField(
        label=_("Decision"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class PledgeForm(forms.Form):
    pledge = forms.CharField(
        label=_("Pledge (表态发言)"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    deadline = forms.DateField(
        label=_("Pledge deadline"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class CaseForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=None, empty_label=None)
    kind = forms.ChoiceField(label=pgettext_lazy("accountability", "Measure"), choices=Kind.choices)
    summary = forms.CharField(label=_("Why"), max_length=200)
    persons = forms.CharField(label=_("Persons concerned"), max_length=200, required=False)
    decision = forms.CharField(
        label=_("Decision"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
