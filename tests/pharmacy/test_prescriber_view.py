"""A prescriber reads the approved master formulation records (components, strengths,
dosage form, BUD class, label text) to choose one for a patient's preparation. Drafts are
the pharmacists' work in progress: not listed for them, a 404 by id, and no draft actions
on a page they see."""

from __future__ import annotations

import json

import pytest

from scarrx.pharmacy import services
from scarrx.pharmacy.services import ComponentLine
from tests.conftest import client_for
from tests.pharmacy.conftest import STEPS, mfr_fields


@pytest.fixture
def draft(formulary, pharmacist):
    i = formulary["ingredients"]
    return services.draft_formulation(
        actor=pharmacist,
        code="VIT-E",
        components=[ComponentLine(i["vitamin_e"], 2), ComponentLine(i["silicone"], None)],
        steps=STEPS,
        **mfr_fields(name="Vitamin E 2 % silicone gel (draft)"),
    )


def test_a_prescriber_reads_an_approved_mfr_with_its_components_and_label_text(
    mfr, draft, prescriber
):
    client = client_for(prescriber)
    listed = client.get("/pharmacy/formulations/").text
    assert mfr.name in listed and "Pentoxifylline 1 %" in listed
    assert draft.name not in listed
    page = client.get(f"/pharmacy/formulations/{mfr.public_id}/").text
    assert "For external use. Not for open wounds." in page  # the label text
    assert "Pentoxifylline" in page and "q.s. to 100 %" in page
    assert "Make a new version" not in page and "Approve this version" not in page


def test_a_draft_is_a_404_for_a_prescriber_and_hidden_from_the_api_list(
    mfr, draft, prescriber, technician, pharmacist
):
    for user in (prescriber, technician):
        client = client_for(user)
        assert client.get(f"/pharmacy/formulations/{draft.public_id}/").status_code == 404
        assert client.get(f"/api/v1/pharmacy/formulations/{draft.public_id}").status_code == 404
        codes = [m["code"] for m in client.get("/api/v1/pharmacy/formulations").json()["items"]]
        assert codes == ["SIL-PTX"]
        got = client.get(f"/api/v1/pharmacy/formulations/{mfr.public_id}").json()
        assert got["label_text"] == "For external use. Not for open wounds."
        assert [c["strength_percent"] for c in got["components"]] == ["1.000000", None]
    pharmacist_sees = client_for(pharmacist).get("/pharmacy/formulations/").text
    assert draft.name in pharmacist_sees


def test_a_prescriber_cannot_edit_a_draft(draft, prescriber):
    response = client_for(prescriber).patch(
        f"/api/v1/pharmacy/formulations/{draft.public_id}",
        json.dumps({"name": "Mine now"}),
        content_type="application/json",
    )
    assert response.status_code == 404
    draft.refresh_from_db()
    assert draft.name == "Vitamin E 2 % silicone gel (draft)"


def test_the_preparation_form_shows_the_chosen_mfr_for_the_prescriber(mfr, patient, prescriber):
    page = client_for(prescriber).get(
        f"/patients/{patient.public_id}/preparations/new/?formulation={mfr.public_id}"
    )
    assert page.status_code == 200
    text = page.text
    assert "For external use. Not for open wounds." in text
    assert "30 g airless pump" in text
    assert f"/pharmacy/formulations/{mfr.public_id}/" in text
