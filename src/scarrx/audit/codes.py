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
