"""Operations on scar assessments: record (and sign) one, amend a signed one.

Scores are computed here, from the raw inputs, by the pure functions of `scales`.
Bad input raises ValidationError keyed by field ("gb_counts.B1", "sites.0.site"), with
nothing saved.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from scarrx.access import require
from scarrx.accounts.roles import Perm
from scarrx.assessments import scales
from scarrx.assessments.models import (
    AssessmentSite,
    Cause,
    Classification,
    Morphology,
    ScarAssessment,
    Timepoint,
)
from scarrx.audit.services import reason_errors, record_change
from scarrx.body import Site
from scarrx.patients.models import Patient
from scarrx.text import text_errors

MAX_LESION_COUNT = 1000  # beyond this a count is a typing slip, not a finding
MAX_SCAR_AGE_YEARS = 120
MAX_SITES = 30  # rows of site and cause: every body site, some with two causes
MAX_SCAR_AREA_CM2 = Decimal("20000")  # about the whole skin of an adult
VSS_FIELDS = ("pigmentation", "vascularity", "pliability", "height")


class _Errors:
    """Collects every problem in one pass so the user can fix them all at once."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def check(
        self, field: str, fn: Callable[[], Any], sep: str = ".", area_field: bool = False
    ) -> Any:
        """Run a scale; its error on item "scale.B1" is reported as "<field><sep>B1".

        With area_field, an error about D2 (scored by area) goes to the area's own field.
        """
        try:
            return fn()
        except scales.ScaleError as exc:
            item = exc.field.rsplit(".", 1)[1] if "." in exc.field else ""
            if area_field and item == "D2":
                self.add("gb_d2_area_cm2", exc.message)
            else:
                self.add(f"{field}{sep}{item}" if item else field, exc.message)
        except (TypeError, ValueError, InvalidOperation) as exc:
            self.add(field, str(exc) or "Enter a valid value.")
        return None

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


def _as_entered(value: Any, model_field: str, model=ScarAssessment) -> Decimal:
    """A decimal input exactly as entered: refused, never rounded, when finer than the
    model field keeps (clinical.md §2), and stored to that many places."""
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("Enter a number, e.g. 3.5.") from None
    if not number.is_finite():
        raise ValueError("Enter a number, e.g. 3.5.")
    field = model._meta.get_field(model_field)
    places = field.decimal_places
    if number.adjusted() >= field.max_digits - places:
        raise ValueError(f"Enter a number below {10 ** (field.max_digits - places):,}.")
    if number.normalize().as_tuple().exponent < -places:
        raise ValueError(f"Enter at most {places} decimal place{'s' if places > 1 else ''}.")
    return number.quantize(Decimal(1).scaleb(-places))


