"""Forms of the inspection pages: they parse what was typed and picked, nothing more
(who may do it and what is valid lives in services.py)."""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epidispatch.accountability.models import Kind

from .models import InspectionKind

EVIDENCE_ACCEPT = "image/jpeg,image/png,application/pdf,video/mp4,video/quicktime"
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several photos or videos in one field (Django's documented pattern)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(attrs={"accept": EVIDENCE_ACCEPT, "capture": "environment"}),
        )
        kwargs.setdefault("allow_empty_file", True)  # the service refuses it, in its words
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def _default_deadline():
    moment = timezone.localtime() + timedelta(days=3)
    return moment.replace(second=0, microsecond=0)


class InspectionForm(forms.Form):
    """The checklist of the place's category, one met / not met choice per item; a not
    met item takes a description and its photos or videos."""

    kind = forms.ChoiceField(label=_("Kind"), widget=forms.RadioSelect)
    person_on_duty = forms.CharField(label=_("Person on duty"), max_length=40, required=False)
    deadline = forms.DateTimeField(
        label=_("Rectify by"),
        initial=_default_deadline,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=DATETIME_FORMATS,
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, items, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        self.fields["kind"].choices = [(k, InspectionKind(k).label) for k in kinds]
        if len(kinds) == 1:
            self.fields["kind"].initial = kinds[0]
        for item in self.items:
            self.fields[f"item_{item.pk}"] = forms.TypedChoiceField(
                label=item.text,
                choices=[("1", _("Met")), ("0", _("Not met"))],
                coerce=lambda value: value == "1",
                widget=forms.RadioSelect,
            )
            self.fields[f"problem_{item.pk}"] = forms.CharField(
                label=_("Problem found"),
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"evidence_{item.pk}"] = MultipleFileField(
                label=_("Photo or video"), required=False
            )

    def rows(self):
        """(item, its choice, its problem field, its evidence field) in checklist order."""
        return [
            (
                item,
                self[f"item_{item.pk}"],
                self[f"problem_{item.pk}"],
                self[f"evidence_{item.pk}"],
            )
            for item in self.items
        ]

    def results(self) -> dict[int, bool]:
        return {item.pk: self.cleaned_data[f"item_{item.pk}"] for item in self.items}

    def problems(self) -> list[tuple]:
        """(item, description, uploads) of every item not met."""
        return [
            (
                item,
                self.cleaned_data[f"problem_{item.pk}"],
                self.cleaned_data[f"evidence_{item.pk}"],
            )
            for item in self.items
            if not self.cleaned_data[f"item_{item.pk}"]
        ]


class RectificationForm(forms.Form):
    note = forms.CharField(
        label=_("What was done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    evidence = MultipleFileField(label=_("Photo or video of the rectification"))


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("verify", _("Verify")), ("send_back", _("Send back"))])
    reason = forms.CharField(
        label=_("Reason for sending it back"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReferForm(forms.Form):
    kind = forms.ChoiceField(label=pgettext_lazy("accountability", "Measure"), choices=Kind.choices)


class ChecklistForm(forms.Form):
    items = forms.CharField(
        label=_("Items, one per line"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 10}),
    )
    effective_from = forms.DateField(
        label=_("In force from"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def item_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["items"].splitlines() if line.strip()]


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label=_("To"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("The period ends before it starts."))
        return data
