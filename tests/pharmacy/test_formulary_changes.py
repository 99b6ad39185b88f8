"""A pharmacist keeps the formulary true (an ingredient changed, old → new, with the
reason; a changed safety fact screens the preparations in use again) and takes a balance
out of service. Services, API and pages alike; bad input names the field."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from scarrx.audit.models import ChangeRecord
from scarrx.patients.services import update_patient
from scarrx.pharmacy import services
from scarrx.pharmacy.models import Balance, Batch, Ingredient, SafetyWarning
from tests.conftest import client_for


def patch(client, url, body):
    return client.patch(f"/api/v1{url}", json.dumps(body), content_type="application/json")


def post(client, url, body):
    return client.post(f"/api/v1{url}", json.dumps(body), content_type="application/json")


# --- ingredients ------------------------------------------------------------------------


def test_an_ingredient_change_is_recorded_old_to_new_with_the_reason(formulary, pharmacist):
    ptx = formulary["ingredients"]["ptx"]
    services.update_ingredient(
        ptx,
        actor=pharmacist,
        reason="Supplier's new grade",
        assay_percent=D("98.5"),
        density_g_per_ml=D("1.2"),
        salt_factor=D(1),  # unchanged: not in the record
    )
    ptx.refresh_from_db()
    assert ptx.assay_percent == D("98.5") and ptx.density_g_per_ml == D("1.2")
    record = ChangeRecord.objects.get(action="ingredient.updated")
    assert record.reason == "Supplier's new grade"
    assert set(record.data) == {"assay_percent", "density_g_per_ml"}
    assert record.data["density_g_per_ml"][0] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"assay_percent": D(0)}, "assay_percent"),
        ({"max_strength_percent": D(150)}, "max_strength_percent"),
        ({"role": "garnish"}, "role"),
        ({"name": "tretinoin"}, "name"),
        ({"name": "  "}, "name"),
        ({"salt_factor": "lots"}, "salt_factor"),
        ({"density_g_per_ml": D(-1)}, "density_g_per_ml"),
        ({"hazardous": None}, "hazardous"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_ingredient_change_names_the_field_and_saves_nothing(
    formulary, pharmacist, change, field
):
    ptx = formulary["ingredients"]["ptx"]
    with pytest.raises(ValidationError) as refused:
        services.update_ingredient(ptx, actor=pharmacist, reason="Correction", **change)
    assert field in refused.value.message_dict
    assert Ingredient.objects.get(pk=ptx.pk).name == "Pentoxifylline"
    assert not ChangeRecord.objects.filter(action="ingredient.updated").exists()


def test_an_ingredient_change_needs_a_reason(formulary, pharmacist):
    with pytest.raises(ValidationError) as refused:
        services.update_ingredient(
            formulary["ingredients"]["ptx"], actor=pharmacist, reason=" ", hazardous=True
        )
    assert "reason" in refused.value.message_dict


def test_only_a_pharmacist_changes_an_ingredient(formulary, technician, prescriber):
    for actor in (technician, prescriber):
        with pytest.raises(PermissionDenied):
            services.update_ingredient(
                formulary["ingredients"]["ptx"], actor=actor, reason="x", hazardous=True
            )


def test_a_lower_formulary_maximum_blocks_the_next_batch_until_overridden(
    preparation, pharmacist, technician, formulary
):
    ptx = formulary["ingredients"]["ptx"]
    services.update_ingredient(
        ptx, actor=pharmacist, reason="New safety data", max_strength_percent=D("0.5")
    )
    warning = services.open_warnings(preparation).get()
    assert (warning.code, warning.stage) == ("strength", "record")
    assert "maximum of 0.5 %" in warning.message
    with pytest.raises(ValidationError):
        services.start_batch(actor=technician, preparation=preparation, dispensed_g=D(30))
    services.override_warning(warning, actor=pharmacist, reason="Prescriber accepts 1 %")
    assert services.start_batch(actor=technician, preparation=preparation, dispensed_g=D(30))


def test_a_new_allergen_group_matches_a_recorded_allergy(
    preparation, patient, pharmacist, formulary
):
    update_patient(patient, actor=pharmacist, allergies="Xanthines")
    assert not preparation.warnings.exists()
    services.update_ingredient(
        formulary["ingredients"]["ptx"],
        actor=pharmacist,
        reason="Pentoxifylline is a xanthine",
        allergen_group="xanthines",
    )
    assert [w.code for w in services.open_warnings(preparation)] == ["allergy"]


def test_a_hazardous_flag_on_the_base_screens_its_preparations(preparation, pharmacist, formulary):
    services.update_ingredient(
        formulary["ingredients"]["silicone"], actor=pharmacist, reason="SDS", hazardous=True
    )
    assert [w.code for w in services.open_warnings(preparation)] == ["hazardous"]


def test_a_change_of_assay_screens_nothing_again(preparation, pharmacist, formulary):
    services.update_ingredient(
        formulary["ingredients"]["ptx"], actor=pharmacist, reason="CoA", assay_percent=D(99)
    )
    assert not SafetyWarning.objects.exists()


def test_a_water_fact_change_names_the_approved_mfrs_to_version(mfr, pharmacist, formulary):
    services.update_ingredient(
        formulary["ingredients"]["silicone"],
        actor=pharmacist,
        reason="The supplier's base holds water",
        contains_water=True,
    )
    record = ChangeRecord.objects.get(action="ingredient.updated")
    assert record.data["mfrs_to_version"] == ["SIL-PTX v1"]
    mfr.refresh_from_db()
    assert mfr.water_activity == "non_aqueous"  # approved: immutable
    draft = services.new_version(mfr, actor=pharmacist, change_reason="Base holds water")
    assert draft.water_activity == "aqueous"


def test_the_api_changes_an_ingredient_and_names_a_bad_field(formulary, pharmacist, technician):
    ptx = formulary["ingredients"]["ptx"]
    url = f"/pharmacy/ingredients/{ptx.public_id}"
    changed = patch(client_for(pharmacist), url, {"reason": "SDS", "hazardous": True})
    assert changed.status_code == 200, changed.json()
    assert changed.json()["hazardous"] is True and changed.json()["name"] == "Pentoxifylline"
    bad = patch(client_for(pharmacist), url, {"reason": "x", "max_strength_percent": "0"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"max_strength_percent"}
    refused = patch(client_for(technician), url, {"reason": "x", "hazardous": False})
    assert refused.status_code == 404
    assert Ingredient.objects.get(pk=ptx.pk).hazardous is True


def test_the_console_edits_an_ingredient(formulary, pharmacist, technician):
    ptx = formulary["ingredients"]["ptx"]
    url = f"/pharmacy/ingredients/{ptx.public_id}/edit/"
    client = client_for(pharmacist)
    page = client.get(url)
    assert page.status_code == 200 and 'value="Pentoxifylline"' in page.text
    assert url in client.get(f"/pharmacy/ingredients/{ptx.public_id}/").text
    form = {
        "name": "Pentoxifylline",
        "role": "active",
        "max_strength_percent": "0.8",
        "allergen_group": "xanthines",
        "assay_percent": "100",
        "salt_factor": "1",
        "pregnancy_caution": "on",
        "reason": "Monograph update",
    }
    done = client.post(url, form)
    assert done.status_code == 302
    ptx.refresh_from_db()
    assert ptx.max_strength_percent == D("0.8") and ptx.pregnancy_caution
    assert ptx.allergen_group == "xanthines"
    bad = client.post(url, form | {"assay_percent": "0", "reason": "again"})
    assert bad.status_code == 422 and "assay" in bad.text.lower()
    assert client_for(technician).get(url).status_code == 404
    assert f"/pharmacy/ingredients/{ptx.public_id}/edit/" not in (
        client_for(technician).get(f"/pharmacy/ingredients/{ptx.public_id}/").text
    )


# --- balances -----------------------------------------------------------------------------


def test_a_retired_balance_cannot_be_chosen_at_the_bench(batch, pharmacist, technician, formulary):
    balance = formulary["balance"]
    bench = client_for(technician).get(f"/batches/{batch.public_id}/").text
    assert str(balance.public_id) in bench
    services.retire_balance(balance, actor=pharmacist, reason="Failed its daily check")
    balance.refresh_from_db()
    assert balance.retired and balance.retired_reason == "Failed its daily check"
    assert ChangeRecord.objects.get(action="balance.retired").reason == "Failed its daily check"
    component = batch.components.first()
    with pytest.raises(ValidationError) as refused:
        services.record_weighing(
            batch,
            actor=technician,
            component=component,
            balance=balance,
            actual_g=component.shown_g,
            lot=formulary["lots"]["ptx"],
        )
    assert "retired" in " ".join(refused.value.message_dict["balance"])
    bench = client_for(technician).get(f"/batches/{batch.public_id}/").text
    assert str(balance.public_id) not in bench
    with pytest.raises(ValidationError):
        services.calibrate_balance(balance, actor=pharmacist, on=balance.last_calibrated_on)


def test_retiring_needs_a_pharmacist_and_a_reason(formulary, pharmacist, technician):
    balance = formulary["balance"]
    with pytest.raises(PermissionDenied):
        services.retire_balance(balance, actor=technician, reason="Broken")
    with pytest.raises(ValidationError) as refused:
        services.retire_balance(balance, actor=pharmacist, reason="")
    assert "reason" in refused.value.message_dict
    assert not Balance.objects.get(pk=balance.pk).retired


def test_the_balances_page_retires_a_balance_and_lists_it_out_of_service(
    formulary, pharmacist, technician
):
    balance = formulary["balance"]
    url = f"/pharmacy/balances/{balance.public_id}/retire/"
    assert url not in client_for(technician).get("/pharmacy/balances/").text
    assert client_for(technician).post(url, {"reason": "Broken"}).status_code == 404
    client = client_for(pharmacist)
    assert url in client.get("/pharmacy/balances/").text
    assert client.post(url, {"reason": ""}).status_code == 302
    assert not Balance.objects.get(pk=balance.pk).retired
    assert client.post(url, {"reason": "Dropped on the floor"}).status_code == 302
    page = client.get("/pharmacy/balances/").text
    assert "Out of service" in page and "Dropped on the floor" in page
    assert url not in page


def test_the_api_retires_a_balance(formulary, pharmacist, technician):
    balance = formulary["balance"]
    url = f"/pharmacy/balances/{balance.public_id}/retirement"
    assert post(client_for(technician), url, {"reason": "x"}).status_code == 404
    assert post(client_for(pharmacist), url, {"reason": ""}).status_code == 422
    done = post(client_for(pharmacist), url, {"reason": "Out for repair"})
    assert done.status_code == 200 and done.json()["retired_reason"] == "Out for repair"
    listed = client_for(pharmacist).get("/api/v1/pharmacy/balances").json()["items"]
    assert listed == []
    every = client_for(pharmacist).get("/api/v1/pharmacy/balances?every=true").json()["items"]
    assert [b["retired"] for b in every] == [True]
    again = post(client_for(pharmacist), url, {"reason": "Again"})
    assert again.status_code == 422
    assert not Batch.objects.exists()
