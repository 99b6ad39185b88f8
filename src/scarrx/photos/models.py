"""Progress photos: private files, the calibration found in them, and measurements.

Files live in private storage under random names and are served only through a view
that checks permission. Nothing here is deleted: a measurement is redone as a new row.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from scarrx.assessments.models import ScarAssessment
from scarrx.body import Site
from scarrx.patients.models import Consent, Patient
from scarrx.records import NeverDeleted


class View(models.TextChoices):
    FRONT = "front", "Front"
    LEFT_45 = "left_45", "45° left"
    RIGHT_45 = "right_45", "45° right"
    CLOSE_UP = "close_up", "Close-up"
    RAKING = "raking", "Raking light"


class Photo(NeverDeleted):
    portal_visible = True  # scarrx.access: a patient sees their own photos

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="photos")
    assessment = models.ForeignKey(
        ScarAssessment, null=True, blank=True, on_delete=models.PROTECT, related_name="photos"
    )
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="+")
    site = models.CharField(max_length=15, choices=Site.choices)
    view = models.CharField(max_length=10, choices=View.choices)
    taken_at = models.DateTimeField()
    taken_at_source = models.CharField(max_length=10)  # "exif" or "given"

    file = models.CharField(max_length=200)  # name in private storage
    thumbnail = models.CharField(max_length=200)
    # A reduced copy for pages, colour-corrected when calibrated; rewritten with the
    # calibration. Blank for photos stored before previews were kept: rendered on demand.
    preview = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, db_index=True)
    original_sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    source_format = models.CharField(max_length=10)

    # Calibration found at upload (chart detection + colour correction).
    calibrated = models.BooleanField(default=False)
    calibration = models.JSONField(default=dict, blank=True)
    uncalibrated_reason = models.CharField(max_length=300, blank=True)
    px_per_mm = models.FloatField(null=True, blank=True)
    algorithm_version = models.CharField(max_length=40, blank=True)

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-taken_at", "-pk"]
        indexes = [models.Index(fields=["patient", "site", "view", "taken_at"])]

    def __str__(self) -> str:
        return f"{self.get_site_display()} {self.get_view_display()} {self.taken_at:%-d %b %Y}"

    @property
    def chart_corners(self) -> list | None:
        return self.calibration.get("chart_corners")

    @property
    def chart_model(self) -> dict:
        """The chart model its calibration used: {"name", "pitch_mm", "patch_mm",
        "verified"} (photos stored before models were recorded: the pharmacy's)."""
        return (self.calibration or {}).get("chart") or dict(settings.PHOTO_CHART)


class Measurement(NeverDeleted):
    """Regions drawn on a photo and what scarrx.imaging measured in them.

    For a follow-up, `baseline` is the measurement whose regions were carried over by
    alignment; `result` then holds the alignment quality and homography too.
    """

    # scarrx.access: reached through its photo, read with the photo's permission.
    patient_path = "photo__patient"
    view_permission = "photos.view_photo"
    portal_visible = True

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    photo = models.ForeignKey(Photo, on_delete=models.PROTECT, related_name="measurements")
    roi = models.JSONField()  # [[x, y], ...] in this photo's upright pixels
    reference = models.JSONField()
    baseline = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="followups"
    )
    result = models.JSONField()
    algorithm_version = models.CharField(max_length=40)
    measured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    measured_at = models.DateTimeField(auto_now_add=True)
    is_current = models.BooleanField(default=True)
    # For a follow-up: the photo resampled into its baseline's frame by this
    # measurement's alignment, reduced for the comparison page.
    preview = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-measured_at", "-pk"]

    def __str__(self) -> str:
        return f"Measurement of {self.photo}"

    @property
    def patient(self) -> Patient:
        return self.photo.patient
