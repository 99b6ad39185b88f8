"""The patient: identity, history relevant to scar treatment, and consents."""

from __future__ import annotations

import uuid
from datetime import date

from django.conf import settings
from django.db import models

from scarrx.records import NeverDeleted


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    INTERSEX = "intersex", "Intersex"
    UNKNOWN = "unknown", "Not recorded"


class Fitzpatrick(models.IntegerChoices):
    """Self-reported phototype (clinical.md §1): stored as given, never inferred from a photo."""

    I = 1, "I — always burns, never tans"  # noqa: E741
    II = 2, "II — usually burns, tans minimally"
    III = 3, "III — sometimes burns, tans gradually"
    IV = 4, "IV — burns minimally, tans well"
    V = 5, "V — rarely burns, tans deeply"
    VI = 6, "VI — never burns"


class Pregnancy(models.TextChoices):
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    NOT_PREGNANT = "not_pregnant", "Not pregnant, not breastfeeding"
    PREGNANT = "pregnant", "Pregnant"
    BREASTFEEDING = "breastfeeding", "Breastfeeding"
    PLANNING = "planning", "Planning a pregnancy"
    UNKNOWN = "unknown", "Not known"


NO_ALLERGY_WORDS = {"", "none", "none known", "no known allergies", "nka", "nkda", "nil", "no"}


def has_allergies(text: str) -> bool:
    """Whether an allergies entry names any ("None known", "NKDA" do not)."""
    return text.strip().strip(".").lower() not in NO_ALLERGY_WORDS


PREGNANCY_FLAGGED = (Pregnancy.PREGNANT, Pregnancy.BREASTFEEDING, Pregnancy.PLANNING)


class AcneSeverity(models.TextChoices):
    NONE = "none", "None"
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class PriorTreatment(models.TextChoices):
    LASER = "laser", "Laser resurfacing"
    DERMABRASION = "dermabrasion", "Dermabrasion"
    CHEMICAL_PEEL = "chemical_peel", "Chemical peel or TCA CROSS"
    MICRONEEDLING = "microneedling", "Microneedling"
    SUBCISION = "subcision", "Subcision"
    FILLERS = "fillers", "Fillers"


class Patient(NeverDeleted):
    # scarrx.access: a patient record is its own patient; the portal shows it to them.
    patient_path = ""
    portal_visible = True
    audit_choices = {"prior_treatments": PriorTreatment.choices}

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record_number = models.CharField(max_length=20, unique=True, editable=False)

    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices)
    phone = models.CharField(max_length=40, blank=True)
    # The phone's digits alone, for finding a number however it was typed.
    phone_digits = models.CharField(max_length=40, blank=True, editable=False, db_index=True)
    email = models.EmailField(blank=True)
    address = models.TextField(max_length=500, blank=True)
    guardian_name = models.CharField(max_length=200, blank=True)
    guardian_relationship = models.CharField(max_length=60, blank=True)

    fitzpatrick = models.PositiveSmallIntegerField(choices=Fitzpatrick.choices)
    pregnancy_status = models.CharField(
        max_length=20, choices=Pregnancy.choices, default=Pregnancy.UNKNOWN
    )
    pregnancy_status_on = models.DateField(null=True, blank=True)

    allergies = models.TextField(max_length=1000, blank=True)
    current_medicines = models.TextField(max_length=2000, blank=True)
    isotretinoin_last_6_months = models.BooleanField(default=False)
    anticoagulants = models.BooleanField(default=False)

    acne_severity = models.CharField(
        max_length=10, choices=AcneSeverity.choices, default=AcneSeverity.NONE
    )
    acne_onset_age = models.PositiveSmallIntegerField(null=True, blank=True)
    active_acne = models.BooleanField(default=False)
    cystic_acne = models.BooleanField(default=False)
    prior_treatments = models.JSONField(default=list, blank=True)  # PriorTreatment values
    prior_treatment_notes = models.TextField(max_length=2000, blank=True)

    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="prescribed_patients",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="patient_record",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["family_name", "given_name", "pk"]
        indexes = [models.Index(fields=["family_name", "given_name"])]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.record_number})"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day: date) -> int:
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))

    @property
    def age(self) -> int:
        from django.utils import timezone

        return self.age_on(timezone.localdate())

    @property
    def phototype(self) -> str:
        """The Fitzpatrick type as its numeral ("III")."""
        return self.get_fitzpatrick_display().split(" ", 1)[0]

    def safety_flags(self) -> list[str]:
        """What anyone preparing, dispensing or assessing for this patient must see first
        (clinical.md §7 screens: pregnancy with retinoids, allergies, anticoagulants,
        recent isotretinoin before procedures)."""
        flags = []
        if self.pregnancy_status in (
            Pregnancy.PREGNANT,
            Pregnancy.BREASTFEEDING,
            Pregnancy.PLANNING,
        ):
            flags.append(self.get_pregnancy_status_display())
        elif (
            self.pregnancy_status == Pregnancy.UNKNOWN
            and self.sex in (Sex.FEMALE, Sex.INTERSEX)
            and 12 <= self.age <= 55
        ):
            flags.append("Pregnancy status not known")
        if self.isotretinoin_last_6_months:
            flags.append("Isotretinoin in the last 6 months")
        if self.anticoagulants:
            flags.append("Takes anticoagulants")
        if has_allergies(self.allergies):
            flags.append(f"Allergies: {self.allergies.strip()}")
        return flags

    def prior_treatment_labels(self) -> list[str]:
        labels = dict(PriorTreatment.choices)
        return [labels.get(v, v) for v in self.prior_treatments]


class ConsentKind(models.TextChoices):
    TREATMENT = "treatment", "Treatment"
    PHOTOGRAPHS = "photographs", "Photographs"
    DEIDENTIFIED_DATA = "deidentified_data", "Use of de-identified data in outcome reports"


class Consent(NeverDeleted):
    """One decision by the patient. Withdrawal is a later row with granted=False."""

    view_permission = "patients.view_patient"
    portal_visible = True

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    granted = models.BooleanField()
    given_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-given_on", "-recorded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {'granted' if self.granted else 'withdrawn'}"
