from django import forms
from django.utils.translation import gettext_lazy as _


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


class CheckInForm(forms.Form):
    id_number = forms.CharField(label=_("ID number"), max_length=20)
