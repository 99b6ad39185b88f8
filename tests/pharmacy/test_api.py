"""The pharmacy through the API: the same services, 422 naming the field for bad input,
nothing half-written."""

from __future__ import annotations

import json

from scarrx.pharmacy.models import Batch, Formulation, Preparation, Weighing
from tests.conftest import client_for


def post(client, url, body):
    return client.post(f"/api/v1{url}", json.dumps(body), content_type="application/json")


def fields(response) -> set:
    return {e["field"] for e in response.json()["errors"]}


def test_a_technician_compounds_and_a_pharmacist_releases_through_the_api(
    preparation, technician, second_pharmacist, pharmacist, formulary
):
    tech = client_for(technician)
    made = post(tech, "/batches", {"preparation": str(preparation.public_id), "dispensed_g": "30"})
    assert made.status_code == 201, made.json()
    batch = made.json()
    assert [c["shown_g"] for c in batch["components"]] == ["0.300", "29.700"]
    lots = (
        client_for(technician)
        .get(f"/api/v1/pharmacy/ingredients/{formulary['ingredients']['ptx'].public_id}/lots")
        .json()["items"]
    )
    assert lots[0]["lot_number"] == "PTX-EARLY"  # first expiry first out
    for component, lot in zip(batch["components"], ("ptx_early", "silicone"), strict=True):
        weighed = post(
            tech,
            f"/batches/{batch['id']}/weighings",
            {
                "component": component["id"],
                "balance": str(formulary["balance"].public_id),
                "actual_g": component["shown_g"],
                "lot": str(formulary["lots"][lot].public_id),
            },
        )
        assert weighed.status_code == 201, weighed.json()
    assert post(tech, f"/batches/{batch['id']}/steps", {"step": 1}).status_code == 201
    assert post(tech, f"/batches/{batch['id']}/steps", {"step": 2}).status_code == 201
    assert (
        post(client_for(pharmacist), f"/batches/{batch['id']}/steps", {"step": 3}).status_code
        == 201
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.pharmacy.pictures import jpeg

    photo = tech.post(
        f"/api/v1/batches/{batch['id']}/photo",
        {"file": SimpleUploadedFile("gel.jpg", jpeg(), content_type="image/jpeg")},
    )
    assert photo.status_code == 201
    qc = post(
        tech,
        f"/batches/{batch['id']}/qc",
        {
            "appearance": "Smooth clear gel",
            "appearance_ok": True,
            "final_weight_g": "29.9",
        },
    )
    assert qc.status_code == 200
    assert post(tech, f"/batches/{batch['id']}/submit", {}).json()["status"] == "ready_for_review"
    assert post(tech, f"/batches/{batch['id']}/verify", {}).status_code == 404  # never a technician
    released = post(client_for(second_pharmacist), f"/batches/{batch['id']}/verify", {})
    assert released.status_code == 200, released.json()
    body = released.json()
    assert body["lot_number"] and body["bud"] and body["label_url"]
    label = tech.get(body["label_url"])
    assert label["Content-Type"] == "application/pdf"


def test_bad_batch_quantity_is_a_422_naming_the_field(preparation, technician):
    response = post(
        client_for(technician),
        "/batches",
        {
            "preparation": str(preparation.public_id),
            "dispensed_g": "-1",
        },
    )
    assert response.status_code == 422
    assert fields(response) == {"dispensed_g"}
    assert not Batch.objects.exists()


def test_an_unknown_lot_in_a_weighing_is_a_422(batch, technician, formulary):
    response = post(
        client_for(technician),
        f"/batches/{batch.public_id}/weighings",
        {
            "component": batch.components.first().pk,
            "balance": str(formulary["balance"].public_id),
            "actual_g": "0.3",
            "lot": "00000000-0000-0000-0000-000000000000",
        },
    )
    assert response.status_code == 422 and fields(response) == {"lot"}
    assert not Weighing.objects.exists()


def test_editing_an_approved_mfr_through_the_api_is_refused(mfr, pharmacist):
    response = client_for(pharmacist).patch(
        f"/api/v1/pharmacy/formulations/{mfr.public_id}",
        json.dumps({"name": "Changed"}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "new version" in response.json()["errors"][0]["message"]
    assert Formulation.objects.get(pk=mfr.pk).name != "Changed"


def test_a_preparation_whose_strengths_leave_no_base_is_a_422(mfr, patient, pharmacist, formulary):
    response = post(
        client_for(pharmacist),
        f"/patients/{patient.public_id}/preparations",
        {
            "formulation": str(mfr.public_id),
            "strengths": [
                {
                    "ingredient": str(formulary["ingredients"]["ptx"].public_id),
                    "strength_percent": "100",
                }
            ],
        },
    )
    assert response.status_code == 422 and fields(response) == {"components"}
    assert not Preparation.objects.exists()


def test_override_through_the_api_is_shown_on_the_preparation(mfr, patient, pharmacist, formulary):
    prep = post(
        client_for(pharmacist),
        f"/patients/{patient.public_id}/preparations",
        {
            "formulation": str(mfr.public_id),
            "added": [
                {
                    "ingredient": str(formulary["ingredients"]["vitamin_e"].public_id),
                    "strength_percent": "2",
                }
            ],
        },
    ).json()
    warning = prep["warnings"][0]
    assert warning["code"] == "sensitiser" and warning["overridden_by"] is None
    done = post(
        client_for(pharmacist),
        f"/preparations/{prep['id']}/warnings/{warning['id']}/override",
        {"reason": "Patient used vitamin E before without reaction"},
    )
    assert done.json()["warnings"][0]["override_reason"].startswith("Patient used")


def test_trace_and_recall_through_the_api(released, pharmacist, formulary):
    lot = formulary["lots"]["ptx_early"]
    client = client_for(pharmacist)
    reach = client.get(f"/api/v1/pharmacy/lots/{lot.public_id}/trace").json()
    assert reach == {
        "batches": [released.lot_number],
        "patients": [str(released.preparation.patient.public_id)],
    }
    recall = post(client, "/pharmacy/recalls", {"lot": str(lot.public_id), "reason": "Notice"})
    assert recall.status_code == 201
    assert recall.json()["batches_reached"] == [released.lot_number]


def test_reports_through_the_api(released, pharmacist):
    client = client_for(pharmacist)
    usage = client.get("/api/v1/pharmacy/reports/usage").json()
    assert {u["ingredient"] for u in usage} == {"Pentoxifylline", "Silicone gel base"}
    batches = client.get("/api/v1/pharmacy/reports/batches?status=released").json()
    assert batches["count"] == 1
    assert client.get("/api/v1/pharmacy/reports/batches?status=bogus").status_code == 422
    expiring = client.get("/api/v1/pharmacy/reports/lots-expiring?within_days=90").json()
    assert [lot["lot_number"] for lot in expiring["items"]] == ["PTX-EARLY"]


def test_other_prescriber_cannot_see_the_batch_through_the_api(
    released, other_prescriber, prescriber
):
    url = f"/api/v1/batches/{released.public_id}"
    assert client_for(other_prescriber).get(url).status_code == 404
    assert client_for(prescriber).get(url).status_code == 200
