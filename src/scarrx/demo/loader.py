"""Deterministic demo data: one pharmacy, one user per role, 30 fictional patients.

Every person here is invented: names are drawn from short lists, addresses are on
"Example" streets, phone numbers are in the 555-01xx fiction range, e-mail addresses are
at example.org. The same seed gives the same records; dates are set relative to the day
the demo is loaded so the course dates look current.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from scarrx.accounts.models import Pharmacy, User
from scarrx.accounts.services import create_user
from scarrx.assessments.services import record_assessment
from scarrx.demo.course import load_courses
from scarrx.demo.pharmacy import SECOND_PHARMACIST, add_pharmacy
from scarrx.demo.photos import add_photo_pair
from scarrx.patients.services import link_portal_account, register_patient

DEMO_PASSWORD = "scarrx-demo"  # noqa: S105 - printed for the demo on purpose
SEED = 20261126

DEMO_USERS = [
    # username, role, first, last
    ("pharmacist", "pharmacist", "Priya", "Okafor-Demo"),
    ("technician", "technician", "Tomas", "Reyes-Demo"),
    ("prescriber", "prescriber", "Dr Helen", "Marsh-Demo"),
    ("patient", "patient", "Nora", "Lindqvist"),
]

GIVEN_F = ["Amira", "Beth", "Chloe", "Dana", "Esme", "Fern", "Gia", "Hana", "Iris", "Jada", "Kira"]
GIVEN_M = ["Arlo", "Bram", "Cyrus", "Dev", "Emil", "Finn", "Gus", "Hugo", "Ivo", "Jonas", "Kai"]
FAMILY = [
    "Ashdown",
    "Brightwater",
    "Calloway",
    "Dunmore",
    "Everly",
    "Fairholm",
    "Greystone",
    "Hollins",
    "Ivers",
    "Juniper",
    "Kestrel",
    "Larkspur",
    "Merriweather",
    "Northcote",
    "Oakhurst",
    "Pemberly",
    "Quill",
    "Redfern",
    "Silverton",
    "Thistlewood",
]
PHOTO_PATIENTS = (0, 1, 2, 6, 9)  # besides the reference case
FACE = ["forehead", "temples", "cheeks", "nose", "chin", "jawline"]


REFERENCE_CASE = "Nora Lindqvist"  # the programme's worked example, SRX-000001


@dataclass
class DemoSummary:
    users: list[tuple[str, str, str]] = field(default_factory=list)  # (username, role, name)
    patients: int = 0
    assessments: int = 0
    photo_pairs: int = 0
    mfrs: int = 0
    batches: int = 0
    courses: int = 0
    already_loaded: bool = False


def is_loaded() -> bool:
    return User.objects.filter(username="pharmacist").exists()


@transaction.atomic
def load_demo(today: date | None = None) -> DemoSummary:
    second, first2, last2 = SECOND_PHARMACIST
    summary = DemoSummary(
        users=[(u, r, f"{first} {last}") for u, r, first, last in DEMO_USERS]
        + [(second, "pharmacist", f"{first2} {last2}")]
    )
    if is_loaded():
        summary.already_loaded = True
        return summary
    today = today or timezone.localdate()
    rng = random.Random(SEED)
    Pharmacy.objects.create(
        name="Example Compounding Pharmacy (demo)",
        address="12 Example Street, Sampletown",
        phone="555-0100",
    )
    users = {
        role: create_user(
            username=username,
            role=role,
            password=DEMO_PASSWORD,
            first_name=first,
            last_name=last,
            email=f"{username}@example.org",
            check_password=False,
        )
        for username, role, first, last in DEMO_USERS
    }
    pharmacist, prescriber = users["pharmacist"], users["prescriber"]
    reference = _reference_case(today, pharmacist, prescriber, users["patient"])
    summary.patients, summary.assessments = 1, 2
    adults = []
    course_patients = []
    for i in range(29):
        patient = _fictional_patient(rng, i, today, pharmacist, prescriber)
        baseline_on = today - timedelta(days=rng.randint(5, 120))
        if baseline_on < patient.date_of_birth:
            continue
        record_assessment(patient=patient, actor=pharmacist, **_baseline(rng, i, baseline_on))
        if patient.age_on(today) >= 18:
            adults.append(patient)
        if patient.prescriber_id and patient.demo_cause == "acne":
            course_patients.append(patient)  # a course at each stage (scarrx.demo.course)
        summary.patients += 1
        summary.assessments += 1
        if i in PHOTO_PATIENTS and _photo_consent(patient) and baseline_on < today - timedelta(28):
            add_photo_pair(
                patient=patient,
                actor=pharmacist,
                baseline_on=baseline_on,
                followup_on=today - timedelta(days=1),
                seed=100 + i,
                delta_a=rng.uniform(6, 12),
                improvement=rng.uniform(-1, 3),
            )
            summary.photo_pairs += 1
    summary.photo_pairs += 1  # the reference case's pair
    assert reference.assessments.count() == 2
    pharmacy = add_pharmacy(
        today=today, users=users, password=DEMO_PASSWORD, reference=reference, patients=adults[:4]
    )
    summary.mfrs, summary.batches = len(pharmacy.mfrs), len(pharmacy.batches)
    courses = load_courses(
        today,
        staff=users,
        pharmacy=pharmacy,
        reference=reference,
        others=course_patients,
        reference_face=REFERENCE_FACE,
    )
    summary.assessments += courses["assessments"]
    summary.courses = courses["courses"]
    assert reference.assessments.count() == 5
    _date_to_their_story()
    return summary


def _date_to_their_story() -> None:
    """A demo made today tells a story of months: each preparation made on the day of its
    first batch or prescription, each patient registered on the day of their first
    consent or clinical record (not today, which would put registration last)."""
    from django.db.models import Min, OuterRef, Subquery

    from scarrx.patientfile import earliest_clinical_date
    from scarrx.patients.models import Patient
    from scarrx.pharmacy.models import Preparation
    from scarrx.treatment.models import Prescription

    first_rx = Prescription.objects.filter(preparation=OuterRef("pk")).order_by("written_on")

    def at(day: date) -> datetime:
        return datetime.combine(day, time(9), tzinfo=timezone.get_current_timezone())

    for prep in Preparation.objects.annotate(
        batch=Min("batches__compounded_on"),
        rx=Subquery(first_rx.values("written_on")[:1]),
    ):
        days = [d for d in (prep.batch, prep.rx) if d is not None]
        if days:
            Preparation.objects.filter(pk=prep.pk).update(created_at=at(min(days)))
    for patient in Patient.objects.annotate(consented=Min("consents__given_on")):
        days = [d for d in (patient.consented, earliest_clinical_date(patient)) if d]
        if days and min(days) < timezone.localdate(patient.created_at):
            Patient.objects.filter(pk=patient.pk).update(created_at=at(min(days)))


def _photo_consent(patient) -> bool:
    from scarrx.patients.services import current_consents

    consent = current_consents(patient)["photographs"]
    return consent is not None and consent.granted


def _consents(day: date, photos: bool = True, data: bool = True) -> list[dict]:
    return [
        {"kind": "treatment", "granted": True, "given_on": day},
        {"kind": "photographs", "granted": photos, "given_on": day},
        {"kind": "deidentified_data", "granted": data, "given_on": day},
    ]


REFERENCE_FACE = {
    "classification": "atrophic",
    "morphology": ["icepick", "boxcar", "rolling", "macular"],
    "sites": [{"site": s, "cause": "acne", "scar_age_years": 6} for s in FACE],
    "gb_qualitative": 4,
    "ecca_inputs": {
        "V": {"count": 15},
        "U": {"count": 26},
        "M": {"count": 8},
        "elastolysis": {"grade": 1},
    },
    "scar_s": {"face": 4, "chest": 1, "back": 2},
}


def _reference_case(today: date, pharmacist, prescriber, portal_user):
    """The programme's reference case: a fictional 24-year-old woman whose severe acne
    left atrophic scarring across her face."""
    # Baseline on the first day of a 180-day course that ended a week ago; the week-26
    # visit was three days ago (scarrx.demo.course tells the course).
    start = today - timedelta(days=186)
    patient = register_patient(
        actor=pharmacist,
        consents=_consents(start),
        given_name="Nora",
        family_name="Lindqvist",
        date_of_birth=date(today.year - 24, 3, 14)
        if (today.month, today.day) >= (3, 14)
        else date(today.year - 25, 3, 14),
        sex="female",
        phone="555-0142",
        email="nora.lindqvist@example.org",
        address="7 Sample Lane, Sampletown",
        fitzpatrick=3,
        pregnancy_status="not_pregnant",
        pregnancy_status_on=start,
        allergies="None known",
        current_medicines="Combined oral contraceptive",
        isotretinoin_last_6_months=False,
        acne_severity="severe",
        acne_onset_age=13,
        active_acne=False,
        cystic_acne=True,
        prior_treatments=["chemical_peel"],
        prior_treatment_notes="Isotretinoin course ended at 21 (over 6 months ago). "
        "One superficial peel at 22, little change.",
        prescriber=prescriber,
    )

    link_portal_account(patient, username=portal_user, actor=pharmacist)
    face = REFERENCE_FACE
    counts = {"B1": 14, "B2": 12, "B3": 4, "C1": 9, "C2": 6, "C3": 2}
    record_assessment(
        patient=patient,
        actor=pharmacist,
        assessed_on=start,
        timepoint="baseline",
        gb_counts={"A1": 24, **counts},
        bother=8,
        notes="Scarring across the whole face; redness from old breakouts on both cheeks. "
        "Fictional demo patient.",
        **face,
    )
    # Week 12: fewer red marks (A1) and less bother; contour unchanged, as expected.
    week_12 = start + timedelta(weeks=12)
    record_assessment(
        patient=patient,
        actor=pharmacist,
        assessed_on=week_12,
        timepoint="week_12",
        gb_counts={"A1": 15, **counts},
        bother=6,
        global_impression=3,
        notes="Cheeks visibly less red; contour unchanged, as expected at 12 weeks.",
        **face,
    )
    add_photo_pair(
        patient=patient,
        actor=pharmacist,
        baseline_on=start,
        followup_on=week_12,
        seed=24,
        delta_a=13.0,
        improvement=6.0,
    )
    patient.refresh_from_db()
    return patient


def _fictional_patient(rng: random.Random, i: int, today: date, pharmacist, prescriber):
    female = rng.random() < 0.6
    given = rng.choice(GIVEN_F if female else GIVEN_M)
    age = rng.randint(16, 58)
    dob = today - timedelta(days=age * 365 + rng.randint(0, 364))
    cause = ["acne", "acne", "acne", "chickenpox", "surgery", "trauma"][i % 6]
    minor = (today.year - dob.year) < 19
    fields = {
        "given_name": given,
        "family_name": FAMILY[i % len(FAMILY)],
        "date_of_birth": dob,
        "sex": "female" if female else "male",
        "phone": f"555-01{i + 10:02d}",
        "email": f"{given.lower()}.{FAMILY[i % len(FAMILY)].lower()}@example.org",
        "address": f"{rng.randint(1, 99)} Example Road, Sampletown",
        "fitzpatrick": 1 + (i * 5 + rng.randint(0, 2)) % 6,
        "pregnancy_status": "not_pregnant" if female else "not_applicable",
        "acne_severity": rng.choice(["moderate", "severe"]) if cause == "acne" else "mild",
        "acne_onset_age": rng.randint(11, 16),
        "active_acne": cause == "acne" and rng.random() < 0.2,
        "cystic_acne": cause == "acne" and rng.random() < 0.3,
        "prior_treatments": rng.sample(
            ["laser", "microneedling", "subcision", "fillers"], k=rng.randint(0, 2)
        ),
        "isotretinoin_last_6_months": cause == "acne" and rng.random() < 0.1,
        "anticoagulants": cause == "surgery" and rng.random() < 0.3,
        "allergies": rng.choice(["", "", "Penicillin", "Fragrance mix", "Nickel"]),
        "prescriber": prescriber if i % 3 == 0 else None,
    }
    if minor:
        fields |= {
            "guardian_name": f"Parent {FAMILY[i % len(FAMILY)]}",
            "guardian_relationship": "Parent",
        }
    patient = register_patient(
        actor=pharmacist,
        consents=_consents(
            today - timedelta(days=130), photos=rng.random() < 0.9, data=rng.random() < 0.85
        ),
        **fields,
    )
    patient.demo_cause = cause
    return patient


def _baseline(rng: random.Random, i: int, on: date) -> dict:
    cause = ["acne", "acne", "acne", "chickenpox", "surgery", "trauma"][i % 6]
    severity = rng.randint(1, 4)
    if cause in ("acne", "chickenpox"):
        sites = rng.sample(FACE, k=rng.randint(1, 4))
        counts = {k: rng.randint(0, 6 * severity) for k in ("A1", "B1", "B2", "C1")}
        return {
            "assessed_on": on,
            "timepoint": "baseline",
            "classification": "atrophic" if severity > 1 else "macular",
            "morphology": ["boxcar", "rolling"] if severity > 2 else ["macular"],
            "sites": [
                {"site": s, "cause": cause, "scar_age_years": rng.randint(1, 12)} for s in sites
            ],
            "gb_qualitative": severity,
            "gb_counts": {k: v for k, v in counts.items() if v},
            "ecca_inputs": {
                "V": {"count": rng.randint(0, 10 * severity)},
                "U": {"count": rng.randint(0, 8 * severity)},
            },
            "scar_s": {"face": min(5, severity + rng.randint(0, 1))},
            "bother": min(10, 2 * severity + rng.randint(0, 2)),
        }
    site = rng.choice(["chest", "neck", "back_of_arms", "upper_back", "jawline"])
    raised = rng.random() < 0.5
    return {
        "assessed_on": on,
        "timepoint": "baseline",
        "classification": "hypertrophic" if raised else "atrophic",
        "morphology": ["hypertrophic"] if raised else ["rolling"],
        "sites": [
            {
                "site": site,
                "cause": cause,
                "scar_age_years": rng.randint(1, 5),
                "vss_pigmentation": rng.randint(0, 2),
                "vss_vascularity": rng.randint(0, 3),
                "vss_pliability": rng.randint(0, 4),
                "vss_height": rng.randint(0, 3) if raised else 0,
            }
        ],
        "gb_qualitative": 4 if raised and severity > 2 else max(2, severity),
        "gb_counts": {"C3": 1} if not raised else {},
        "gb_d2_area_cm2": rng.choice([2, 4, 6, 12]) if raised else None,
        "bother": rng.randint(3, 9),
    }
