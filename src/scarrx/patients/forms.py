from django import forms
from django.utils import timezone

from scarrx.accounts.models import User
from scarrx.accounts.roles import PRESCRIBER
from scarrx.patients.models import Consent, ConsentKind, Patient, PriorTreatment
from scarrx.patients.services import EDITABLE_FIELDS

DATE = forms.DateInput(attrs={"type": "date"})


class PatientForm(forms.ModelForm):
    prior_treatments = forms.MultipleChoiceField(
        choices=PriorTreatment.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    prescriber = forms.ModelChoiceField(
        queryset=User.objects.filter(groups__name=PRESCRIBER, is_active=True),
        required=False,
        help_text="Prescribers see only their own patients.",
    )

    class Meta:
        model = Patient
        fields = EDITABLE_FIELDS
        widgets = {
            "date_of_birth": DATE,
            "pregnancy_status_on": DATE,
            "address": forms.Textarea(attrs={"rows": 2}),
            "allergies": forms.Textarea(attrs={"rows": 2}),
            "current_medicines": forms.Textarea(attrs={"rows": 2}),
            "prior_treatment_notes": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "fitzpatrick": "Fitzpatrick phototype (self-reported)",
            "isotretinoin_last_6_months": "Isotretinoin in the last 6 months",
            "anticoagulants": "Takes anticoagulants",
            "pregnancy_status_on": "Pregnancy status as of",
            "acne_onset_age": "Age when acne began",
            "cystic_acne": "Cystic acne (ever)",
            "active_acne": "Active acne now",
        }


class IntakeForm(PatientForm):
    """A new patient, with the consents given at the first visit."""

    consents_given_on = forms.DateField(
        widget=DATE, label="Consents given on", initial=timezone.localdate
    )
    consent_treatment = forms.BooleanField(required=False, label="Consents to treatment")
    consent_photographs = forms.BooleanField(required=False, label="Consents to photographs")
    consent_deidentified_data = forms.BooleanField(
        required=False, label="Consents to de-identified data in outcome reports"
    )

    def consents(self) -> list[dict]:
        given_on = self.cleaned_data["consents_given_on"]
        return [
            {
                "kind": kind,
                "granted": bool(self.cleaned_data[f"consent_{kind}"]),
                "given_on": given_on,
            }
            for kind in ConsentKind.values
        ]

    def patient_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in EDITABLE_FIELDS}


class ConsentForm(forms.Form):
    kind = forms.ChoiceField(choices=ConsentKind.choices)
    granted = forms.TypedChoiceField(
        choices=[("yes", "Granted"), ("no", "Withdrawn / refused")],
        coerce=lambda v: v == "yes",
        label="Decision",
    )
    given_on = forms.DateField(widget=DATE)
    note = Consent._meta.get_field("note").formfield(required=False)


class PortalLoginForm(forms.Form):
    username = forms.CharField(
        max_length=150, help_text="An existing login with the patient role (scarrx createuser)."
    )