def _whole(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise scales.ScaleError(field, "Enter a whole number.")
    return value


def _clean_sites(sites: list[dict], errors: _Errors, no_scarring: bool) -> list[dict]:
    cleaned = []
    if not sites and not no_scarring:
        errors.add("sites", "Record at least one scarred site.")
    if len(sites or []) > MAX_SITES:
        errors.add("sites", f"Record at most {MAX_SITES} sites.")
        return []
    for i, raw in enumerate(sites or []):
        prefix = f"sites.{i}"
        site = dict(raw)
        if site.get("site") not in Site.values:
            errors.add(f"{prefix}.site", f"Unknown site {site.get('site')!r}.")
        if site.get("cause") not in Cause.values:
            errors.add(f"{prefix}.cause", f"Unknown cause {site.get('cause')!r}.")
        age = site.get("scar_age_years")
        site["scar_age_years"] = None
        if age not in (None, ""):
            try:
                age = _as_entered(age, "scar_age_years", AssessmentSite)
            except ValueError as exc:
                errors.add(f"{prefix}.scar_age_years", str(exc))
            else:
                if 0 <= age <= MAX_SCAR_AGE_YEARS:
                    site["scar_age_years"] = age
                else:
                    errors.add(
                        f"{prefix}.scar_age_years",
                        f"Scar age must be 0 to {MAX_SCAR_AGE_YEARS} years.",
                    )
        vss = {k: site.get(f"vss_{k}") for k in VSS_FIELDS}
        given = {k: v for k, v in vss.items() if v not in (None, "")}
        site["vss_total"] = None
        if given and len(given) < len(VSS_FIELDS):
            missing = [k for k in VSS_FIELDS if k not in given][0]
            errors.add(f"{prefix}.vss_{missing}", "Score all four Vancouver items, or none.")
        elif given:
            site["vss_total"] = errors.check(
                f"{prefix}.vss", lambda g=given: scales.vancouver(**g), sep="_"
            )
        site["notes"] = site.get("notes") or ""
        for field, messages in text_errors(
            AssessmentSite, {"notes": site["notes"]}, prefix=f"{prefix}."
        ).items():
            errors.add(field, messages[0])
        cleaned.append(site)
    return cleaned


def _clean_ecca(inputs: dict, errors: _Errors) -> dict[str, int]:
    grades: dict[str, int] = {}
    for item, entry in (inputs or {}).items():
        field = f"ecca_inputs.{item}"
        if item not in scales.ECCA_ITEMS:
            errors.add(field, f"Unknown ECCA item {item!r}.")
            continue
        if not isinstance(entry, dict) or len(entry) != 1 or not {"count", "grade"} & set(entry):
            errors.add(field, "Give either a count or a grade.")
            continue
        if "count" in entry:
            if item == "elastolysis":
                errors.add(field, "Superficial elastolysis is graded directly, not counted.")
                continue
            count = entry["count"]
            if isinstance(count, int) and count > MAX_LESION_COUNT:
                errors.add(field, f"Count at most {MAX_LESION_COUNT} scars.")
                continue
            grade = errors.check(field, lambda c=count: scales.ecca_grade_from_count(c))
        else:
            grade = entry["grade"]
        if grade is not None:
            grades[item] = grade
    return grades


def compute_scores(fields: dict[str, Any]) -> dict[str, Any]:
    """Validate the raw inputs and compute every total; raises ValidationError."""
    errors = _Errors()
    out: dict[str, Any] = {}
    for field, messages in text_errors(ScarAssessment, {"notes": fields.get("notes")}).items():
        errors.add(field, messages[0])
    today = timezone.localdate()
    patient: Patient = fields["patient"]

    assessed_on = fields.get("assessed_on")
    if not isinstance(assessed_on, date):
        errors.add("assessed_on", "Enter the date of the assessment.")
    elif assessed_on > today:
        errors.add("assessed_on", "An assessment cannot be dated in the future.")
    elif assessed_on < patient.date_of_birth:
        errors.add("assessed_on", "An assessment cannot be dated before the patient's birth.")
    if fields.get("timepoint") not in Timepoint.values:
        errors.add("timepoint", f"Unknown timepoint {fields.get('timepoint')!r}.")
    if fields.get("classification") not in Classification.values:
        errors.add("classification", f"Unknown classification {fields.get('classification')!r}.")
    morphology = list(fields.get("morphology") or [])
    bad = [m for m in morphology if m not in Morphology.values]
    if bad:
        errors.add("morphology", f"Unknown morphology {bad[0]!r}.")
    out["morphology"] = sorted(set(morphology) - set(bad))
    out["sites"] = _clean_sites(
        fields.get("sites") or [], errors, no_scarring=bool(fields.get("gb_no_scarring"))
    )

    no_scarring = bool(fields.get("gb_no_scarring"))
    grade = fields.get("gb_qualitative")
    if no_scarring and grade is not None:
        errors.add("gb_qualitative", "Choose a grade or 'no scarring', not both.")
    elif grade is not None:
        errors.check("gb_qualitative", lambda: scales.gb_qualitative(grade))

    counts = {k: v for k, v in (fields.get("gb_counts") or {}).items() if v not in (None, "")}
    for key, value in counts.items():
        if isinstance(value, int) and value > MAX_LESION_COUNT:
            errors.add(f"gb_counts.{key}", f"Count at most {MAX_LESION_COUNT} scars.")
    area = fields.get("gb_d2_area_cm2")
    if area in ("",):
        area = None
    if "D2" in counts:
        errors.add("gb_counts.D2", "D2 is scored by area: enter it in gb_d2_area_cm2.")
        counts.pop("D2")
    if area is not None:
        try:
            area = _as_entered(area, "gb_d2_area_cm2")
        except ValueError as exc:
            errors.add("gb_d2_area_cm2", str(exc))
            area = None
        else:
            if area > MAX_SCAR_AREA_CM2:
                errors.add("gb_d2_area_cm2", f"Area must be at most {MAX_SCAR_AREA_CM2} cm².")
                area = None
    out["gb_counts"], out["gb_d2_area_cm2"] = counts, area
    out["gb_quantitative"] = (
        errors.check("gb_counts", lambda: scales.gb_quantitative(counts, area), area_field=True)
        if counts or area is not None
        else None
    )

    grades = _clean_ecca(fields.get("ecca_inputs") or {}, errors)
    out["ecca_inputs"] = fields.get("ecca_inputs") or {}
    out["ecca"] = errors.check("ecca_inputs", lambda: scales.ecca(grades)) if grades else None

    scar_s = {k: v for k, v in (fields.get("scar_s") or {}).items() if v not in (None, "")}
    if scar_s:
        errors.check("scar_s", lambda: scales.scar_s(scar_s))
    out["scar_s"] = scar_s

    bother = fields.get("bother")
    if bother is not None:
        errors.check("bother", lambda: scales.bother_rating(_whole(bother, "bother")))
    gic = fields.get("global_impression")
    if gic is not None:
        if fields.get("timepoint") == Timepoint.BASELINE:
            errors.add("global_impression", "Impression of change is asked at follow-ups only.")
        else:
            errors.check("global_impression", lambda: scales.global_impression(gic))
    errors.raise_if_any()
    out["scale_versions"] = {
        "gb_qualitative": scales.GB_QUALITATIVE_VERSION,
        "gb_quantitative": scales.GB_QUANTITATIVE_VERSION,
        "ecca": scales.ECCA_VERSION,
        "scar_s": scales.SCAR_S_VERSION,
        "vancouver": scales.VSS_VERSION,
    }
    return out


ASSESSMENT_FIELDS = (
    "assessed_on",
    "timepoint",
    "classification",
    "morphology",
    "sites",
    "gb_no_scarring",
    "gb_qualitative",
    "gb_counts",
    "gb_d2_area_cm2",
    "ecca_inputs",
    "scar_s",
    "bother",
    "global_impression",
    "notes",
)


def _save(patient: Patient, actor, fields: dict, amends: ScarAssessment | None, reason: str):
    unknown = set(fields) - set(ASSESSMENT_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown field."))
    scores = compute_scores({**fields, "patient": patient})
    sites = scores.pop("sites")
    if fields["timepoint"] == Timepoint.BASELINE:
        other = patient.assessments.filter(is_current=True, timepoint=Timepoint.BASELINE)
        if amends is not None:
            other = other.exclude(pk=amends.pk)
        if other.exists():
            raise ValidationError(
                {"timepoint": "This patient already has a baseline assessment; amend it instead."}
            )
    try:
        with transaction.atomic():  # a savepoint: the constraint is the last word on races
            assessment = _create(patient, actor, fields, scores, amends, reason)
    except IntegrityError:
        raise ValidationError(
            {"timepoint": "This patient already has a baseline assessment; amend it instead."}
        ) from None
    AssessmentSite.objects.bulk_create(
        AssessmentSite(
            assessment=assessment,
            **{k: s.get(k) for k in ("site", "cause", "scar_age_years", "vss_total", "notes")},
            **{f"vss_{k}": s.get(f"vss_{k}") for k in VSS_FIELDS},
        )
        for s in sites
    )
    return assessment


def _create(patient, actor, fields, scores, amends, reason) -> ScarAssessment:
    return ScarAssessment.objects.create(
        patient=patient,
        assessor=actor,
        assessed_on=fields["assessed_on"],
        timepoint=fields["timepoint"],
        classification=fields["classification"],
        gb_no_scarring=bool(fields.get("gb_no_scarring")),
        gb_qualitative=fields.get("gb_qualitative"),
        bother=fields.get("bother"),
        global_impression=fields.get("global_impression"),
        notes=fields.get("notes") or "",
        signed_at=timezone.now(),
        amends=amends,
        amendment_reason=reason,
        **scores,
    )


def _lock(patient: Patient) -> None:
    """Serialise writes to one patient's assessments (the one-baseline rule)."""
    Patient.objects.select_for_update().filter(pk=patient.pk).first()


def _summary_data(a: ScarAssessment) -> dict:
    return {
        "assessed_on": a.assessed_on,
        "timepoint": a.timepoint,
        "gb_qualitative": a.gb_qualitative_label,
        "gb_quantitative": a.gb_quantitative,
        "ecca": a.ecca,
        "scar_s": a.scar_s,
        "bother": a.bother,
    }


@transaction.atomic
def record_assessment(*, patient: Patient, actor, **fields) -> ScarAssessment:
    """Record and sign an assessment by `actor`."""
    require(actor, Perm.ADD_ASSESSMENT, patient)
    _lock(patient)
    assessment = _save(patient, actor, fields, amends=None, reason="")
    record_change(
        actor=actor,
        action="assessment.signed",
        obj=assessment,
        summary=f"{assessment.get_timepoint_display()} assessment of "
        f"{assessment.assessed_on:%-d %b %Y} signed",
        data=_summary_data(assessment),
    )
    _assessments_changed(actor, patient)
    return assessment


def _assessments_changed(actor, patient: Patient) -> None:
    """The current assessments are part of what the pharmacy's safety screens read (a
    recent surgical or trauma scar): they run again now, not at the next batch."""
    from scarrx.patientfile import ASSESSMENTS, record_changed

    record_changed(actor, patient, {ASSESSMENTS})


@transaction.atomic
def amend_assessment(original: ScarAssessment, *, actor, reason: str, **fields) -> ScarAssessment:
    """Replace a signed assessment by an amended one; the original stays, marked superseded."""
    require(actor, Perm.AMEND_ASSESSMENT, original.patient)
    _lock(original.patient)
    original = ScarAssessment.objects.select_for_update().get(pk=original.pk)
    if not original.is_current:
        raise ValidationError({"assessment": "This assessment was already amended."})
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the signed assessment is being amended."})
    if problems := reason_errors(reason):
        raise ValidationError(problems)
    ScarAssessment.objects.filter(pk=original.pk).update(is_current=False)
    amended = _save(original.patient, actor, fields, amends=original, reason=reason.strip())
    record_change(
        actor=actor,
        action="assessment.amended",
        obj=amended,
        summary=f"{amended.get_timepoint_display()} assessment of "
        f"{amended.assessed_on:%-d %b %Y} amended",
        data={"amends": str(original.public_id), **_summary_data(amended)},
        reason=reason.strip(),
    )
    _assessments_changed(actor, original.patient)
    return amended


SCHEDULE = [t for t in Timepoint.values if t != Timepoint.OTHER]


def next_timepoint(patient: Patient) -> str:
    """The visit due next: the one after the latest recorded in the schedule (baseline,
    week 4, 8, 12, 26), so a missed week 4 is not offered after week 12; then "other"."""
    done = patient.assessments.filter(is_current=True).values_list("timepoint", flat=True)
    reached = max((SCHEDULE.index(t) for t in done if t in SCHEDULE), default=-1)
    return SCHEDULE[reached + 1] if reached + 1 < len(SCHEDULE) else Timepoint.OTHER


def assessment_inputs(a: ScarAssessment) -> dict[str, Any]:
    """The raw inputs of an assessment, in the shape record_assessment takes (for amending)."""
    return {
        "assessed_on": a.assessed_on,
        "timepoint": a.timepoint,
        "classification": a.classification,
        "morphology": list(a.morphology),
        "sites": [
            {
                "site": s.site,
                "cause": s.cause,
                "scar_age_years": s.scar_age_years,
                "notes": s.notes,
                **{f"vss_{k}": getattr(s, f"vss_{k}") for k in VSS_FIELDS},
            }
            for s in a.sites.all()
        ],
        "gb_no_scarring": a.gb_no_scarring,
        "gb_qualitative": a.gb_qualitative,
        "gb_counts": dict(a.gb_counts),
        "gb_d2_area_cm2": a.gb_d2_area_cm2,
        "ecca_inputs": dict(a.ecca_inputs),
        "scar_s": dict(a.scar_s),
        "bother": a.bother,
        "global_impression": a.global_impression,
        "notes": a.notes,
    }
