"""The pharmacy's free text under the one text rule (scarrx.text): a right-to-left
override or a control character in a lot's supplier, an MFR's change reason, a
preparation's name, a deviation, QC notes, a scrap or recall reason is refused through
the API with a 422 naming the field, and nothing is written."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from scarrx.audit.models import ChangeRecord
from scarrx.pharmacy.models import Ingredient
from scarrx.text import CONTROL, INVISIBLE
from tests.conftest import client_for

RLO = "\u202e"


def lot(world):
    ptx = world["formulary"]["ingredients"]["ptx"]
    expiry = timezone.localdate() + timedelta(days=100)
    body = {
        "supplier": f"Acme{RLO}",
        "lot_number": "L-9",
        "expiry_date": expiry,
        "received_g": "100",
    }
    return f"/api/v1/pharmacy/ingredients/{ptx.public_id}/lots", body, "supplier"


def new_version(world):
    url = f"/api/v1/pharmacy/formulations/{world['mfr'].public_id}/versions"
    return url, {"change_reason": f"Thicker{RLO}"}, "change_reason"


def preparation(world):
    url = f"/api/v1/patients/{world['patient'].public_id}/preparations"
    return url, {"formulation": world["mfr"].public_id, "name": f"Gel{RLO}"}, "name"


def deviation(world):
    url = f"/api/v1/batches/{world['batch'].public_id}/deviations"
    return url, {"text": "Spilt \x1b[31m 2 g"}, "text"


def qc(world):
    url = f"/api/v1/batches/{world['batch'].public_id}/qc"
    return (
        url,
        {"appearance": f"Smooth{RLO}", "appearance_ok": True, "final_weight_g": "30"},
        "appearance",
    )


def scrap(world):
    url = f"/api/v1/batches/{world['batch'].public_id}/scrap"
    return url, {"reason": f"Dropped{RLO}"}, "reason"


def recall(world):
    ptx_lot = world["formulary"]["lots"]["ptx"]
    return "/api/v1/pharmacy/recalls", {"lot": ptx_lot.public_id, "reason": f"Bad{RLO}"}, "reason"


@pytest.fixture
def world(formulary, mfr, patient, batch):
    return {"formulary": formulary, "mfr": mfr, "patient": patient, "batch": batch}


@pytest.mark.parametrize(
    "write", [lot, new_version, preparation, deviation, qc, scrap, recall], ids=lambda w: w.__name__
)
def test_bad_text_in_the_pharmacys_records_is_refused_by_field(pharmacist, world, write):
    url, body, field = write(world)
    before = ChangeRecord.objects.count()

    response = client_for(pharmacist).post(url, json.dumps(body, default=str), "application/json")

    assert response.status_code == 422, response.content[:300]
    messages = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert messages[field] in (INVISIBLE, CONTROL)
    assert ChangeRecord.objects.count() == before


def test_the_ingredient_page_shows_bad_text_beside_its_fields(pharmacist):
    data = {"name": f"Niacinamide{RLO}", "role": "active", "assay_percent": "100",
            "salt_factor": "1", "allergen_group": "B\x07"}  # fmt: skip

    response = client_for(pharmacist).post("/pharmacy/ingredients/", data)

    assert response.status_code == 422
    errors = response.context["form"].errors
    assert (errors["name"], errors["allergen_group"]) == ([INVISIBLE], [CONTROL])
    assert not Ingredient.objects.exists()
