"""Scar assessments through the API: record, list per patient, retrieve, amend."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import StrictInt

from scarrx.access import fetch, staff, visible_to
from scarrx.accounts.roles import Perm
from scarrx.assessments import services
from scarrx.assessments.models import ScarAssessment
from scarrx.pagination import Pages
from scarrx.patients.models import Patient

router = Router(tags=["assessments"])


class SiteIn(Schema):
    site: str = Field(
        ...,
        description="forehead, temples, cheeks, nose, chin, jawline, neck, "
        "chest, upper_back, back_of_arms, other",
    )
    cause: str = Field(..., description="acne, chickenpox, surgery, trauma, other")
    scar_age_years: Decimal | None = None
    vss_pigmentation: StrictInt | None = None
    vss_vascularity: StrictInt | None = None
    vss_pliability: StrictInt | None = None
    vss_height: StrictInt | None = None
    notes: str = ""


class SiteOut(SiteIn):
    vss_total: StrictInt | None


class EccaEntry(Schema):
    count: StrictInt | None = None
    grade: StrictInt | None = None


class AssessmentIn(Schema):
    assessed_on: date
    timepoint: str = Field(..., description="baseline, week_4, week_8, week_12, week_26, other")
    classification: str = Field(..., description="atrophic, hypertrophic, keloid, macular, mixed")
    morphology: list[str] = []
    sites: list[SiteIn]
    gb_no_scarring: bool = False
    gb_qualitative: StrictInt | None = Field(
        None, description="Goodman & Baron qualitative grade 1–4"
    )
    gb_counts: dict[str, StrictInt] = Field(
        {}, description='Goodman & Baron counts, e.g. {"B1": 12}'
    )
    gb_d2_area_cm2: Decimal | None = Field(None, description="hypertrophic/keloid area, cm²")
    ecca_inputs: dict[str, EccaEntry] = Field(
        {}, description='ECCA per item, a count or a grade: {"V": {"count": 12}}'
    )
    scar_s: dict[str, StrictInt] = Field({}, description='SCAR-S per region: {"face": 3}')
    bother: StrictInt | None = Field(None, description="patient-reported bother 0–10")
    global_impression: StrictInt | None = Field(
        None, description="1 very much better … 7 very much worse"
    )
    notes: str = ""

    def service_fields(self) -> dict:
        data = self.dict()
        data["ecca_inputs"] = {
            item: {k: v for k, v in entry.items() if v is not None}
            for item, entry in data["ecca_inputs"].items()
        }
        return data


class AmendmentIn(AssessmentIn):
    reason: str


class Scores(Schema):
    gb_qualitative: str
    gb_quantitative: int | None
    ecca: int | None
    scar_s: dict[str, int]
    scar_s_sum: int | None
    vancouver: dict[str, int]


class AssessmentOut(Schema):
    id: uuid.UUID = Field(..., alias="public_id")
    patient: uuid.UUID
    assessed_on: date
    assessor: str
    timepoint: str
    classification: str
    morphology: list[str]
    sites: list[SiteOut]
    gb_no_scarring: bool
    gb_qualitative: int | None
    gb_counts: dict[str, int]
    gb_d2_area_cm2: Decimal | None
    ecca_inputs: dict
    bother: int | None
    global_impression: int | None
    notes: str
    scores: Scores
    scale_versions: dict[str, str]
    signed_at: datetime
    is_current: bool
    amends: uuid.UUID | None
    amendment_reason: str

    @staticmethod
    def resolve_patient(obj: ScarAssessment):
        return obj.patient.public_id

    @staticmethod
    def resolve_assessor(obj: ScarAssessment):
        return str(obj.assessor)

    @staticmethod
    def resolve_sites(obj: ScarAssessment):
        return list(obj.sites.all())

    @staticmethod
    def resolve_amends(obj: ScarAssessment):
        return obj.amends.public_id if obj.amends_id else None

    @staticmethod
    def resolve_scores(obj: ScarAssessment):
        return {
            "gb_qualitative": obj.gb_qualitative_label,
            "gb_quantitative": obj.gb_quantitative,
            "ecca": obj.ecca,
            "scar_s": obj.scar_s,
            "scar_s_sum": obj.scar_s_sum,
            "vancouver": {s.site: s.vss_total for s in obj.sites.all() if s.vss_total is not None},
        }


@router.post(
    "/patients/{patient_id}/assessments",
    response={201: AssessmentOut},
    summary="Record and sign a scar assessment",
)
@staff(Perm.ADD_ASSESSMENT)
def record_assessment(request, patient_id: uuid.UUID, payload: AssessmentIn):
    patient = fetch(request, Patient, patient_id)
    assessment = services.record_assessment(
        patient=patient, actor=request.user, **payload.service_fields()
    )
    return Status(201, assessment)


@router.get(
    "/patients/{patient_id}/assessments",
    response=list[AssessmentOut],
    summary="A patient's assessments (current versions, newest first)",
)
@paginate(Pages)
@staff(Perm.VIEW_ASSESSMENT)
def list_assessments(request, patient_id: uuid.UUID, include_superseded: bool = False):
    patient = fetch(request, Patient, patient_id)
    found = visible_to(request.user, ScarAssessment).filter(patient=patient)
    if not include_superseded:
        found = found.filter(is_current=True)
    return found.select_related("patient", "assessor", "amends").prefetch_related("sites")


@router.get("/assessments/{assessment_id}", response=AssessmentOut, summary="Retrieve one")
@staff(Perm.VIEW_ASSESSMENT)
def get_assessment(request, assessment_id: uuid.UUID):
    return fetch(request, ScarAssessment, assessment_id)


@router.post(
    "/assessments/{assessment_id}/amend",
    response={201: AssessmentOut},
    summary="Amend a signed assessment (the original is kept, marked superseded)",
)
@staff(Perm.AMEND_ASSESSMENT)
def amend_assessment(request, assessment_id: uuid.UUID, payload: AmendmentIn):
    original = fetch(request, ScarAssessment, assessment_id)
    fields = payload.service_fields()
    reason = fields.pop("reason")
    amended = services.amend_assessment(original, actor=request.user, reason=reason, **fields)
    return Status(201, amended)
