"""Who saw and changed what. Both tables are append-only."""

from django.conf import settings
from django.db import models

from scarrx.records import NeverDeleted

REASON_LENGTH = 1000  # why a change was made: a few sentences, kept with the change


class AccessRecord(NeverDeleted):
    """A read of patient data: who, what, when, from where."""

    append_only = True
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", null=True, on_delete=models.PROTECT, related_name="access_records"
    )
    what = models.CharField(max_length=100)  # e.g. "patient.detail", "api.assessment.list"
    path = models.CharField(max_length=500)
    ip = models.GenericIPAddressField(null=True, blank=True)
    via = models.CharField(max_length=10, default="web")  # web, api, cli

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["patient", "-at"])]

    def __str__(self) -> str:
        return f"{self.user} {self.what} {self.at:%Y-%m-%d %H:%M}"


class ChangeRecord(NeverDeleted):
    """A change to a record, with the data that changed. Also the patient's timeline."""

    append_only = True
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", null=True, on_delete=models.PROTECT, related_name="change_records"
    )
    action = models.CharField(max_length=100)  # e.g. "patient.registered", "assessment.amended"
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    summary = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    reason = models.TextField(max_length=REASON_LENGTH, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["patient", "-at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"
