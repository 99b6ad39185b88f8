"""Which colour chart is in a photo: the pharmacy's by default, another per photo, stored
with the calibration, and a stored photo read again under a corrected chart model."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from scarrx.audit.models import ChangeRecord
from scarrx.imaging.charts import CLASSIC_MINI
from scarrx.imaging.work import heavy_work_limit
from scarrx.photos import services
from scarrx.photos.models import Measurement
from scarrx.settings import envchart
from tests.conftest import client_for
from tests.photos.conftest import BASELINE_TAKEN, upload

# The demo Mini card, twice the size: the same layout, so the same patches are sampled
# and every millimetre doubles.
DOUBLE_MINI = {
    "name": "custom",
    "pitch_mm": 2 * CLASSIC_MINI.pitch_mm,
    "patch_mm": 2 * CLASSIC_MINI.patch_mm,
}


def test_the_pharmacys_chart_is_stored_with_each_photos_calibration(baseline_photo, settings):
    assert baseline_photo.calibration["chart"]["name"] == settings.PHOTO_CHART["name"]
    assert baseline_photo.chart_model["pitch_mm"] == pytest.approx(CLASSIC_MINI.pitch_mm)


def test_a_photo_can_name_another_chart_at_upload(
    patient, technician, photo_consent, baseline_phantom
):
    mini = upload(patient, technician, baseline_phantom.jpeg)
    double = upload(
        patient,
        technician,
        baseline_phantom.jpeg,
        chart=f"{DOUBLE_MINI['pitch_mm']},{DOUBLE_MINI['patch_mm']}",
    )

    assert double.chart_model["pitch_mm"] == pytest.approx(DOUBLE_MINI["pitch_mm"])
    assert double.px_per_mm == pytest.approx(mini.px_per_mm / 2, rel=1e-3)


@pytest.mark.parametrize(
    ("chart", "words"),
    [("postcard", "unknown chart"), ("14.8,40", "patch_mm"), ("abc,1", "number")],
)
def test_an_unknown_or_impossible_chart_is_refused_naming_the_field(
    patient, technician, photo_consent, baseline_phantom, chart, words
):
    with pytest.raises(ValidationError) as refused:
        upload(patient, technician, baseline_phantom.jpeg, chart=chart)

    assert words in " ".join(refused.value.message_dict["chart"])
    assert not patient.photos.exists()


def test_the_api_takes_a_chart_and_answers_with_the_one_used(
    patient, pharmacist, photo_consent, baseline_phantom
):
    response = client_for(pharmacist).post(
        f"/api/v1/patients/{patient.public_id}/photos",
        {
            "file": SimpleUploadedFile("a.jpg", baseline_phantom.jpeg, "image/jpeg"),
            "site": "cheeks",
            "view": "front",
            "taken_at": BASELINE_TAKEN.isoformat(),
            "chart": "mini",
        },
    )

    assert response.status_code == 201
    assert response.json()["chart"]["name"] == CLASSIC_MINI.name


def test_reading_a_photo_again_under_a_corrected_chart_rescales_and_supersedes(
    baseline_measurement, pharmacist, django_capture_on_commit_callbacks
):
    photo = baseline_measurement.photo
    old_preview, old_scale = photo.preview, photo.px_per_mm

    with django_capture_on_commit_callbacks(execute=True):
        services.set_chart_model(photo, actor=pharmacist, chart=DOUBLE_MINI, reason="Classic card")

    photo.refresh_from_db()
    assert photo.px_per_mm == pytest.approx(old_scale / 2, rel=1e-3)
    assert photo.chart_model["pitch_mm"] == pytest.approx(DOUBLE_MINI["pitch_mm"])
    assert not Measurement.objects.get(pk=baseline_measurement.pk).is_current
    change = ChangeRecord.objects.get(action="photo.chart_model_set")
    assert change.reason == "Classic card"
    assert change.data["before"]["px_per_mm"] == pytest.approx(old_scale)
    assert "1 measurement to redo" in change.summary
    assert photo.preview != old_preview
    assert not default_storage.exists(old_preview)  # the replaced preview is not left behind


def test_a_chart_correction_needs_a_reason_and_a_different_chart(baseline_photo, pharmacist):
    with pytest.raises(ValidationError) as refused:
        services.set_chart_model(baseline_photo, actor=pharmacist, chart="mini", reason="")

    assert set(refused.value.message_dict) == {"chart", "reason"}


def test_the_console_corrects_the_chart_model_and_technicians_may_not_measure_but_may(
    baseline_photo, technician
):
    client = client_for(technician)
    url = f"/photos/{baseline_photo.public_id}/chart/"

    refused = client.post(url, {"chart-chart": "classic", "chart-reason": ""})
    done = client.post(url, {"chart-chart": "classic", "chart-reason": "It is the big card"})

    assert refused.status_code == 422
    assert "Reason" in refused.content.decode()
    assert done.status_code == 302
    baseline_photo.refresh_from_db()
    assert baseline_photo.chart_model["name"] == "ColorChecker Classic"


def test_the_pharmacys_chart_setting_is_checked_at_start():
    assert envchart("SCARRX_TEST_CHART_UNSET", "classic")["pitch_mm"] == 46.0
    assert envchart("SCARRX_TEST_CHART_UNSET", "10,8")["name"] == "custom"
    with pytest.raises(ImproperlyConfigured, match="SCARRX_TEST_CHART_UNSET"):
        envchart("SCARRX_TEST_CHART_UNSET", "postcard")


def test_heavy_image_work_is_bounded_by_the_setting(settings):
    assert heavy_work_limit() == settings.IMAGING_CONCURRENCY
