import uuid

from django.db.models import QuerySet
from django.http import Http404

from scarrx.accounts.roles import PATIENT, role_of
from scarrx.patients.access import patients_visible_to
from scarrx.photos.models import Measurement, Photo


def photos_visible_to(user) -> QuerySet[Photo]:
    """Photos of the patients the user may see; staff also need the view permission (a
    patient sees only their own)."""
    if role_of(user) != PATIENT and not user.has_perm("photos.view_photo"):
        return Photo.objects.none()
    return Photo.objects.filter(patient__in=patients_visible_to(user)).select_related("patient")


def get_photo_for(user, public_id) -> Photo:
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise Http404 from None
    photo = photos_visible_to(user).filter(public_id=key).first()
    if photo is None:
        raise Http404
    return photo


def measurements_visible_to(user) -> QuerySet[Measurement]:
    return Measurement.objects.filter(photo__in=photos_visible_to(user)).select_related(
        "photo", "photo__patient", "baseline", "baseline__photo"
    )
