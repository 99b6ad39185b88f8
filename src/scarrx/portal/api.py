"""The patient's own records through the API (the portal router: patients only, each
sees only themselves, by scarrx.access scoping)."""

import uuid

from django.http import Http404
from ninja import Router
from ninja.pagination import paginate

from scarrx.access import fetch, patients_visible_to, portal, visible_to
from scarrx.assessments.api import AssessmentOut
from scarrx.assessments.models import ScarAssessment
from scarrx.audit.services import record_read
from scarrx.pagination import Pages
from scarrx.patients.api import PatientOut
from scarrx.photos.api import PhotoOut, with_measurements
from scarrx.photos.models import Photo
from scarrx.photos.storage import private_jpeg, read_private

router = Router(tags=["portal"])


@router.get("/me", response=PatientOut, summary="My record (portal)")
@portal
def my_record(request):
    patient = patients_visible_to(request.user).first()
    if patient is None:
        raise Http404
    record_read(request, patient)
    return patient


@router.get("/assessments", response=list[AssessmentOut], summary="My assessments (portal)")
@paginate(Pages)
@portal
def my_assessments(request):
    found = visible_to(request.user, ScarAssessment).filter(is_current=True)
    return found.select_related("patient", "assessor", "amends").prefetch_related("sites")


@router.get("/photos", response=list[PhotoOut], summary="My progress photos (portal)")
@paginate(Pages)
@portal
def my_photos(request):
    return with_measurements(visible_to(request.user, Photo))


@router.get("/photos/{photo_id}/image", summary="One of my photos (portal; JPEG)")
@portal
def my_photo_image(request, photo_id: uuid.UUID):
    return private_jpeg(read_private(fetch(request, Photo, photo_id).file))
