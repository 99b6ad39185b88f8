"""Photos through the API: upload, list, retrieve, the private file, regions, alignment."""

import uuid
from datetime import datetime

from django.db.models import Prefetch
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from scarrx.access import fetch, staff, visible_to
from scarrx.accounts.roles import Perm
from scarrx.pagination import Pages
from scarrx.patients.models import Patient
from scarrx.photos import services
from scarrx.photos.models import Measurement, Photo
from scarrx.photos.storage import private_jpeg, read_private

router = Router(tags=["photos"])

Point = tuple[float, float]


class MeasurementOut(Schema):
    id: uuid.UUID = Field(..., alias="public_id")
    photo: uuid.UUID
    roi: list[Point]
    reference: list[Point]
    baseline: uuid.UUID | None
    result: dict
    algorithm_version: str
    measured_at: datetime

    @staticmethod
    def resolve_photo(obj: Measurement):
        return obj.photo.public_id

    @staticmethod
    def resolve_baseline(obj: Measurement):
        return obj.baseline.public_id if obj.baseline_id else None


class PhotoOut(Schema):
    id: uuid.UUID = Field(..., alias="public_id")
    patient: uuid.UUID
    assessment: uuid.UUID | None
    site: str
    view: str
    taken_at: datetime
    taken_at_source: str
    width: int
    height: int
    source_format: str
    sha256: str
    calibrated: bool
    uncalibrated_reason: str
    calibration: dict
    chart: dict
    px_per_mm: float | None
    image_url: str
    measurement: MeasurementOut | None

    @staticmethod
    def resolve_patient(obj: Photo):
        return obj.patient.public_id

    @staticmethod
    def resolve_assessment(obj: Photo):
        return obj.assessment.public_id if obj.assessment_id else None

    @staticmethod
    def resolve_chart(obj: Photo):
        return obj.chart_model

    @staticmethod
    def resolve_image_url(obj: Photo):
        return f"/api/v1/photos/{obj.public_id}/image"

    @staticmethod
    def resolve_measurement(obj: Photo):
        current = getattr(obj, "current_measurements", None)
        if current is None:  # a single photo, not fetched through with_measurements
            current = list(
                with_measurements(Photo.objects.filter(pk=obj.pk))[0].current_measurements
            )
        return current[0] if current else None


def with_measurements(photos):
    """Photos with their assessment and current measurement, in a fixed number of queries."""
    current = Measurement.objects.filter(is_current=True).select_related("photo", "baseline")
    return photos.select_related("patient", "assessment").prefetch_related(
        Prefetch("measurements", queryset=current, to_attr="current_measurements")
    )


class CornersIn(Schema):
    corners: list[Point] = Field(..., description="the chart's four corners, upright pixels")
    reason: str = Field("", description="why, when the photo is already calibrated (required then)")


class RegionsIn(Schema):
    roi: list[Point] = Field(..., description="scar region polygon, at least 3 points")
    reference: list[Point] = Field(..., description="unaffected skin polygon, at least 3 points")


@router.post("/patients/{patient_id}/photos", response={201: PhotoOut}, summary="Upload a photo")
@staff(Perm.ADD_PHOTO)
def upload_photo(
    request,
    patient_id: uuid.UUID,
    file: File[UploadedFile],
    site: Form[str],
    view: Form[str],
    taken_at: Form[datetime | None] = None,
    assessment: Form[uuid.UUID | None] = None,
    chart: Form[str | None] = None,
):
    """`chart`: the card in the photo when it is not the pharmacy's: classic, mini, nano,
    passport, or its geometry "PITCH,PATCH" in millimetres."""
    patient = fetch(request, Patient, patient_id)
    photo = services.upload_photo(
        patient=patient,
        actor=request.user,
        data=file,
        site=site,
        view=view,
        taken_at=taken_at,
        assessment=assessment,
        chart=chart,
    )
    return Status(201, photo)


@router.get("/patients/{patient_id}/photos", response=list[PhotoOut], summary="A patient's photos")
@paginate(Pages)
@staff(Perm.VIEW_PHOTO)
def list_photos(request, patient_id: uuid.UUID):
    patient = fetch(request, Patient, patient_id)
    return with_measurements(visible_to(request.user, Photo).filter(patient=patient))


@router.get("/photos/{photo_id}", response=PhotoOut, summary="Retrieve a photo's record")
@staff(Perm.VIEW_PHOTO)
def get_photo(request, photo_id: uuid.UUID):
    return fetch(request, Photo, photo_id)


@router.get("/photos/{photo_id}/image", summary="The photo itself (JPEG, metadata stripped)")
@staff(Perm.VIEW_PHOTO)
def photo_image(request, photo_id: uuid.UUID):
    return private_jpeg(read_private(fetch(request, Photo, photo_id).file))


@router.post("/photos/{photo_id}/corners", response=PhotoOut, summary="Give the chart's corners")
@staff(Perm.CHANGE_PHOTO)
def set_corners(request, photo_id: uuid.UUID, payload: CornersIn):
    photo = fetch(request, Photo, photo_id)
    return services.set_chart_corners(
        photo,
        actor=request.user,
        corners=[list(p) for p in payload.corners],
        reason=payload.reason,
    )


class ChartIn(Schema):
    chart: str = Field(
        ..., description='classic, mini, nano, passport, or "PITCH,PATCH" in millimetres'
    )
    reason: str


@router.post(
    "/photos/{photo_id}/chart",
    response=PhotoOut,
    summary="Read the photo again under a corrected chart model",
)
@staff(Perm.CHANGE_PHOTO)
def set_chart(request, photo_id: uuid.UUID, payload: ChartIn):
    photo = fetch(request, Photo, photo_id)
    return services.set_chart_model(
        photo, actor=request.user, chart=payload.chart, reason=payload.reason
    )


@router.post(
    "/photos/{photo_id}/measurements",
    response={201: MeasurementOut},
    summary="Measure a scar region against a reference region",
)
@staff(Perm.ADD_MEASUREMENT)
def measure(request, photo_id: uuid.UUID, payload: RegionsIn):
    photo = fetch(request, Photo, photo_id)
    measurement = services.measure_photo(
        photo,
        actor=request.user,
        roi=[list(p) for p in payload.roi],
        reference=[list(p) for p in payload.reference],
    )
    return Status(201, measurement)


@router.post(
    "/photos/{photo_id}/align",
    response={201: MeasurementOut},
    summary="Align to the baseline photo of the same site and view, and measure its regions",
)
@staff(Perm.ADD_MEASUREMENT)
def align_to_baseline(request, photo_id: uuid.UUID):
    photo = fetch(request, Photo, photo_id)
    return Status(201, services.carry_over(photo, actor=request.user))
