"""The pharmacy's console pages: each renders for the staff who may see it, shows the
patient header on a patient's preparation and batch, and a refused form comes back with
its errors (422) and nothing written."""

from __future__ import annotations

import pytest

from scarrx.pharmacy.models import Batch, Formulation, IngredientLot, Preparation, Weighing
from tests.conftest import client_for


@pytest.fixture
def pages(released, mfr, formulary):
    ingredient = formulary["ingredients"]["ptx"]
    lot = formulary["lots"]["ptx"]
    return [
        "/pharmacy/",
        "/pharmacy/ingredients/",
        f"/pharmacy/ingredients/{ingredient.public_id}/",
        "/pharmacy/balances/",
        "/pharmacy/settings/",
        "/pharmacy/formulations/",
        f"/pharmacy/formulations/{mfr.public_id}/",
        "/pharmacy/recalls/",
        f"/pharmacy/recalls/new/?lot={lot.public_id}",
        "/pharmacy/reports/",
        "/pharmacy/label-template/",
        "/batches/",
        f"/batches/{released.public_id}/",
        f"/preparations/{released.preparation.public_id}/",
        f"/patients/{released.preparation.patient.public_id}/preparations/new/"
        f"?formulation={mfr.public_id}",
        f"/patients/{released.preparation.patient.public_id}/",
    ]


def test_every_pharmacy_page_renders_for_the_pharmacist(pages, pharmacist):
    client = client_for(pharmacist)
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url


def test_technician_sees_the_bench_but_not_the_recall_form(pages, technician):
    client = client_for(technician)
    for url in pages:
        expected = 404 if "/recalls/new/" in url or "/preparations/new/" in url else 200
        assert client.get(url).status_code == expected, url


def test_batch_page_shows_the_patient_header_and_the_calculation(released, pharmacist):
    page = client_for(pharmacist).get(f"/batches/{released.public_id}/").content.decode()
    assert 'class="patient-header"' in page
    assert released.preparation.patient.full_name in page
    assert "0.300 g = 1 % × 30.000 g" in page
    assert released.lot_number in page
    assert "Label (PDF)" in page


def test_patient_page_lists_the_preparation_and_its_batch(released, prescriber):
    patient = released.preparation.patient
    page = client_for(prescriber).get(f"/patients/{patient.public_id}/").content.decode()
    assert released.preparation.name in page
    assert released.lot_number in page


def test_a_weighing_without_an_actual_weight_is_refused_on_the_page(batch, technician, formulary):
    component = batch.components.first()
    lot = formulary["lots"]["ptx"]
    response = client_for(technician).post(
        f"/batches/{batch.public_id}/weigh/",
        {
            "component": component.pk,
            f"c{component.pk}-lot": f"lot:{lot.public_id}",
            f"c{component.pk}-balance": str(formulary["balance"].public_id),
            f"c{component.pk}-actual_g": "",
        },
    )
    assert response.status_code == 422
    assert "Actual weight: Enter the weight in grams." in response.content.decode()
    assert not Weighing.objects.exists()


def test_a_scanned_label_on_the_page_weighs_from_that_lot(batch, technician, formulary):
    component = batch.components.get(ingredient=formulary["ingredients"]["ptx"])
    lot = formulary["lots"]["ptx"]
    response = client_for(technician).post(
        f"/batches/{batch.public_id}/weigh/",
        {
            "component": component.pk,
            f"c{component.pk}-scan": f"(17){lot.expiry_date:%y%m%d}(10){lot.lot_number}",
            f"c{component.pk}-balance": str(formulary["balance"].public_id),
            f"c{component.pk}-actual_g": "0.301",
        },
    )
    assert response.status_code == 302
    assert Weighing.objects.get().lot == lot


def test_the_scan_lookup_picks_the_lot_for_the_script(batch, technician, formulary):
    component = batch.components.get(ingredient=formulary["ingredients"]["ptx"])
    lot = formulary["lots"]["ptx_early"]
    url = f"/batches/{batch.public_id}/scan/"
    answer = (
        client_for(technician)
        .post(url, {"component": component.pk, "scan": f"\x1d10{lot.lot_number}"})
        .json()
    )
    assert answer["value"] == f"lot:{lot.public_id}"


