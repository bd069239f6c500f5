"""Forms of the dispatch pages: they parse what the dispatcher typed, nothing more. Whether
a target may be issued (who, which day, frozen or not) is `services.target_issue`'s call."""

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from epidispatch.core.bounds import EARLIEST_DAY, LATEST_DAY


class DayForm(forms.Form):
    """The day whose targets the page shows (任务清单 of that day)."""

    day = forms.DateField(
        label=_("Day"),
        validators=[MinValueValidator(EARLIEST_DAY), MaxValueValidator(LATEST_DAY)],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class TargetsForm(forms.Form):
    """One quota field per unit, all units in one form. An empty field leaves the unit's
    target as it is (or without one)."""

    def __init__(self, *args, units, initial_doses: dict[int, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.units = list(units)
        for unit in self.units:
            self.fields[self.field_name(unit)] = forms.IntegerField(
                label=unit.name,
                min_value=0,
                max_value=1_000_000,
                required=False,
                initial=initial_doses.get(unit.pk),
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "quota"}),
            )

    @staticmethod
    def field_name(unit) -> str:
        return f"unit_{unit.code}"

    def bound_field(self, unit):
        return self[self.field_name(unit)]

    def quotas(self) -> list[tuple[object, int]]:
        """(unit, doses) for each field filled in, in the units' order."""
        return [
            (unit, self.cleaned_data[self.field_name(unit)])
            for unit in self.units
            if self.cleaned_data.get(self.field_name(unit)) is not None
        ]


class CandidateDecisionForm(forms.Form):
    """The dispatcher's decision on a summons candidate (约谈): confirm or dismiss."""

    decision = forms.ChoiceField(choices=[("confirmed", _("Confirm")), ("dismissed", _("Dismiss"))])
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    @property
    def confirms(self) -> bool:
        return self.cleaned_data["decision"] == "confirmed"
