"""Console and portal forms of the course. They only shape input: the services decide."""

from __future__ import annotations

import uuid

from django import forms
from django.utils import timezone

from scarrx.body import Site
from scarrx.forms import WallClockField
from scarrx.treatment.models import (
    AREA_CHOICES,
    Action,
    Kind,
    Outcome,
    Severity,
    SkipReason,
)
from scarrx.treatment.services import SLOT_NAMES
from scarrx.values import number_text

DATE = forms.DateInput(attrs={"type": "date"})
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class PrescriptionForm(forms.Form):
    preparation = forms.ChoiceField(help_text="The patient's preparations, newest first.")
    written_on = forms.DateField(widget=DATE)
    start_on = forms.DateField(widget=DATE, label="Course starts")
    morning = forms.TimeField(widget=TIME, required=False, initial="08:00")
    midday = forms.TimeField(widget=TIME, required=False)
    evening = forms.TimeField(widget=TIME, required=False, initial="20:00")
    bedtime = forms.TimeField(widget=TIME, required=False)
    sites = forms.MultipleChoiceField(
        choices=Site.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    area = forms.ChoiceField(
        choices=[("", "— grams per application instead —"), *AREA_CHOICES],
        required=False,
        label="Treated area (fingertip units)",
    )
    grams_per_application = forms.DecimalField(
        required=False, min_value=0, decimal_places=3, help_text="For a spot treatment."
    )
    duration_days = forms.IntegerField(initial=180, label="Duration (days)")
    refills_authorised = forms.IntegerField(initial=5)
    directions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        initial="Apply a thin layer to the affected areas of the face twice daily.",
        help_text="Printed on the label.",
    )
    prescriber_name = forms.CharField(required=False, help_text="Blank: the prescriber's own.")
    prescriber_npi = forms.CharField(label="Prescriber NPI", max_length=10)
    prescriber_licence = forms.CharField(required=False, help_text="Blank: from their login.")
    follow_up_weeks = forms.CharField(initial="4, 8, 12, 26", label="Follow-ups at weeks")
    reassessment_before_refill = forms.BooleanField(
        required=False, label="Reassessment required before a refill"
    )

    def __init__(self, *args, preparations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.preparations = {str(p.public_id): p for p in preparations}
        self.fields["preparation"].choices = [(k, p.name) for k, p in self.preparations.items()]

    def clean_follow_up_weeks(self):
        raw = self.cleaned_data["follow_up_weeks"]
        try:
            return [int(w) for w in raw.replace(",", " ").split()]
        except ValueError:
            raise forms.ValidationError("Weeks as numbers, e.g. 4, 8, 12, 26.") from None

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        times = {n: data.pop(n) for n in SLOT_NAMES}
        data["times"] = {n: t for n, t in times.items() if t is not None}
        data["preparation"] = self.preparations[data["preparation"]]
        return data


class FillForm(forms.Form):
    batch = forms.ChoiceField(help_text="Released batches of this preparation, earliest BUD first.")
    quantity_g = forms.DecimalField(label="Quantity (g)", min_value=0, decimal_places=3)
    filled_on = forms.DateField(widget=DATE, required=False, help_text="Blank: today.")

    def __init__(self, *args, batches=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.batches = {str(b.public_id): b for b in batches}
        self.fields["batch"].choices = [
            (k, f"{b.label} · BUD {b.bud:%-d %b %Y} · {number_text(b.remaining)} g left")
            for k, b in self.batches.items()
        ]


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            ("on_hold", "Put on hold"),
            ("active", "Resume"),
            ("completed", "Mark completed"),
            ("stopped", "Stop"),
        ]
    )
    reason = forms.CharField(required=False, max_length=300)


class ApplicationForm(forms.Form):
    """One tap in the portal, or staff logging on the patient's behalf."""

    key = forms.UUIDField(widget=forms.HiddenInput)
    slot = forms.ChoiceField(choices=[(n, n.capitalize()) for n in SLOT_NAMES])
    on = forms.DateField(widget=DATE, required=False)
    applied_at = WallClockField(
        required=False, help_text="As the patient's clock showed it (their zone). Blank: now."
    )
    skipped = forms.BooleanField(required=False)
    skip_reason = forms.ChoiceField(choices=[("", "—"), *SkipReason.choices], required=False)
    note = forms.CharField(required=False, max_length=300)

    @staticmethod
    def new_key() -> str:
        return str(uuid.uuid4())


class SideEffectForm(forms.Form):
    kind = forms.ChoiceField(choices=Kind.choices, label="What happened")
    severity = forms.ChoiceField(choices=Severity.choices, widget=forms.RadioSelect)
    onset_on = forms.DateField(widget=DATE, label="When it began")
    action = forms.ChoiceField(choices=Action.choices, label="What you did about it")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Tell us more"
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"onset_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class ReviewForm(forms.Form):
    assessment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    outcome = forms.ChoiceField(choices=Outcome.choices)
    resolved_on = forms.DateField(widget=DATE, required=False)
    serious = forms.BooleanField(required=False, label="Serious: report to FDA MedWatch")
