import io
from datetime import date

import pytest
import time_machine
from django.core.management import call_command

from scarrx.assessments.models import ScarAssessment
from scarrx.demo.loader import DEMO_PASSWORD, load_demo
from scarrx.patients.models import Patient
from scarrx.photos.models import Measurement
from tests.conftest import module_data

TODAY = date(2026, 11, 26)


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo is loaded once for this module (it is the slow part), rolled back after."""
    with (
        module_data(django_db_blocker, tmp_path_factory.mktemp("demo")),
        time_machine.travel(TODAY, tick=False),
    ):
        yield load_demo(today=TODAY)


@pytest.fixture
def demo(loaded, db):
    return loaded


def test_demo_loads_thirty_fictional_patients_with_baselines(demo):
    assert demo.patients == 30
    assert Patient.objects.count() == 30
    baselines = ScarAssessment.objects.filter(timepoint="baseline", is_current=True)
    assert baselines.count() == 30
    causes = set(baselines.values_list("sites__cause", flat=True))
    assert {"acne", "chickenpox", "surgery", "trauma"} <= causes
    assert set(Patient.objects.values_list("fitzpatrick", flat=True)) == {1, 2, 3, 4, 5, 6}


def test_nothing_in_the_demo_looks_like_a_real_contact(demo):
    for patient in Patient.objects.all():
        assert patient.email.endswith("@example.org")
        assert patient.phone.startswith("555-01")


def test_reference_case_is_a_24_year_old_woman_with_severe_facial_acne_scarring(demo):
    nora = Patient.objects.get(user__username="patient")
    assert nora.sex == "female"
    assert nora.age_on(TODAY) == 24
    assert nora.acne_severity == "severe"
    baseline = nora.assessments.get(timepoint="baseline")
    assert baseline.gb_qualitative == 4
    assert {s.site for s in baseline.sites.all()} >= {"forehead", "cheeks", "nose", "chin"}


def test_reference_case_photos_show_a_measured_fall_in_redness(demo):
    followup = Measurement.objects.get(
        photo__patient__user__username="patient", baseline__isnull=False
    )
    before = followup.baseline.result["difference"]["a_star"]
    after = followup.result["difference"]["a_star"]
    assert followup.result["alignment"]["quality"] >= 0.6
    assert after - before == pytest.approx(-6.0, abs=1.0)  # rendered 6 units less red


def test_demo_is_deterministic_and_loads_once(demo, client):
    first = list(Patient.objects.order_by("record_number").values_list("given_name", "family_name"))
    again = load_demo(today=TODAY)
    assert again.already_loaded
    assert Patient.objects.count() == 30
    assert first[0] == ("Nora", "Lindqvist")
    assert client.login(username="pharmacist", password=DEMO_PASSWORD)


def test_reference_case_has_a_complete_180_day_course_with_about_85_percent_logged(demo):
    from scarrx.treatment.models import CourseStatus, Prescription
    from scarrx.treatment.queries import course

    rx = Prescription.objects.get(patient__user__username="patient")
    figures = course(rx)
    assert rx.status == CourseStatus.COMPLETED and rx.duration_days == 180
    assert rx.times == [["morning", "08:00"], ["evening", "20:00"]]
    assert figures.dose.overall.scheduled == 360
    assert 80 <= figures.dose.overall.percent <= 90
    assert len(figures.fills) == 6
    for fill in figures.fills:
        assert fill.runs_out_on - fill.supply_starts_on <= fill.batch.bud - fill.supply_starts_on
        assert fill.verified
    assert [(f.week, f.done) for f in figures.follow_ups] == [
        (4, True),
        (8, True),
        (12, True),
        (26, True),
    ]
    (effect,) = rx.side_effects.all()
    assert effect.severity == "mild" and effect.review.outcome == "resolved"


def test_other_demo_courses_are_at_every_stage(demo):
    from scarrx.treatment.models import Prescription

    statuses = sorted(Prescription.objects.values_list("status", flat=True))
    assert statuses == ["active", "active", "active", "completed", "completed", "stopped"]
    behind = Prescription.objects.filter(recent_percent__lt=80, status="active")
    assert behind.count() == 1


def test_the_demo_command_prints_the_logins_as_a_table_and_names_the_reference_case(db):
    out = io.StringIO()
    with time_machine.travel(TODAY, tick=False):
        call_command("demo", stdout=out)
    text = out.getvalue()

    assert "  username     role        who (fictional)" in text
    assert "  pharmacist   pharmacist  Priya Okafor-Demo" in text
    assert "  pharmacist2  pharmacist  Sam Adeyemi-Demo" in text
    assert f"password {DEMO_PASSWORD}" in text
    assert "The reference case is Nora Lindqvist (SRX-000001)" in text


def test_demo_pharmacy_has_a_formulary_three_mfr_classes_and_released_batches(demo):
    from scarrx.pharmacy.labels import render_label
    from scarrx.pharmacy.models import Batch, Formulation, Ingredient, IngredientLot

    assert Ingredient.objects.count() >= 10
    assert IngredientLot.objects.filter(expiry_date__lte=TODAY.replace(day=26, month=12)).exists()
    classes = {
        (m.water_activity, m.preserved) for m in Formulation.objects.filter(status="approved")
    }
    assert classes == {("non_aqueous", False), ("aqueous", True), ("aqueous", False)}
    # The first of her batches (the course's monthly batches follow, scarrx.demo.course).
    nora = Batch.objects.filter(preparation__patient__user__username="patient").earliest("pk")
    assert nora.status == "released" and nora.lot_number
    assert "Tretinoin 0.025 % → 0.05 %" in nora.preparation.differences
    assert render_label(nora).startswith(b"%PDF")
    assert set(Batch.objects.values_list("status", flat=True)) >= {
        "released",
        "ready_for_review",
        "in_progress",
    }


def test_demo_pharmacy_batches_are_dated_over_the_past_weeks_with_their_bud(demo):
    from datetime import timedelta

    from django.utils.timezone import localdate

    from scarrx.pharmacy import services
    from scarrx.pharmacy.models import Batch

    # The pharmacy demo's own batches: the patients' first, before the course demo's.
    released = Batch.objects.filter(status="released", fills__isnull=True)
    made = sorted({b.compounded_on for b in released})
    assert len(made) >= 3 and all(TODAY - timedelta(days=42) <= d < TODAY for d in made)
    for batch in Batch.objects.filter(status="released"):
        assert batch.lot_number.startswith(f"C{batch.compounded_on:%y%m%d}-")
        assert localdate(batch.started_at) == batch.compounded_on
        assert batch.bud == services.beyond_use(batch).date
        assert all(localdate(w.weighed_at) == batch.compounded_on for w in batch.weighings.all())
    assert Batch.objects.filter(status="in_progress", compounded_on=localdate()).exists()


def test_the_reference_case_timeline_begins_with_her_registration(demo):
    """Registration and her preparation are dated in the story (May), not on the day the
    demo was loaded: nothing on her timeline comes before the day she was registered."""
    from scarrx.accounts.models import User
    from scarrx.patientfile import timeline

    nora = Patient.objects.get(user__username="patient")
    events = timeline(User.objects.get(username="pharmacist"), nora)[::-1]  # oldest first
    registered = next(e for e in events if e.kind == "registration")
    assert registered.on == events[0].on  # nothing before the day she was registered
    prep = next(e for e in events if e.kind == "preparation")
    rx = nora.prescriptions.get()
    assert registered.on <= prep.on <= rx.start_on
    assert max(e.on for e in events if e.kind in ("registration", "preparation")) < TODAY
