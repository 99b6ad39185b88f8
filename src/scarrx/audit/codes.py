"""The audit trail's vocabulary: every change action and every page that reads patient
data, each with the words the audit page shows. One registry: `record_change` refuses an
action missing here, and the declared-access test fails on a page whose reads have no
words here. API reads are named after their operation and read as its summary.

Adding an app: add its change actions to CHANGES and its patient pages to READS.
"""

from __future__ import annotations

CHANGES: dict[str, str] = {
    # accounts
    "account.created": "Login created",
    "account.token_issued": "API token issued",
    "account.token_revoked": "API token revoked",
    # patients
    "patient.registered": "Patient registered",
    "patient.updated": "Patient record updated",
    "patient.portal_linked": "Portal login linked",
    "consent.granted": "Consent granted",
    "consent.declined": "Consent declined",
    "consent.withdrawn": "Consent withdrawn",
    # assessments
    "assessment.signed": "Assessment signed",
    "assessment.amended": "Assessment amended",
    # photos
    "photo.uploaded": "Photo uploaded",
    "photo.chart_corners_set": "Chart corners set by hand",
    "photo.chart_model_set": "Chart model corrected",
    "photo.measured": "Photo measured",
    # pharmacy
    "ingredient.added": "Ingredient added to the formulary",
    "ingredient.updated": "Ingredient changed",
    "lot.received": "Lot received",
    "balance.added": "Balance added",
    "balance.calibrated": "Balance calibrated",
    "balance.retired": "Balance taken out of service",
    "settings.changed": "Pharmacy settings changed",
    "mfr.drafted": "Master formulation drafted",
    "mfr.edited": "Master formulation draft edited",
    "mfr.approval": "Master formulation approval given",
    "mfr.approved": "Master formulation approved",
    "preparation.derived": "Preparation derived for the patient",
    "safety.warned": "Safety screen warning",
    "safety.overridden": "Safety warning overridden",
    "batch.started": "Batch started",
    "batch.weighed": "Component weighed",
    "batch.step_done": "Bench step done",
    "batch.photographed": "Finished preparation photographed",
    "batch.qc_recorded": "Quality control recorded",
    "batch.deviation": "Deviation recorded",
    "batch.submitted": "Batch ready for review",
    "batch.released": "Batch verified and released",
    "batch.quarantined": "Batch quarantined",
    "batch.quarantine_released": "Batch released from quarantine",
    "batch.scrapped": "Batch scrapped",
    "batch.reworked": "Batch sent back for rework",
    "recall.made": "Recall",
    "label.template_changed": "Label template changed",
    # treatment course (applications are rows of their own, not change records: see
    # docs/audit.md)
    "prescription.written": "Prescription written",
    "prescription.status_changed": "Course status changed",
    "fill.dispensed": "Fill dispensed",
    "fill.verified": "Fill verified",
    "side_effect.reported": "Side effect reported",
    "side_effect.reviewed": "Side effect reviewed",
    "calendar.link_made": "Calendar address made",
    "calendar.link_revoked": "Calendar address revoked",
}

# Console pages (by URL name) that show patient data.
READS: dict[str, str] = {
    "patient-list": "Patient list or search",
    "patient-detail": "Patient page",
    "patient-intake": "Intake form: possible duplicates shown",
    "patient-timeline": "Patient timeline",
    "patient-edit": "Patient edit form",
    "patient-consent": "Consent form",
    "patient-portal": "Portal login form",
    "assessment-new": "New assessment form",
    "assessment-detail": "Assessment",
    "assessment-amend": "Assessment amendment form",
    "photo-upload": "Photo upload form",
    "photo-detail": "Photo page",
    "photo-file": "Photo, full size",
    "photo-thumb": "Photo thumbnail",
    "photo-preview": "Photo preview",
    "photo-regions": "Photo regions form",
    "photo-corners": "Photo chart corners form",
    "photo-chart": "Photo chart model form",
    "photo-carry-over": "Photo alignment",
    "photo-compare": "Before-and-after comparison",
    "photo-compare-image": "Before-and-after picture",
    "patient-history": "Audit trail",
    "pharmacy-home": "Pharmacy bench",
    "preparation-new": "New preparation form",
    "preparation-detail": "Preparation",
    "preparation-override": "Safety warning overridden",
    "batch-list": "Batches",
    "batch-new": "Batch started",
    "batch-detail": "Compounding record",
    "batch-weigh": "Component weighed",
    "batch-scan": "Lot scanned at the bench",
    "batch-step": "Bench step done",
    "batch-photo": "Finished preparation photographed",
    "batch-photo-file": "Finished preparation photo",
    "batch-qc": "Quality control recorded",
    "batch-deviation": "Deviation recorded",
    "batch-submit": "Batch sent for verification",
    "batch-verify": "Batch verification",
    "batch-quarantine": "Batch quarantined",
    "batch-quarantine-release": "Batch released from quarantine",
    "batch-scrap": "Batch scrapped",
    "batch-rework": "Batch sent back for rework",
    "batch-label": "Batch label",
    "recall-new": "Recall: its reach",
    "recall-detail": "Recall and its reach",
    "worklist": "Worklist",
    "prescription-new": "New prescription form",
    "prescription-detail": "Course (prescription)",
    "prescription-status": "Course status form",
    "application-new": "Application logged for the patient",
    "fill-new": "Dispensing form",
    "fill-detail": "Fill",
    "fill-verify": "Fill verification",
    "fill-label": "Prescription label",
    "side-effect-new": "Side effect form",
    "side-effect-detail": "Side effect and its review",
    "side-effect-review": "Side effect review form",
    "portal-today": "Portal: today's applications",
    "portal-log": "Portal: application logged",
    "portal-course": "Portal: my course and refills",
    "portal-course-status": "Portal: course paused or stopped",
    "portal-side-effect": "Portal: side effect report",
    "portal-calendar": "Portal: calendar address",
    "calendar-feed": "Calendar feed (the patient's calendar app)",
}


def change_label(action: str) -> str:
    return CHANGES.get(action, action)


def read_label(what: str) -> str:
    """Words for a recorded read: a page's entry in READS, or an API operation's summary."""
    if what.startswith("api:"):
        from scarrx.api import operation_summaries

        summary = operation_summaries().get(what.removeprefix("api:"))
        return f"API: {summary}" if summary else what
    return READS.get(what, what)
