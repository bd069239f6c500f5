"""Forms of the meetings pages (parsing only; the rules are in services.py)."""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epidispatch.dispatch.models import Snapshot

from .attachments import MAX_FILES

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MOMENT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
MOMENT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
ATTACHMENT_ACCEPT = "image/jpeg,image/png,application/pdf,.docx,.xlsx"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ATTACHMENT_ACCEPT}))
        kwargs.setdefault("allow_empty_file", True)  # the service refuses it, in its words
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            files = [single(item, initial) for item in data if item]
        else:
            files = [single(data, initial)] if data else []
        if len(files) > MAX_FILES:
            raise forms.ValidationError(
                _("At most %(count)d files at once.") % {"count": MAX_FILES}
            )
        return files


class MeetingForm(forms.Form):
    series = forms.ModelChoiceField(label=_("Series"), queryset=None, empty_label=None)
    number = forms.IntegerField(
        label=_("Number (第N次)"),
        min_value=1,
        max_value=100000,
        required=False,
        help_text=_("empty: the next number of the series"),
    )
    held_at = forms.DateTimeField(
        label=pgettext_lazy("meeting", "Held at"), widget=MOMENT, input_formats=MOMENT_FORMATS
    )
    report_deadline = forms.DateTimeField(
        label=_("Reports due by"), widget=MOMENT, input_formats=MOMENT_FORMATS
    )
    snapshot = forms.ModelChoiceField(
        label=_("Cutoff discussed"),
        queryset=None,
        required=False,
        empty_label=pgettext_lazy("cutoff", "none"),
    )
    chair = forms.CharField(label=_("Chair"), max_length=60, required=False)
    main_venue = forms.CharField(label=_("Main venue"), max_length=100, required=False)
    sub_venues = forms.CharField(
        label=_("Sub-venues, one per line"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    participants = forms.ModelMultipleChoiceField(
        label=_("Participating units"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, series, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["series"].queryset = series
        self.fields["participants"].queryset = units
        self.fields["snapshot"].queryset = Snapshot.objects.order_by("-day")
        self.fields["snapshot"].label_from_instance = lambda snapshot: str(snapshot.day)


def default_meeting_initial(latest_snapshot) -> dict:
    """Today at the cutoff's evening meeting: reports due an hour before."""
    now = timezone.localtime()
    held = now.replace(hour=17, minute=30, second=0, microsecond=0)
    if held < now:
        held = now.replace(second=0, microsecond=0) + timedelta(minutes=30)
    return {
        "held_at": held,
        "report_deadline": held - timedelta(hours=1),
        "snapshot": latest_snapshot,
    }


class ReportForm(forms.Form):
    progress = forms.CharField(
        label=pgettext_lazy("meeting", "Progress"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    difficulties = forms.CharField(
        label=_("Difficulties"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    next_measures = forms.CharField(
        label=_("Next measures"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ItemForm(forms.Form):
    decision = forms.CharField(
        label=pgettext_lazy("meeting", "Decision"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    owner = forms.ChoiceField(label=_("Owner"))
    deadline = forms.DateField(label=_("Deadline"), widget=DATE)
    evidence_required = forms.CharField(
        label=_("Evidence required"), max_length=200, required=False
    )

    def __init__(self, *args, units, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.units = {str(unit.pk): unit for unit in units}
        self.groups = {str(group.pk): group for group in groups}
        self.fields["owner"].choices = [
            (_("Units"), [(f"unit:{pk}", unit.name) for pk, unit in self.units.items()]),
            (_("Working groups"), [(f"group:{pk}", g.name) for pk, g in self.groups.items()]),
        ]

    def owner_kwargs(self) -> dict:
        kind, _sep, pk = self.cleaned_data["owner"].partition(":")
        if kind == "unit":
            return {"owner_unit": self.units[pk]}
        return {"owner_group": self.groups[pk]}


class ProgressForm(forms.Form):
    note = forms.CharField(
        label=_("Progress made"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    attachments = MultipleFileField(
        label=_("Attachments (photos, PDF, Word, Excel)"), required=False
    )


class CallInForm(forms.Form):
    cases = forms.ModelMultipleChoiceField(
        label=_("Called in at this meeting"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, cases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cases"].queryset = cases
        self.fields["cases"].label_from_instance = lambda case: (
            f"{case.unit.name} · {case.get_kind_display()} · {case.summary}"
        )
