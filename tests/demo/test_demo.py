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


def test_the_demo_command_prints_the_logins_as_a_table_and_names_the_reference_case(db):
    out = io.StringIO()
    with time_machine.travel(TODAY, tick=False):
        call_command("demo", stdout=out)
    text = out.getvalue()

    assert "  username    role        who (fictional)" in text
    assert "  pharmacist  pharmacist  Priya Okafor-Demo" in text
    assert f"password {DEMO_PASSWORD}" in text
    assert "The reference case is Nora Lindqvist (SRX-000001)" in text