def test_a_batch_of_zero_grams_is_refused_on_the_page(preparation, technician):
    response = client_for(technician).post(
        "/batches/new/",
        {"preparation": preparation.public_id, "dispensed_g": "0", "wastage_percent": "0"},
    )
    assert response.status_code == 422
    assert "Must be more than 0." in response.content.decode()
    assert not Batch.objects.exists()


def test_a_preparation_over_100_percent_is_refused_on_the_page(mfr, patient, pharmacist):
    ptx = mfr.components.get(strength_percent__isnull=False)
    response = client_for(pharmacist).post(
        f"/patients/{patient.public_id}/preparations/new/",
        {"formulation": mfr.public_id, f"strength_{ptx.pk}": "100"},
    )
    assert response.status_code == 422
    assert "no room for the base" in response.content.decode()
    assert not Preparation.objects.exists()


def test_drafting_an_mfr_on_the_page_then_approving_it(pharmacist, second_pharmacist, formulary):
    response = client_for(pharmacist).post(
        "/pharmacy/formulations/new/",
        {
            "code": "SIL-CAF",
            "name": "Caffeine silicone gel",
            "dosage_form": "gel",
            "route": "topical",
            "components": "Pentoxifylline | 0.5 | active\nSilicone gel base | q.s. | vehicle",
            "steps": "Weigh\n[pharmacist] Check\n[photo] Photograph",
            "container_closure": "Jar",
            "equipment": "Balance",
            "description": "Clear gel",
            "qc_specification": "Smooth",
            "tolerance_percent": "5",
            "bud_source": "USP <795> table",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    mfr = Formulation.objects.get(code="SIL-CAF")
    assert [s.pharmacist_only for s in mfr.steps.all()] == [False, True, False]
    client_for(second_pharmacist).post(f"/pharmacy/formulations/{mfr.public_id}/approve/")
    mfr.refresh_from_db()
    assert mfr.status == "approved"


def test_receiving_a_lot_that_expired_is_refused_on_the_page(formulary, technician, today):
    ingredient = formulary["ingredients"]["ptx"]
    before = IngredientLot.objects.count()
    response = client_for(technician).post(
        f"/pharmacy/ingredients/{ingredient.public_id}/",
        {
            "supplier": "S",
            "lot_number": "OLD-1",
            "expiry_date": "2020-01-01",
            "received_g": "10",
        },
    )
    assert response.status_code == 422
    assert "expired before it was received" in response.content.decode()
    assert IngredientLot.objects.count() == before


def test_label_downloads_as_a_pdf(released, technician):
    response = client_for(technician).get(f"/batches/{released.public_id}/label.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_outsider_and_other_prescriber_get_404_on_a_batch(released, outsider, other_prescriber):
    for user in (outsider, other_prescriber):
        client = client_for(user)
        assert client.get(f"/batches/{released.public_id}/").status_code == 404
        assert client.get(f"/batches/{released.public_id}/label.pdf").status_code == 404
        prep = released.preparation.public_id
        assert client.get(f"/preparations/{prep}/").status_code == 404


def test_batch_list_runs_a_fixed_number_of_queries(
    released, pharmacist, django_assert_max_num_queries
):
    client = client_for(pharmacist)
    with django_assert_max_num_queries(12):
        assert client.get("/batches/").status_code == 200


def test_bench_page_for_a_technician_offers_no_verification(ready_batch, technician):
    page = client_for(technician).get(f"/batches/{ready_batch.public_id}/").content.decode()
    assert "Waiting for a pharmacist" in page
    assert "Verify and release" not in page


def test_a_technician_quarantines_on_the_page_but_cannot_scrap(released, technician):
    client = client_for(technician)
    url = f"/batches/{released.public_id}"
    refused = client.post(f"{url}/quarantine/", {"reason": ""})
    assert refused.status_code == 422
    assert "Reason: This field is required." in refused.content.decode()
    assert client.post(f"{url}/quarantine/", {"reason": "Cap cracked"}).status_code == 302
    released.refresh_from_db()
    assert released.status == "quarantined"
    assert client.post(f"{url}/scrap/", {"reason": "x"}).status_code == 404
