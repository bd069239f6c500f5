from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AEFIClassification, SupplyItem
from .selectors import holders_visible_to, lots_in_stock
from .services import MAX_QUANTITY


class TransferForm(forms.Form):
    """分配 / 平级调拨: the supply officer sends stock of a lot from one place to another."""

    source = forms.ModelChoiceField(label=_("From"), queryset=None)
    target = forms.ModelChoiceField(label=_("To"), queryset=None)
    lot = forms.ModelChoiceField(label=_("Lot"), queryset=None)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        holders = holders_visible_to(user)
        self.fields["source"].queryset = holders
        self.fields["target"].queryset = holders
        self.fields["lot"].queryset = lots_in_stock(user)


class ReceiveForm(forms.Form):
    """平台入库: a delivery into a store or site, with the codes of its packs."""

    holder = forms.ModelChoiceField(label=_("Received at"), queryset=None)
    item = forms.ModelChoiceField(label=_("Item"), queryset=SupplyItem.objects.all())
    lot_number = forms.CharField(label=_("Lot number"), max_length=40)
    expires_on = forms.DateField(
        label=_("Expires on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY)
    package_codes = forms.CharField(
        label=_("Pack codes (one a line)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=MAX_QUANTITY,
        required=False,
    )

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holder"].queryset = holders_visible_to(user)

    def clean_package_codes(self) -> tuple[str, ...]:
        text = self.cleaned_data["package_codes"].replace("\x00", "")
        return tuple(line.strip() for line in text.splitlines() if line.strip())


class AEFIStepForm(forms.Form):
    """One step of an AEFI report's handling."""

    STEPS = (
        ("reported", _("Reported (网络直报)")),
        ("investigation", _("Investigation started")),
        ("classify", _("Classify")),
        ("close", _("Close the case")),
    )

    step = forms.ChoiceField(choices=STEPS, widget=forms.HiddenInput)
    classification = forms.ChoiceField(
        label=_("Classification"),
        choices=[("", "—"), *AEFIClassification.choices],
        required=False,
    )
