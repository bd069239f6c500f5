from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import StaffRole


class BookingForm(forms.Form):
    """The public booking form: ID number, then the code sent to the phone on file."""

    id_number = forms.CharField(label=_("ID number"), max_length=20)
    code = forms.CharField(label=_("Code sent to your phone"), max_length=6, required=False)
    slot = forms.TypedChoiceField(label=_("Time"), coerce=int, required=False)

    def __init__(self, *args, slots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].choices = [
            (slot.pk, f"{slot.session.day:%m-%d} {slot.starts_at:%H:%M}（{slot.free}）")
            for slot in slots
        ]


class CancelBookingForm(forms.Form):
    """The public form to cancel one's bookings: ID number, then the code sent to the
    phone on file."""

    id_number = forms.CharField(label=_("ID number"), max_length=20)
    code = forms.CharField(label=_("Code sent to your phone"), max_length=6, required=False)


class CheckInForm(forms.Form):
    id_number = forms.CharField(label=_("ID number"), max_length=20)


class RosterForm(forms.Form):
    """Put a person on a post at this site (排班); the service checks the rules."""

    staff = forms.TypedChoiceField(label=_("Staff member"), coerce=int)
    role = forms.ChoiceField(label=pgettext_lazy("roster", "Post"), choices=StaffRole.choices)
    starts_at = forms.TimeField(
        label=pgettext_lazy("roster", "From"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    ends_at = forms.TimeField(
        label=pgettext_lazy("roster", "To"), widget=forms.TimeInput(attrs={"type": "time"})
    )

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = [(member.pk, _staff_label(member)) for member in staff]


def _staff_label(member) -> str:
    """名字（接种员至2027-06-30；已排 鸡川镇卫生院接种点 08:00–12:00）."""
    notes = [
        _("%(role)s until %(day)s") % {"role": q.get_role_display(), "day": q.expires_on}
        for q in getattr(member, "valid", [])
    ] or [str(_("no valid qualification"))]
    notes += [
        _("on duty at %(site)s %(start)s–%(end)s")
        % {
            "site": post.site.name,
            "start": f"{post.starts_at:%H:%M}",
            "end": f"{post.ends_at:%H:%M}",
        }
        for post in getattr(member, "posts", [])
    ]
    return f"{member.name}（{'；'.join(str(note) for note in notes)}）"


class RosterMoveForm(forms.Form):
    entry = forms.IntegerField(min_value=1, max_value=2**31 - 1)
    site = forms.ChoiceField(label=_("Move to"))

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [(site.code, site.name) for site in sites]


class EquipmentCheckForm(forms.Form):
    """One check of one piece of equipment, typed on a phone at the site."""

    equipment = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    temperature = forms.DecimalField(
        label=pgettext_lazy("refrigerator", "Temperature (°C)"),
        max_digits=4,
        decimal_places=1,
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    working = forms.TypedChoiceField(
        label=_("In order"),
        choices=[("1", _("Yes")), ("0", _("No"))],
        coerce=lambda value: value == "1",
        initial="1",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class TrainingForm(forms.Form):
    unit = forms.ChoiceField(label=_("Organised by"))
    title = forms.CharField(label=_("Title"), max_length=100)
    role = forms.ChoiceField(label=_("Qualifies for"), choices=StaffRole.choices)
    held_on = forms.DateField(label=_("Held on"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_months = forms.IntegerField(
        label=_("Valid for (months)"), min_value=1, max_value=60, initial=12
    )

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(unit.code, unit.name) for unit in units]


class TrainingResultForm(forms.Form):
    staff = forms.TypedChoiceField(label=_("Staff member"), coerce=int)
    passed = forms.TypedChoiceField(
        label=pgettext_lazy("training", "Result"),
        choices=[("1", _("Passed")), ("0", _("Attended, not passed"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        initial="1",
    )

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = [
            (member.pk, f"{member.name} · {member.unit.name}") for member in staff
        ]
