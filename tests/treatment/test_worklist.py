from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from scarrx.pharmacy import services as pharmacy
from scarrx.treatment import queries, services
from scarrx.treatment.models import Prescription
from tests.conftest import client_for
from tests.treatment.course import key, local_at, prescribe, report


def sections(user):
    return {s.key: s for s in queries.worklist(user)}


def test_the_staff_home_page_is_the_worklist(as_pharmacist):
    response = as_pharmacist.get("/")
    assert response.status_code == 302 and response.url == "/worklist/"
    page = as_pharmacist.get("/worklist/")
    assert page.status_code == 200
    assert b"Refills due within 7 days" in page.content


def test_a_late_refill_is_on_the_worklist_and_links_to_the_dispensing_form(
    rx, batch, technician, pharmacist, clock
):
    services.dispense_fill(rx, actor=technician, batch=batch, quantity_g=Decimal(30))
    clock.shift(timedelta(days=14))  # 12 days supply ran out two days ago
    refills = sections(pharmacist)["refills"]
    assert refills.rows == [Prescription.objects.get()]
    page = client_for(pharmacist).get("/worklist/").content.decode()
    assert "Refill late" in page and f"/prescriptions/{rx.public_id}/fills/new/" in page


def test_fills_to_verify_and_side_effects_to_review_are_listed(
    rx, batch, technician, patient, pharmacist
):
    fill = services.dispense_fill(rx, actor=technician, batch=batch, quantity_g=Decimal(30))
    effect = report(rx, patient.user)
    found = sections(pharmacist)
    assert found["fills"].rows == [fill]
    assert found["side_effects"].rows == [effect]
    services.verify_fill(fill, actor=pharmacist)
    services.review_side_effect(effect, actor=pharmacist, assessment="Expected", outcome="ongoing")
    found = sections(pharmacist)
    assert found["fills"].count == 0 and found["side_effects"].count == 0


def test_a_course_below_eighty_percent_over_fourteen_days_is_falling_behind(
    patient, preparation, prescriber, pharmacist, clock
):
    start = timezone.localdate() - timedelta(days=14)
    rx = prescribe(patient, preparation, prescriber, written_on=start, start_on=start)
    services.refresh_standings()
    assert sections(pharmacist)["adherence"].rows == [rx]  # nothing logged: 0 of 28

    # Logging yesterday's evening application updates the standing at once.
    yesterday = timezone.localdate() - timedelta(days=1)
    services.record_application(
        rx, actor=patient.user, via="portal", key=key(), applied_at=local_at(rx, yesterday, "20:00")
    )
    rx.refresh_from_db()
    assert (rx.recent_applied, rx.recent_scheduled) == (1, 28)
    counted = rx.recent_percent
    services.refresh_standing(rx)  # the count from scratch agrees with the increment
    rx.refresh_from_db()
    assert rx.recent_percent == counted == Decimal("3.6")


def test_follow_ups_due_and_batches_awaiting_verification(
    rx, preparation, technician, pharmacist, gel, clock
):
    from tests.pharmacy.conftest import finish_bench

    waiting = pharmacy.start_batch(
        actor=technician, preparation=preparation, dispensed_g=Decimal(30)
    )
    finish_bench(waiting, technician, pharmacist, gel["balance"])
    clock.shift(timedelta(weeks=4))
    found = sections(pharmacist)
    assert [f.week for f in found["follow_ups"].rows] == [4]
    assert found["batches"].rows == [waiting]


def test_lots_expiring_within_thirty_days(gel, technician, pharmacist):
    lot = pharmacy.receive_lot(
        gel["ptx"],
        actor=technician,
        supplier="Short Dated Ltd",
        lot_number="PTX-SOON",
        expiry_date=timezone.localdate() + timedelta(days=20),
        received_g=Decimal(10),
    )
    assert lot in sections(pharmacist)["lots"].rows


def test_a_prescriber_sees_only_their_own_patients_on_the_worklist(
    rx, batch, technician, other_prescriber, clock
):
    services.dispense_fill(rx, actor=technician, batch=batch, quantity_g=Decimal(30))
    clock.shift(timedelta(days=14))
    assert sections(other_prescriber)["refills"].count == 0


def test_the_worklist_reads_a_fixed_number_of_queries(
    rx, batch, technician, pharmacist, django_assert_max_num_queries
):
    services.dispense_fill(rx, actor=technician, batch=batch, quantity_g=Decimal(30))
    client = client_for(pharmacist)
    client.get("/worklist/")
    with django_assert_max_num_queries(30):
        assert client.get("/api/v1/worklist").status_code == 200


def test_a_long_section_counts_to_the_cap_and_says_so(
    rx, batch, technician, patient, pharmacist, monkeypatch
):
    """The count reads no further than the cap: past it, the page says "2+" (here, with
    the cap at 2 and three reports waiting), and the API says the count is capped."""
    monkeypatch.setattr(queries, "WORKLIST_ROWS", 1)
    monkeypatch.setattr(queries, "COUNT_CAP", 2)
    for kind in ("redness", "dryness", "itching"):
        services.report_side_effect(
            rx,
            actor=patient.user,
            via="portal",
            kind=kind,
            severity="mild",
            onset_on=timezone.localdate(),
            action="continue",
        )
    found = sections(pharmacist)["side_effects"]
    assert (len(found.rows), found.count, found.capped, found.shown) == (1, 2, True, "2+")
    page = client_for(pharmacist).get("/worklist/").content.decode()
    assert "1 of 2+ shown" in page
    answer = client_for(pharmacist).get("/api/v1/worklist").json()
    effects = next(s for s in answer if s["key"] == "side_effects")
    assert (effects["count"], effects["capped"], len(effects["items"])) == (2, True, 1)
    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    found = sections(pharmacist)["side_effects"]
    assert (found.count, found.capped, found.shown) == (3, False, "3")
