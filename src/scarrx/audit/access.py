from django.core.exceptions import PermissionDenied

from scarrx.audit.models import AccessRecord, ChangeRecord
from scarrx.patients.access import get_patient_for


def patient_history_for(user, patient_public_id):
    """A patient's access and change history, for pharmacists only (404 for anyone else)."""
    patient = get_patient_for(user, patient_public_id)
    if not (user.has_perm("audit.view_accessrecord") and user.has_perm("audit.view_changerecord")):
        raise PermissionDenied("Only pharmacists may read the audit trail.")
    accesses = AccessRecord.objects.filter(patient=patient).select_related("user")
    changes = ChangeRecord.objects.filter(patient=patient).select_related("actor")
    return patient, accesses, changes
