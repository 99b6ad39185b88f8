"""Console forms of the pharmacy: they read the typed values; the services judge them."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from scarrx.pharmacy.bud import DayCounting
from scarrx.pharmacy.models import Ingredient, Role

GRAMS = {"max_digits": 15, "decimal_places": 6, "min_value": Decimal("0.000001")}
DATE = forms.DateInput(attrs={"type": "date"})


class IngredientForm(forms.Form):
    name = forms.CharField(max_length=120)
    role = forms.ChoiceField(choices=Role.choices)
    max_strength_percent = forms.DecimalField(
        required=False, max_digits=9, decimal_places=6, label="Formulary maximum (% w/w)"
    )
    allergen_group = forms.CharField(required=False, max_length=80)
    assay_percent = forms.DecimalField(initial=100, max_digits=9, decimal_places=6, label="Assay %")
    salt_factor = forms.DecimalField(
        initial=1, max_digits=12, decimal_places=6, label="Salt to base factor"
    )
    density_g_per_ml = forms.DecimalField(
        required=False, max_digits=8, decimal_places=4, label="Density (g/mL, liquids)"
    )
    contains_water = forms.BooleanField(required=False)
    preserves = forms.BooleanField(required=False, label="Preservative system")
    hazardous = forms.BooleanField(required=False, label="Hazardous drug (USP <800>)")
    pregnancy_caution = forms.BooleanField(
        required=False, label="Avoid in pregnancy and breastfeeding"
    )
    contact_sensitiser = forms.BooleanField(required=False, label="Contact-dermatitis warning")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class IngredientEditForm(IngredientForm):
    reason = forms.CharField(max_length=300, label="Reason for the change")

    @classmethod
    def initial_for(cls, ingredient: Ingredient) -> dict:
        return {name: getattr(ingredient, name) for name in cls.base_fields if name != "reason"}


class RetireForm(forms.Form):
    reason = forms.CharField(max_length=300, label="Why it is out of service")


class LotForm(forms.Form):
    supplier = forms.CharField(max_length=120)
    lot_number = forms.CharField(max_length=20)
    expiry_date = forms.DateField(widget=DATE)
    received_on = forms.DateField(widget=DATE, required=False)
    received_g = forms.DecimalField(label="Quantity received (g)", **GRAMS)
    coa_reference = forms.CharField(required=False, max_length=120, label="Certificate of analysis")


class BalanceForm(forms.Form):
    name = forms.CharField(max_length=80)
    readability_g = forms.DecimalField(label="Readability (g)", **GRAMS)
    minimum_weight_g = forms.DecimalField(label="Minimum weight (g)", **GRAMS)
    last_calibrated_on = forms.DateField(widget=DATE)


class CalibrationForm(forms.Form):
    on = forms.DateField(widget=DATE, label="Calibrated on")
    note = forms.CharField(required=False, max_length=200)


class SettingsForm(forms.Form):
    mfr_approvals = forms.IntegerField(min_value=1, max_value=5, label="Approvals an MFR needs")
    day_counting = forms.ChoiceField(
        choices=[
            (DayCounting.COMPOUNDING_DAY_IS_DAY_1.value, "The compounding day is day 1"),
            (DayCounting.DAY_AFTER_COMPOUNDING_IS_DAY_1.value, "The day after is day 1"),
        ],
        label="BUD day counting",
    )
    calibration_days = forms.IntegerField(
        min_value=1, max_value=730, label="A balance calibration lasts (days)"
    )
    reason = forms.CharField(max_length=300, label="Reason for the change")


def parse_components(text: str) -> list[tuple[str, Decimal | None, str]]:
    """Lines "Ingredient | strength % (or q.s.) | function" → (name, strength, function)."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        name, strength = parts[0], (parts[1] if len(parts) > 1 else "").rstrip("% ").lower()
        function = parts[2] if len(parts) > 2 else ""
        if strength in ("q.s.", "qs", "base", ""):
            rows.append((name, None, function))
            continue
        try:
            rows.append((name, Decimal(strength), function))
        except ArithmeticError:
            raise forms.ValidationError(
                f"Line {number}: {strength!r} is not a strength (a number, or q.s. for the base)."
            ) from None
    return rows


