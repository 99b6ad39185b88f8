from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError

from scarrx.accounts.roles import Perm
from scarrx.audit.models import ChangeRecord
from scarrx.pharmacy import services as pharmacy
from scarrx.treatment import services
from scarrx.treatment.models import CourseStatus, FollowUp, Prescription
from tests.treatment.course import NPI, prescribe, prescription_fields


def test_every_course_permission_exists_so_roles_really_hold_it(roles):
    for perm in Perm:
        app, codename = perm.split(".")
        assert Permission.objects.filter(content_type__app_label=app, codename=codename).exists()


def test_npi_check_digit():
    assert services.valid_npi(NPI)
    assert not services.valid_npi("1234567890")
    assert not services.valid_npi("12345")


def test_prescription_keeps_structured_directions_and_schedules_follow_ups(rx, prescriber):
    assert rx.rx_number == f"RX-{rx.pk:06d}"
    assert rx.times == [["morning", "08:00"], ["evening", "20:00"]]
    assert rx.applications_per_day == 2
    assert rx.prescriber == prescriber and rx.prescriber_name == "Drew Doctor"
    assert rx.last_day == rx.start_on + timedelta(days=179)
    weeks = list(FollowUp.objects.filter(prescription=rx).values_list("week", "timepoint"))
    assert weeks == [(4, "week_4"), (8, "week_8"), (12, "week_12"), (26, "week_26")]
    assert rx.status_changes.get().status == CourseStatus.ACTIVE
    assert ChangeRecord.objects.filter(action="prescription.written", patient=rx.patient).exists()


def test_times_are_kept_in_time_order_whatever_order_they_are_given(
    patient, preparation, prescriber
):
    rx = prescribe(patient, preparation, prescriber, times={"evening": "21:30", "morning": "07:15"})
    assert rx.times == [["morning", "07:15"], ["evening", "21:30"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"prescriber_npi": "1234567890"}, "prescriber_npi"),
        ({"times": {}}, "times"),
        ({"times": {"lunch": "12:00"}}, "times"),
        ({"times": {"morning": "25:00"}}, "times.morning"),
        ({"area": "", "grams_per_application": None}, "area"),
        ({"area": "face_and_neck", "grams_per_application": Decimal(1)}, "area"),
        ({"area": "elbow"}, "area"),
        ({"area": "", "grams_per_application": Decimal(0)}, "grams_per_application"),
        ({"duration_days": 0}, "duration_days"),
        ({"refills_authorised": -1}, "refills_authorised"),
        ({"directions": "  "}, "directions"),
        ({"written_on": date(2099, 1, 1)}, "written_on"),
        ({"sites": ["elbow"]}, "sites"),
    ],
)
def test_bad_directions_are_refused_naming_the_field(
    patient, preparation, prescriber, change, field
):
    with pytest.raises(ValidationError) as refused:
        prescribe(patient, preparation, prescriber, **change)
    assert field in refused.value.message_dict
    assert not Prescription.objects.exists()


def test_a_spot_treatment_states_grams_per_application(patient, preparation, prescriber):
    rx = prescribe(patient, preparation, prescriber, area="", grams_per_application="0.1")
    assert rx.grams_per_application == Decimal("0.1") and rx.area == ""


def test_preparation_that_failed_a_safety_screen_is_refused_until_a_pharmacist_overrides(
    gel, patient, pharmacist, prescriber, approver
):
    vitamin_e = pharmacy.add_ingredient(
        actor=pharmacist, name="Vitamin E", role="active", contact_sensitiser=True
    )
    flagged = pharmacy.derive_preparation(
        actor=pharmacist, patient=patient, formulation=gel["mfr"], added={vitamin_e: Decimal(1)}
    )
    with pytest.raises(ValidationError) as refused:
        prescribe(patient, flagged, prescriber)
    assert "override" in refused.value.message_dict["preparation"][0]
    assert not Prescription.objects.exists()

    for warning in pharmacy.open_warnings(flagged):
        pharmacy.override_warning(warning, actor=approver, reason="Patch-tested, no reaction")
    assert prescribe(patient, flagged, prescriber).status == CourseStatus.ACTIVE


def test_another_patients_preparation_is_refused(preparation, other_patient, pharmacist):
    with pytest.raises(ValidationError) as refused:
        services.write_prescription(
            actor=pharmacist,
            patient=other_patient,
            preparation=preparation,
            **prescription_fields(prescriber_name="Dr Who"),
        )
    assert "another patient" in refused.value.message_dict["preparation"][0]


def test_a_prescriber_cannot_prescribe_for_another_prescribers_patient(
    preparation, patient, other_prescriber
):
    with pytest.raises(PermissionDenied):
        prescribe(patient, preparation, other_prescriber)


def test_stopping_needs_a_reason_and_leaves_a_history_row(rx, pharmacist):
    with pytest.raises(ValidationError) as refused:
        services.change_status(rx, actor=pharmacist, status="stopped")
    assert "reason" in refused.value.message_dict

    services.change_status(rx, actor=pharmacist, status="stopped", reason="Prescriber's call")
    rx.refresh_from_db()
    assert rx.status == CourseStatus.STOPPED
    assert [c.status for c in rx.status_changes.all()] == ["active", "stopped"]
    with pytest.raises(ValidationError):
        services.change_status(rx, actor=pharmacist, status="active")


def test_the_patient_pauses_and_resumes_their_own_course_but_not_a_pharmacy_hold(
    rx, patient, pharmacist
):
    services.change_status(rx, actor=patient.user, status="on_hold")
    rx.refresh_from_db()
    last = rx.status_changes.last()
    assert last.by_patient and last.reason == "At the patient's request"
    services.change_status(rx, actor=patient.user, status="active")

    services.change_status(rx, actor=pharmacist, status="on_hold", reason="Irritation: review")
    with pytest.raises(ValidationError) as refused:
        services.change_status(rx, actor=patient.user, status="active")
    assert "call them" in refused.value.message_dict["status"][0]
    with pytest.raises(ValidationError):
        services.change_status(rx, actor=patient.user, status="completed")


def test_another_patient_cannot_pause_my_course(rx, other_patient):
    with pytest.raises(PermissionDenied):
        services.change_status(rx, actor=other_patient.user, status="on_hold")


def test_prescribing_screens_the_patients_record_as_it_is_now(
    preparation, patient, prescriber, approver
):
    type(patient).objects.filter(pk=patient.pk).update(allergies="Pentoxifylline")
    with pytest.raises(ValidationError) as refused:
        prescribe(patient, preparation, prescriber)
    assert "allergy to pentoxifylline" in refused.value.message_dict["preparation"][0]
    assert not Prescription.objects.exists()
    warning = pharmacy.open_warnings(preparation).get()
    assert warning.stage == "prescribing"
    pharmacy.override_warning(warning, actor=approver, reason="Reaction was to another product")
    assert prescribe(patient, preparation, prescriber).status == CourseStatus.ACTIVE


def test_the_prescription_list_reads_a_fixed_number_of_queries(
    patient, preparation, prescriber, pharmacist
):
    """Each row's refills left and status history come with the page, not a query each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import client_for

    client = client_for(pharmacist)

    def queries_for_the_list() -> int:
        with CaptureQueriesContext(connection) as seen:
            assert client.get("/api/v1/prescriptions").status_code == 200
        return len(seen.captured_queries)

    prescribe(patient, preparation, prescriber)
    one = queries_for_the_list()
    for _ in range(3):
        prescribe(patient, preparation, prescriber)
    assert len(client.get("/api/v1/prescriptions").json()["items"]) == 4
    assert queries_for_the_list() == one
