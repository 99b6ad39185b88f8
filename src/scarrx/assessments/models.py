"""A scar assessment: raw inputs of each scale, the scale versions, and computed totals.

Totals are recomputed from the raw inputs by `services`; they are stored only so that
lists and cohort queries need not recompute them. A signed assessment is never edited:
an amendment is a new row that points to the one it replaces.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from scarrx.assessments import scales
from scarrx.audit.models import REASON_LENGTH
from scarrx.body import Site
from scarrx.patients.models import Patient
from scarrx.records import NeverDeleted
from scarrx.values import number_text


class Timepoint(models.TextChoices):
    BASELINE = "baseline", "Baseline"
    WEEK_4 = "week_4", "Week 4"
    WEEK_8 = "week_8", "Week 8"
    WEEK_12 = "week_12", "Week 12"
    WEEK_26 = "week_26", "Week 26"
    OTHER = "other", "Other"


class Cause(models.TextChoices):
    ACNE = "acne", "Acne"
    CHICKENPOX = "chickenpox", "Chickenpox"
    SURGERY = "surgery", "Surgery"
    TRAUMA = "trauma", "Accident or trauma"
    OTHER = "other", "Other"


class Morphology(models.TextChoices):
    ICEPICK = "icepick", "Icepick"
    BOXCAR = "boxcar", "Boxcar"
    ROLLING = "rolling", "Rolling"
    HYPERTROPHIC = "hypertrophic", "Hypertrophic"
    KELOID = "keloid", "Keloid"
    MACULAR = "macular", "Macular"


class Classification(models.TextChoices):
    ATROPHIC = "atrophic", "Atrophic"
    HYPERTROPHIC = "hypertrophic", "Hypertrophic"
    KELOID = "keloid", "Keloid"
    MACULAR = "macular", "Macular"
    MIXED = "mixed", "Mixed"


class ScarAssessment(NeverDeleted):
    portal_visible = True  # scarrx.access: a patient sees their own assessments

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="assessments")
    assessed_on = models.DateField()
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    timepoint = models.CharField(max_length=10, choices=Timepoint.choices)
    classification = models.CharField(max_length=15, choices=Classification.choices)
    morphology = models.JSONField(default=list, blank=True)

    # Raw inputs, exactly as entered.
    gb_no_scarring = models.BooleanField(default=False)
    gb_qualitative = models.PositiveSmallIntegerField(null=True, blank=True)
    gb_counts = models.JSONField(default=dict, blank=True)  # {"A1": 8, ...}
    # To 0.01 cm², as entered: the D2 bands end at 5 and 20 cm², so 4.99 and 20.01 must
    # stay what they are (clinical.md §2: never rounded).
    gb_d2_area_cm2 = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    ecca_inputs = models.JSONField(default=dict, blank=True)  # {"V": {"count": 12}, ...}
    scar_s = models.JSONField(default=dict, blank=True)  # {"face": 3, ...}
    bother = models.PositiveSmallIntegerField(null=True, blank=True)
    global_impression = models.PositiveSmallIntegerField(null=True, blank=True)
    notes = models.TextField(max_length=4000, blank=True)
    scale_versions = models.JSONField(default=dict)

    # Computed from the raw inputs by services.compute_scores.
    gb_quantitative = models.PositiveSmallIntegerField(null=True, blank=True)
    ecca = models.PositiveSmallIntegerField(null=True, blank=True)

    signed_at = models.DateTimeField()
    amends = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="amended_by"
    )
    amendment_reason = models.TextField(max_length=REASON_LENGTH, blank=True)
    is_current = models.BooleanField(default=True)

    class Meta:
        ordering = ["-assessed_on", "-signed_at", "-pk"]
        permissions = [("amend_scarassessment", "Can amend a signed scar assessment")]
        indexes = [models.Index(fields=["patient", "is_current", "-assessed_on"])]
        constraints = [
            # One baseline in force per patient, even under concurrent requests.
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(is_current=True, timepoint="baseline"),
                name="one_current_baseline_per_patient",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_timepoint_display()} assessment of {self.assessed_on:%-d %b %Y}"

    @property
    def gb_qualitative_label(self) -> str:
        if self.gb_no_scarring:
            return "No scarring"
        if self.gb_qualitative is None:
            return "—"
        return f"{self.gb_qualitative} ({scales.GB_QUALITATIVE_GRADES[self.gb_qualitative]})"

    @property
    def gb_d2_area_text(self) -> str:
        """The area as entered, without trailing zeros ("4.99", "3")."""
        return "" if self.gb_d2_area_cm2 is None else number_text(self.gb_d2_area_cm2)

    @property
    def scar_s_sum(self) -> int | None:
        # The named overall sum exists only when all three regions were graded.
        if set(self.scar_s) != set(scales.SCAR_S_REGIONS):
            return None
        return scales.scar_s_sum(self.scar_s)

    @property
    def global_impression_label(self) -> str:
        if self.global_impression is None:
            return "—"
        return scales.GLOBAL_IMPRESSION[self.global_impression]


class AssessmentSite(NeverDeleted):
    patient_path = "assessment__patient"
    view_permission = "assessments.view_scarassessment"
    portal_visible = True

    assessment = models.ForeignKey(ScarAssessment, on_delete=models.PROTECT, related_name="sites")
    site = models.CharField(max_length=15, choices=Site.choices)
    cause = models.CharField(max_length=15, choices=Cause.choices)
    scar_age_years = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    # Vancouver Scar Scale, for surgical, traumatic and raised scars (optional).
    vss_pigmentation = models.PositiveSmallIntegerField(null=True, blank=True)
    vss_vascularity = models.PositiveSmallIntegerField(null=True, blank=True)
    vss_pliability = models.PositiveSmallIntegerField(null=True, blank=True)
    vss_height = models.PositiveSmallIntegerField(null=True, blank=True)
    vss_total = models.PositiveSmallIntegerField(null=True, blank=True)
    notes = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.get_site_display()} ({self.get_cause_display()})"