def parse_steps(text: str) -> list[tuple[str, bool, bool]]:
    """One step a line; "[pharmacist]" or "[photo]" at the start marks those steps."""
    steps = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        pharmacist, photo = line.startswith("[pharmacist]"), line.startswith("[photo]")
        steps.append(
            (line.removeprefix("[pharmacist]").removeprefix("[photo]").strip(), pharmacist, photo)
        )
    return steps


class FormulationForm(forms.Form):
    code = forms.CharField(max_length=30, help_text="e.g. SIL-PTX; versions share the code")
    name = forms.CharField(max_length=160)
    dosage_form = forms.CharField(max_length=60, initial="gel")
    route = forms.CharField(max_length=40, initial="topical")
    components = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One a line: ingredient | % w/w (q.s. for the base) | function",
    )
    steps = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One a line; start with [pharmacist] or [photo] to mark such steps",
    )
    container_closure = forms.CharField(max_length=200)
    equipment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), label="Physical description"
    )
    qc_specification = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="QC")
    ph_min = forms.DecimalField(required=False, max_digits=4, decimal_places=2, label="pH from")
    ph_max = forms.DecimalField(required=False, max_digits=4, decimal_places=2, label="pH to")
    tolerance_percent = forms.DecimalField(
        initial=5, max_digits=9, decimal_places=6, label="Weighing tolerance (± %)"
    )
    bud_source = forms.CharField(max_length=200, initial="USP <795> table", label="BUD source")
    stability_limit_days = forms.IntegerField(
        required=False, min_value=1, max_value=180, label="Stability study limit (days)"
    )
    calculations = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    label_text = forms.CharField(required=False, max_length=300)
    produces = forms.ModelChoiceField(
        queryset=Ingredient.objects.filter(role=Role.BASE),
        required=False,
        to_field_name="public_id",
        label="Stock preparation yielding (for batches used in other batches)",
    )
    change_reason = forms.CharField(required=False, max_length=300, label="Reason for the change")

    def clean_components(self):
        return parse_components(self.cleaned_data["components"])

    def clean_steps(self):
        return parse_steps(self.cleaned_data["steps"])


class PreparationForm(forms.Form):
    name = forms.CharField(required=False, max_length=200, help_text="left blank: from the actives")


class BatchForm(forms.Form):
    dispensed_g = forms.DecimalField(
        label="Quantity to dispense (g)", max_digits=15, decimal_places=6
    )
    wastage_percent = forms.DecimalField(
        initial=0, max_digits=9, decimal_places=6, label="Wastage allowance (%)"
    )


class WeighingForm(forms.Form):
    scan = forms.CharField(
        required=False,
        max_length=200,
        label="Scan the container's label",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": "scan or type the lot", "data-scan": ""}
        ),
    )
    lot = forms.CharField(required=False, label="or choose the lot")
    balance = forms.CharField(required=False)
    actual_g = forms.DecimalField(
        required=False, max_digits=15, decimal_places=6, label="Actual weight (g)"
    )


class StepForm(forms.Form):
    step = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(required=False, max_length=300)


class PhotoForm(forms.Form):
    photo = forms.FileField(
        label="Photo of the finished preparation",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/heic,.heic"}),
    )


class QcForm(forms.Form):
    appearance = forms.CharField(max_length=200)
    appearance_ok = forms.BooleanField(required=False, label="Appearance meets the specification")
    ph = forms.DecimalField(required=False, max_digits=4, decimal_places=2, label="pH")
    final_weight_g = forms.DecimalField(
        required=False, max_digits=15, decimal_places=6, label="Final weight (g)"
    )


class TextForm(forms.Form):
    text = forms.CharField(max_length=500, label="Deviation")


class VerifyForm(forms.Form):
    shorten_to = forms.DateField(required=False, widget=DATE, label="Shorter BUD (optional)")
    reason = forms.CharField(required=False, max_length=300, label="Reason for a shorter BUD")


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300)
    expected_release = forms.DateField(required=False, widget=DATE)


class RecallForm(forms.Form):
    reason = forms.CharField(max_length=500)


class TemplateForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false"}))
    reason = forms.CharField(max_length=300)
