"""Photos through the REST API: the record and its private image, the list, measuring
regions, aligning a follow-up, giving the chart's corners, and the one error shape for
everything refused (422 naming the field, nothing stored)."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from scarrx.accounts.services import issue_api_token
from scarrx.audit.models import ChangeRecord
from scarrx.imaging import ImagingError
from scarrx.photos.models import Measurement
from scarrx.photos.storage import read_private
from tests.conftest import client_for
from tests.photos.conftest import (
    BASELINE_TAKEN,
    FOLLOW_UP_TAKEN,
    a_star_difference,
    upload,
)

PHOTO_KEYS = {
    "id",
    "patient",
    "assessment",
    "site",
    "view",
    "taken_at",
    "taken_at_source",
    "width",
    "height",
    "source_format",
    "sha256",
    "calibrated",
    "uncalibrated_reason",
    "calibration",
    "chart",
    "px_per_mm",
    "image_url",
    "measurement",
}
MEASUREMENT_KEYS = {
    "id",
    "photo",
    "roi",
    "reference",
    "baseline",
    "result",
    "algorithm_version",
    "measured_at",
}


def post_json(client, url: str, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def error_fields(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def regions_of(phantom) -> dict:
    return {"roi": phantom.roi, "reference": phantom.reference}


def bearer(raw: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_photo_record_says_where_when_how_calibrated_and_where_the_image_is(
    pharmacist, baseline_photo, baseline_phantom
):
    body = client_for(pharmacist).get(f"/api/v1/photos/{baseline_photo.public_id}").json()
    assert set(body) == PHOTO_KEYS
    assert body["id"] == str(baseline_photo.public_id)
    assert body["patient"] == str(baseline_photo.patient.public_id)
    assert (body["site"], body["view"], body["taken_at_source"]) == ("cheeks", "front", "given")
    assert datetime.fromisoformat(body["taken_at"]) == BASELINE_TAKEN
    assert (body["width"], body["height"], body["source_format"]) == (1000, 750, "JPEG")
    assert body["sha256"] == baseline_photo.sha256
    assert body["calibrated"] is True and body["uncalibrated_reason"] == ""
    assert body["px_per_mm"] == pytest.approx(baseline_phantom.px_per_mm, rel=0.03)
    assert len(body["calibration"]["chart_corners"]) == 4
    assert body["image_url"] == f"/api/v1/photos/{baseline_photo.public_id}/image"
    assert body["measurement"] is None
    assert "file" not in json.dumps(body)  # the storage name is never given out


def test_image_is_the_stored_clean_jpeg_and_not_cached(pharmacist, baseline_photo):
    response = client_for(pharmacist).get(f"/api/v1/photos/{baseline_photo.public_id}/image")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, no-store"
    assert response.content == read_private(baseline_photo.file)


def test_prescriber_reads_photos_with_a_bearer_token(prescriber, baseline_photo):
    client = bearer(issue_api_token(user=prescriber, name="clinic"))
    assert client.get(f"/api/v1/photos/{baseline_photo.public_id}").status_code == 200
    assert client.get(f"/api/v1/photos/{baseline_photo.public_id}/image").status_code == 200


def test_list_is_newest_first_and_its_queries_do_not_grow_with_the_photos(
    pharmacist, patient, technician, photo_consent, baseline_phantom, baseline_measurement
):
    client = client_for(pharmacist)
    url = f"/api/v1/patients/{patient.public_id}/photos"
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    later = [
        upload(patient, technician, baseline_phantom.jpeg, taken=FOLLOW_UP_TAKEN.replace(day=d))
        for d in (1, 2, 3)
    ]
    with CaptureQueriesContext(connection) as four:
        listed = client.get(url).json()["items"]

    assert [p["id"] for p in listed] == [
        str(p.public_id) for p in [*reversed(later), baseline_measurement.photo]
    ]
    assert listed[-1]["measurement"]["id"] == str(baseline_measurement.public_id)
    assert len(four) == len(one), [q["sql"] for q in four.captured_queries]


def test_pharmacist_measures_regions_through_the_api(pharmacist, baseline_photo, baseline_phantom):
    url = f"/api/v1/photos/{baseline_photo.public_id}/measurements"
    response = post_json(client_for(pharmacist), url, regions_of(baseline_phantom))

    assert response.status_code == 201
    body = response.json()
    assert set(body) == MEASUREMENT_KEYS
    measurement = Measurement.objects.get()
    assert (body["id"], body["photo"], body["baseline"]) == (
        str(measurement.public_id),
        str(baseline_photo.public_id),
        None,
    )
    assert np.allclose(body["roi"], baseline_phantom.roi)
    assert np.allclose(body["reference"], baseline_phantom.reference)
    assert body["result"]["difference"]["a_star"] == pytest.approx(
        a_star_difference(baseline_phantom), abs=0.75
    )
    assert body["algorithm_version"] == body["result"]["algorithm_version"]
    record = client_for(pharmacist).get(f"/api/v1/photos/{baseline_photo.public_id}").json()
    assert record["measurement"]["id"] == body["id"]


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"roi": [[500, 400], [560, 420]]}, "roi", "at least 3"),
        ({"roi": [[500, 400], [560, 420], [1400, 500]]}, "roi", "outside the 1000x750 photo"),
        ({"reference": [[10, 10], [300, 10], [300, -90]]}, "reference", "outside"),
        ({"reference": [[10, 10], [300, "x"], [300, 90]]}, "reference", ""),
        ({"roi": None}, "roi", ""),
        ({"roi": [[100, 100], [200, 100], [300, 100]]}, "roi", "no area"),
        ({"reference": [[100, 100], [100, 100], [100, 100]]}, "reference", "no area"),
        ({"roi": [[500 + i % 7, 400 + i % 11] for i in range(90_000)]}, "roi", "at most 500"),
        ({"roi": [[1e308, 1e308], [-1e308, 1e308], [0, -1e308]]}, "roi", "outside"),
    ],
    ids=[
        "two_points",
        "roi_outside",
        "reference_outside",
        "not_a_number",
        "missing",
        "roi_a_line",
        "reference_one_point",
        "ninety_thousand_points",
        "area_beyond_any_number",
    ],
)
def test_bad_regions_are_refused_naming_them(
    change, field, says, pharmacist, baseline_photo, baseline_phantom
):
    body = {k: v for k, v in (regions_of(baseline_phantom) | change).items() if v is not None}
    url = f"/api/v1/photos/{baseline_photo.public_id}/measurements"
    response = post_json(client_for(pharmacist), url, body)

    assert response.status_code == 422
    errors = error_fields(response)
    assert any(name.split(".")[0] == field for name in errors), errors
    assert says in " ".join(errors.values())
    assert not Measurement.objects.exists()


def test_an_imaging_refusal_of_a_region_is_put_on_that_region(
    monkeypatch, pharmacist, baseline_photo, baseline_phantom
):
    def refuse(*args, **kwargs):
        raise ImagingError("reference region crosses itself")

    monkeypatch.setattr("scarrx.imaging.analyze", refuse)
    url = f"/api/v1/photos/{baseline_photo.public_id}/measurements"
    response = post_json(client_for(pharmacist), url, regions_of(baseline_phantom))

    assert response.status_code == 422
    assert error_fields(response) == {"reference": "The region crosses itself"}


def test_technician_may_upload_but_not_measure(technician, baseline_photo, baseline_phantom):
    url = f"/api/v1/photos/{baseline_photo.public_id}/measurements"
    response = post_json(client_for(technician), url, regions_of(baseline_phantom))
    assert response.status_code == 404
    assert not Measurement.objects.exists()


def test_patient_may_not_measure_or_align_their_own_photos(
    patient_user, baseline_measurement, followup_photo, baseline_phantom
):
    client = client_for(patient_user)
    url = f"/api/v1/photos/{followup_photo.public_id}"
    assert post_json(client, url + "/measurements", regions_of(baseline_phantom)).status_code == 404
    assert post_json(client, url + "/align").status_code == 404
    assert list(Measurement.objects.all()) == [baseline_measurement]


def test_follow_up_is_aligned_through_the_api(
    prescriber, baseline_measurement, followup_photo, baseline_phantom, followup_phantom
):
    url = f"/api/v1/photos/{followup_photo.public_id}/align"
    response = post_json(client_for(prescriber), url)

    assert response.status_code == 201
    body = response.json()
    assert body["photo"] == str(followup_photo.public_id)
    assert body["baseline"] == str(baseline_measurement.public_id)
    assert body["result"]["alignment"]["quality"] >= 0.6
    change = (
        body["result"]["difference"]["a_star"] - baseline_measurement.result["difference"]["a_star"]
    )
    assert change == pytest.approx(-5.0, abs=1.0)
    assert change == pytest.approx(
        a_star_difference(followup_phantom) - a_star_difference(baseline_phantom), abs=1.0
    )


def test_unrelated_photo_is_not_aligned_and_nothing_is_measured(
    pharmacist, baseline_measurement, patient, technician, unrelated_phantom
):
    stranger = upload(patient, technician, unrelated_phantom.jpeg, taken=FOLLOW_UP_TAKEN)
    changes = ChangeRecord.objects.count()
    response = post_json(client_for(pharmacist), f"/api/v1/photos/{stranger.public_id}/align")

    assert response.status_code == 422
    errors = error_fields(response)
    assert set(errors) == {"alignment"}
    assert errors["alignment"]  # the reason, in words
    assert list(Measurement.objects.all()) == [baseline_measurement]
    assert ChangeRecord.objects.count() == changes


def test_align_without_a_measured_baseline_is_refused(
    pharmacist, baseline_photo, patient, technician, followup_phantom
):
    later = upload(patient, technician, followup_phantom.jpeg, taken=FOLLOW_UP_TAKEN)
    response = post_json(client_for(pharmacist), f"/api/v1/photos/{later.public_id}/align")
    assert response.status_code == 422
    assert error_fields(response) == {
        "baseline": "No measured baseline photo of this site and view."
    }
    assert not Measurement.objects.exists()


def test_chart_corners_given_through_the_api_calibrate_the_photo(
    technician, patient, photo_consent, chart_missed_phantom
):
    photo = upload(patient, technician, chart_missed_phantom.jpeg)
    assert photo.calibrated is False
    url = f"/api/v1/photos/{photo.public_id}/corners"
    corners = chart_missed_phantom.chart_corners.tolist()
    response = post_json(client_for(technician), url, {"corners": corners})

    assert response.status_code == 200
    body = response.json()
    assert body["calibrated"] is True
    assert body["calibration"]["chart_source"] == "given"
    assert body["px_per_mm"] == pytest.approx(chart_missed_phantom.px_per_mm, rel=0.03)


@pytest.mark.parametrize(
    "corners",
    [[[10, 10], [20, 10], [20, 20]], [[10, 10], [990, 10], [990, 740], [10, 1200]]],
    ids=["three", "outside"],
)
def test_bad_chart_corners_are_refused_naming_them(
    corners, technician, patient, photo_consent, chart_missed_phantom
):
    photo = upload(patient, technician, chart_missed_phantom.jpeg)
    url = f"/api/v1/photos/{photo.public_id}/corners"
    response = post_json(client_for(technician), url, {"corners": corners})

    assert response.status_code == 422
    assert set(error_fields(response)) == {"corners"}
    photo.refresh_from_db()
    assert photo.calibrated is False


def test_new_corners_for_a_calibrated_photo_need_a_reason_through_the_api(
    technician, baseline_measurement, baseline_phantom
):
    photo = baseline_measurement.photo
    url = f"/api/v1/photos/{photo.public_id}/corners"
    corners = baseline_phantom.chart_corners.tolist()
    client = client_for(technician)

    refused = post_json(client, url, {"corners": corners})
    assert refused.status_code == 422
    assert set(error_fields(refused)) == {"reason"}
    assert Measurement.objects.get(pk=baseline_measurement.pk).is_current

    response = post_json(client, url, {"corners": corners, "reason": "Chart was misread"})
    assert response.status_code == 200
    assert response.json()["calibration"]["chart_source"] == "given"
    assert response.json()["measurement"] is None  # the old one used the old calibration
    change = ChangeRecord.objects.get(action="photo.chart_corners_set")
    assert change.reason == "Chart was misread"
    assert change.data["before"]["chart_source"] == "detected"


def test_image_endpoint_is_not_sniffed(pharmacist, baseline_photo):
    response = client_for(pharmacist).get(f"/api/v1/photos/{baseline_photo.public_id}/image")
    assert response["X-Content-Type-Options"] == "nosniff"
