from django import forms
from django.utils import timezone

from scarrx.accounts.models import User
from scarrx.accounts.roles import PRESCRIBER
from scarrx.audit.models import ChangeRecord
from scarrx.patients.models import Consent, ConsentKind, Patient, PriorTreatment
from scarrx.patients.services import EDITABLE_FIELDS

DATE = forms.DateInput(attrs={"type": "date"})


class PatientForm(forms.ModelForm):
    # Asked for when the record looks like another patient's (at intake or on a change).
    duplicate_reason = ChangeRecord._meta.get_field("reason").formfield(
        required=False,
        label="Why this is someone else",
        widget=forms.TextInput,
        help_text="Recorded in the record's history.",
    )
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


DECISIONS = [("", "Not asked"), ("granted", "Granted"), ("declined", "Declined")]


class IntakeForm(PatientForm):
    """A new patient, with the consent decisions made at the first visit: each consent
    granted, declined or not asked (nothing is recorded for one not asked)."""

    consents_given_on = forms.DateField(
        widget=DATE, label="Decisions made on", initial=timezone.localdate
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in ConsentKind.choices:
            self.fields[f"consent_{kind}"] = forms.ChoiceField(
                choices=DECISIONS, widget=forms.RadioSelect, required=False, initial="", label=label
            )

    def consent_fields(self):
        return [self[f"consent_{kind}"] for kind in ConsentKind.values]

    def consents(self) -> list[dict]:
        """The decisions made, as the service takes them (of what parsed)."""
        given_on = self.cleaned_data.get("consents_given_on")
        return [
            {"kind": kind, "granted": decision == "granted", "given_on": given_on}
            for kind in ConsentKind.values
            if (decision := self.cleaned_data.get(f"consent_{kind}"))
        ]

    def patient_fields(self) -> dict:
        """The patient's fields that parsed (all of them once the form is valid)."""
        return {
            name: self.cleaned_data[name] for name in EDITABLE_FIELDS if name in self.cleaned_data
        }

    def intake(self) -> dict:
        """What register_patient and check_intake take, from what parsed."""
        return {
            **self.patient_fields(),
            "consents": self.consents(),
            "duplicate_reason": self.cleaned_data.get("duplicate_reason", ""),
        }

    @staticmethod
    def field_for(name: str) -> str:
        """A service error's field ("consents.0.given_on") → this form's field."""
        return "consents_given_on" if name.endswith(".given_on") else name


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
