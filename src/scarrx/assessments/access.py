from django.db.models import QuerySet

from scarrx.accounts.roles import PATIENT, role_of
from scarrx.assessments.models import ScarAssessment
from scarrx.patients.access import patients_visible_to, visible_or_404


def assessments_visible_to(user) -> QuerySet[ScarAssessment]:
    """Assessments of the patients the user may see; staff also need the view permission."""
    if role_of(user) != PATIENT and not user.has_perm("assessments.view_scarassessment"):
        return ScarAssessment.objects.none()
    return ScarAssessment.objects.filter(patient__in=patients_visible_to(user)).select_related(
        "patient", "assessor", "amends"
    )


def get_assessment_for(user, public_id) -> ScarAssessment:
    return visible_or_404(assessments_visible_to(user), public_id)
