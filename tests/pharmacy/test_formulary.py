"""Formulary, lots and master formulation records: FEFO, refused lots, approvals by
pharmacists who did not write the formula, immutability, versions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from scarrx.audit.models import ChangeRecord
from scarrx.pharmacy import services
from scarrx.pharmacy.models import Formulation, MfrStatus
from scarrx.pharmacy.queries import usable_lots
from scarrx.pharmacy.services import ComponentLine
from tests.pharmacy.conftest import STEPS, mfr_fields


def errors(exc_info) -> dict:
    return exc_info.value.message_dict


def test_lot_picker_suggests_first_expiry_first_out(formulary):
    ptx = formulary["ingredients"]["ptx"]
    assert list(usable_lots(ptx)) == [formulary["lots"]["ptx_early"], formulary["lots"]["ptx"]]


def test_expired_and_recalled_lots_are_not_offered(formulary, pharmacist, today):
    ptx = formulary["ingredients"]["ptx"]
    early = formulary["lots"]["ptx_early"]
    services.recall(actor=pharmacist, lot=early, reason="Supplier notice")
    assert list(usable_lots(ptx)) == [formulary["lots"]["ptx"]]
    assert list(usable_lots(ptx, on=today + timedelta(days=401))) == []


def test_a_lot_received_already_expired_is_refused(formulary, technician, today):
    with pytest.raises(ValidationError) as caught:
        services.receive_lot(
            formulary["ingredients"]["ptx"],
            actor=technician,
            supplier="S",
            lot_number="X",
            expiry_date=today - timedelta(days=1),
            received_g=D(5),
        )
    assert "expiry_date" in errors(caught)


def test_prescriber_cannot_change_the_formulary(prescriber):
    with pytest.raises(PermissionDenied):
        services.add_ingredient(actor=prescriber, name="Caffeine", role="active")


def test_strengths_that_leave_no_room_for_the_base_are_refused(formulary, pharmacist):
    i = formulary["ingredients"]
    before = Formulation.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.draft_formulation(
            actor=pharmacist,
            code="BAD",
            components=[
                ComponentLine(i["ptx"], D(60)),
                ComponentLine(i["vitamin_e"], D(40)),
                ComponentLine(i["silicone"], None),
            ],
            steps=STEPS,
            **mfr_fields(),
        )
    assert "no room for the base" in errors(caught)["components"][0]
    assert Formulation.objects.count() == before


def test_the_author_cannot_approve_their_own_formula(formulary, pharmacist):
    draft = services.draft_formulation(
        actor=pharmacist,
        code="OWN",
        components=[ComponentLine(formulary["ingredients"]["silicone"], None)],
        steps=STEPS,
        **mfr_fields(),
    )
    with pytest.raises(ValidationError) as caught:
        services.approve_formulation(draft, actor=pharmacist)
    assert "another pharmacist" in errors(caught)["__all__"][0]
    draft.refresh_from_db()
    assert draft.status == MfrStatus.DRAFT


def test_a_technician_cannot_approve(formulary, pharmacist, technician):
    draft = services.draft_formulation(
        actor=pharmacist,
        code="TECH",
        components=[ComponentLine(formulary["ingredients"]["silicone"], None)],
        steps=STEPS,
        **mfr_fields(),
    )
    with pytest.raises(PermissionDenied):
        services.approve_formulation(draft, actor=technician)


def test_two_approvals_when_the_setting_asks_for_two(
    formulary, pharmacist, second_pharmacist, roles
):
    from tests.conftest import make_user

    third = make_user("quinn", "pharmacist")
    services.change_settings(
        actor=pharmacist,
        mfr_approvals=2,
        day_counting="compounding_day_is_day_1",
        calibration_days=365,
        reason="Two-person formula review",
    )
    draft = services.draft_formulation(
        actor=pharmacist,
        code="TWO",
        components=[ComponentLine(formulary["ingredients"]["silicone"], None)],
        steps=STEPS,
        **mfr_fields(),
    )
    assert services.approve_formulation(draft, actor=second_pharmacist).status == "draft"
    with pytest.raises(ValidationError):
        services.approve_formulation(draft, actor=second_pharmacist)
    assert services.approve_formulation(draft, actor=third).status == "approved"


def test_a_technician_cannot_change_settings(technician):
    with pytest.raises(PermissionDenied):
        services.change_settings(
            actor=technician,
            mfr_approvals=1,
            day_counting="compounding_day_is_day_1",
            calibration_days=365,
            reason="x",
        )


def test_an_approved_mfr_edited_in_place_is_refused(mfr, pharmacist):
    with pytest.raises(ValidationError) as caught:
        services.edit_formulation(mfr, actor=pharmacist, name="Something else")
    assert "make a new version" in errors(caught)["__all__"][0]
    mfr.refresh_from_db()
    assert mfr.name == "Pentoxifylline 1 % silicone scar gel"
    assert not ChangeRecord.objects.filter(action="mfr.edited").exists()


def test_a_draft_can_be_edited(formulary, pharmacist):
    draft = services.draft_formulation(
        actor=pharmacist,
        code="EDIT",
        components=[ComponentLine(formulary["ingredients"]["silicone"], None)],
        steps=STEPS,
        **mfr_fields(),
    )
    assert services.edit_formulation(draft, actor=pharmacist, name="Renamed").name == "Renamed"


def test_a_new_version_supersedes_the_old_one_when_approved(
    mfr, pharmacist, second_pharmacist, formulary
):
    i = formulary["ingredients"]
    v2 = services.new_version(
        mfr,
        actor=pharmacist,
        change_reason="Half strength for sensitive skin",
        components=[ComponentLine(i["ptx"], D("0.5")), ComponentLine(i["silicone"], None)],
    )
    assert (v2.code, v2.version, v2.status) == ("SIL-PTX", 2, "draft")
    services.approve_formulation(v2, actor=second_pharmacist)
    mfr.refresh_from_db()
    assert mfr.status == MfrStatus.SUPERSEDED
    assert [c.strength_percent for c in v2.components.all()] == [D("0.5"), None]


def test_water_in_a_component_makes_the_formula_aqueous(formulary, pharmacist):
    i = formulary["ingredients"]
    draft = services.draft_formulation(
        actor=pharmacist,
        code="AQ",
        components=[ComponentLine(i["ptx"], D(1)), ComponentLine(i["aqueous"], None)],
        steps=STEPS,
        **mfr_fields(),
    )
    assert (draft.water_activity, draft.preserved) == ("aqueous", False)
    assert draft.storage == "refrigerator"
