"""Photo operations keep the database's write lock only for their row writes.

On SQLite (`transaction_mode=IMMEDIATE`) an open transaction holds the write lock, and
every page writes an AccessRecord: decoding, chart detection, analysis, alignment,
preview rendering and file writes must all happen with no transaction open. The row
writes and the audit row are one short transaction; if it fails, nothing is left:
no rows, no files. A measurement made while the chart corners changed is refused.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection

from scarrx import imaging
from scarrx.audit.models import ChangeRecord
from scarrx.imaging import render
from scarrx.photos import services, storage
from scarrx.photos.models import Measurement, Photo
from tests.photos.conftest import FOLLOW_UP_TAKEN, stored_files, upload

WATCHED = {
    imaging: ("prepare_upload", "calibration_only", "analyze"),
    render: ("preview_jpeg", "aligned_preview_jpeg"),
    storage: ("save_private",),
}


@pytest.fixture
def in_transaction(monkeypatch) -> list[tuple[str, bool]]:
    """(name, whether a transaction was open) for each image or file operation."""
    calls: list[tuple[str, bool]] = []
    for module, names in WATCHED.items():
        for name in names:
            real = getattr(module, name)

            def spy(*args, _name=name, _real=real, **kwargs):
                calls.append((_name, connection.in_atomic_block))
                return _real(*args, **kwargs)

            monkeypatch.setattr(module, name, spy)
    return calls


def regions(phantom) -> dict:
    return {
        "roi": [list(p) for p in phantom.roi],
        "reference": [list(p) for p in phantom.reference],
    }


@pytest.mark.django_db(transaction=True)
def test_no_transaction_is_open_while_photos_are_decoded_analysed_rendered_or_stored(
    in_transaction,
    patient,
    technician,
    pharmacist,
    photo_consent,
    baseline_phantom,
    followup_phantom,
):
    photo = upload(patient, technician, baseline_phantom.jpeg)
    services.measure_photo(photo, actor=pharmacist, **regions(baseline_phantom))
    later = upload(patient, technician, followup_phantom.jpeg, taken=FOLLOW_UP_TAKEN)
    services.carry_over(later, actor=pharmacist)
    services.set_chart_corners(
        photo,
        actor=technician,
        corners=baseline_phantom.chart_corners.tolist(),
        reason="Outlined by hand to check the detector",
    )

    called = {name for name, _ in in_transaction}
    assert called == {name for names in WATCHED.values() for name in names}
    assert [name for name, locked in in_transaction if locked] == []
    # ...and the writes themselves were made: one transaction per operation.
    assert Measurement.objects.filter(is_current=True).count() == 1  # the follow-up's
    assert ChangeRecord.objects.filter(action__startswith="photo.").count() == 5


def lost_connection(**kwargs):
    raise DatabaseError("server closed the connection unexpectedly")


def test_failed_corners_change_leaves_the_photo_and_its_files_as_they_were(
    monkeypatch, patient, technician, photo_consent, chart_missed_phantom
):
    photo = upload(patient, technician, chart_missed_phantom.jpeg)
    files = stored_files()
    monkeypatch.setattr(services, "record_change", lost_connection)
    with pytest.raises(DatabaseError):
        services.set_chart_corners(
            photo, actor=technician, corners=chart_missed_phantom.chart_corners.tolist()
        )
    assert stored_files() == files  # the new preview went with the rolled-back row
    photo.refresh_from_db()
    assert photo.calibrated is False


def test_failed_alignment_write_leaves_no_measurement_and_no_files(
    monkeypatch, pharmacist, followup_photo
):
    files = stored_files()
    monkeypatch.setattr(services, "record_change", lost_connection)
    with pytest.raises(DatabaseError):
        services.carry_over(followup_photo, actor=pharmacist)
    assert stored_files() == files
    assert not Measurement.objects.filter(photo=followup_photo).exists()


def test_measurement_made_while_the_corners_changed_is_refused(
    monkeypatch, pharmacist, technician, baseline_measurement, baseline_phantom
):
    """Two people at once: the regions were being measured with the old calibration
    when the corners were changed. The old-calibration figures must not become current."""
    photo = baseline_measurement.photo
    analyze = imaging.analyze

    def corners_changed_meanwhile(*args, **kwargs):
        result = analyze(*args, **kwargs)
        services.set_chart_corners(
            Photo.objects.get(pk=photo.pk),
            actor=technician,
            corners=baseline_phantom.chart_corners.tolist(),
            reason="Chart outlined by hand",
        )
        return result

    monkeypatch.setattr(imaging, "analyze", corners_changed_meanwhile)
    with pytest.raises(ValidationError) as refused:
        services.measure_photo(photo, actor=pharmacist, **regions(baseline_phantom))
    assert set(refused.value.message_dict) == {"calibration"}
    assert not Measurement.objects.filter(photo=photo, is_current=True).exists()
    assert Measurement.objects.filter(photo=photo).count() == 1


def test_carry_over_finds_the_baseline_itself(
    pharmacist, patient, technician, photo_consent, followup_phantom
):
    lonely = upload(patient, technician, followup_phantom.jpeg, taken=FOLLOW_UP_TAKEN)
    with pytest.raises(ValidationError) as refused:
        services.carry_over(lonely, actor=pharmacist)
    assert refused.value.message_dict == {
        "baseline": ["No measured baseline photo of this site and view."]
    }
