from django.db.models import QuerySet

from scarrx.accounts.roles import PATIENT, role_of
from scarrx.patients.access import patients_visible_to, visible_or_404
from scarrx.photos.models import Measurement, Photo


def photos_visible_to(user) -> QuerySet[Photo]:
    """Photos of the patients the user may see; staff also need the view permission (a
    patient sees only their own)."""
    if role_of(user) != PATIENT and not user.has_perm("photos.view_photo"):
        return Photo.objects.none()
    return Photo.objects.filter(patient__in=patients_visible_to(user)).select_related("patient")


def get_photo_for(user, public_id) -> Photo:
    return visible_or_404(photos_visible_to(user), public_id)


def measurements_visible_to(user) -> QuerySet[Measurement]:
    return Measurement.objects.filter(photo__in=photos_visible_to(user)).select_related(
        "photo", "photo__patient", "baseline", "baseline__photo"
    )
