"""Beyond-use dates by USP <795>: the worked example of clinical.md §4, the table, the caps
in order (study, lot expiry, pharmacist), bad input, and properties (a BUD never passes
the table limit or any lot's expiry; a pharmacist's limit only shortens it)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarrx.pharmacy.bud import (
    MAX_BUD_DAYS,
    USP_795_TABLE,
    BudClass,
    BudLimit,
    ComponentLot,
    DayCounting,
    Storage,
    WaterActivity,
    beyond_use_date,
    bud_class,
    water_activity_from_components,
)
from scarrx.values import InputError
from tests.refusals import refused as refused_by

AQUEOUS, NON_AQUEOUS = WaterActivity.AQUEOUS, WaterActivity.NON_AQUEOUS
FAR = date(2030, 1, 1)
BASE_LOT = ComponentLot("aqueous gel base", "B77", FAR)


def bud(**given):
    values = {
        "water_activity": AQUEOUS,
        "preserved": False,
        "compounded_on": date(2026, 1, 1),
        "lots": [BASE_LOT],
    }
    return beyond_use_date(**{**values, **given})


def refused(field, **given):
    return refused_by(field, bud, **given)


def test_14_day_bud_for_a_batch_made_1_january_is_14_january():
    result = bud()
    assert result.date == date(2026, 1, 14)
    assert result.days == 14
    assert result.storage is Storage.REFRIGERATOR
    assert result.limited_by is BudLimit.TABLE
    assert result.explanation == (
        "14 days: aqueous, not preserved. BUD 2026-01-14 (14 days, counting the compounding "
        "day as day 1); store in a refrigerator."
    )


def test_counting_from_the_day_after_compounding_is_a_setting():
    result = bud(day_counting=DayCounting.DAY_AFTER_COMPOUNDING_IS_DAY_1)
    assert result.date == date(2026, 1, 15)
    assert result.days == 14
    assert "counting from the day after compounding" in result.explanation


@pytest.mark.parametrize(
    ("water_activity", "preserved", "oral_liquid", "days", "storage"),
    [
        (AQUEOUS, False, False, 14, Storage.REFRIGERATOR),
        (AQUEOUS, True, False, 35, Storage.ROOM_TEMPERATURE_OR_REFRIGERATOR),
        (AQUEOUS, True, True, 35, Storage.ROOM_TEMPERATURE_OR_REFRIGERATOR),
        (NON_AQUEOUS, False, True, 90, Storage.ROOM_TEMPERATURE_OR_REFRIGERATOR),
        (NON_AQUEOUS, False, False, 180, Storage.ROOM_TEMPERATURE_OR_REFRIGERATOR),
        (NON_AQUEOUS, True, False, 180, Storage.ROOM_TEMPERATURE_OR_REFRIGERATOR),
    ],
)
def test_usp_795_table_sets_days_and_storage_by_class(
    water_activity, preserved, oral_liquid, days, storage
):
    result = bud(water_activity=water_activity, preserved=preserved, oral_liquid=oral_liquid)
    assert result.days == days
    assert result.date == date(2026, 1, 1) + timedelta(days=days - 1)
    assert result.storage is storage


def test_anhydrous_silicone_scar_gel_keeps_180_days():
    lots = [ComponentLot("silicone gel base", "S1", FAR), ComponentLot("pentoxifylline", "P2", FAR)]
    result = bud(water_activity=NON_AQUEOUS, lots=lots)
    assert result.date == date(2026, 6, 29)
    assert result.bud_class is BudClass.NON_AQUEOUS_OTHER
    assert result.explanation.startswith("180 days: non-aqueous. BUD 2026-06-29")
    assert result.explanation.endswith("store at room temperature or in a refrigerator.")


def test_bud_is_capped_by_earliest_component_expiry():
    lots = [BASE_LOT, ComponentLot("tretinoin", "L123", date(2027, 1, 3))]
    result = bud(compounded_on=date(2026, 12, 23), lots=lots)
    assert result.date == date(2027, 1, 3)
    assert result.days == 12
    assert result.limited_by is BudLimit.COMPONENT_EXPIRY
    assert result.limiting_lots == (lots[1],)
    assert result.explanation.startswith(
        "14 days: aqueous, not preserved; capped by tretinoin lot L123 expiring 2027-01-03. "
        "BUD 2027-01-03 (12 days"
    )


def test_every_lot_sharing_the_earliest_expiry_is_named():
    soon = date(2026, 1, 10)
    lots = [ComponentLot("tretinoin", "T1", soon), BASE_LOT, ComponentLot("caffeine", "C9", soon)]
    result = bud(lots=lots)
    assert result.limiting_lots == (lots[0], lots[2])
    assert "capped by tretinoin lot T1 and caffeine lot C9 expiring 2026-01-10" in (
        result.explanation
    )


def test_a_lot_expiring_on_the_table_date_does_not_cap_it():
    result = bud(lots=[ComponentLot("tretinoin", "T1", date(2026, 1, 14))])
    assert result.date == date(2026, 1, 14)
    assert result.limited_by is BudLimit.TABLE


def test_lot_expiring_on_the_compounding_day_gives_a_one_day_bud():
    result = bud(lots=[ComponentLot("tretinoin", "T1", date(2026, 1, 1))])
    assert (result.date, result.days) == (date(2026, 1, 1), 1)


def test_expired_component_lot_is_refused():
    lots = [BASE_LOT, ComponentLot("niacinamide", "N5", date(2025, 12, 31))]
    message = refused("lots[1].expiry_date", lots=lots)
    assert message == (
        "niacinamide lot N5 expired on 2025-12-31, before the compounding date 2026-01-01; "
        "it cannot be used"
    )


def test_stability_study_may_set_a_longer_limit_up_to_180_days():
    result = bud(preserved=True, stability_limit_days=60, stability_source="study SR-12, 30 g tube")
    assert result.days == 60
    assert result.limited_by is BudLimit.STUDY
    assert result.explanation.startswith(
        "60 days: aqueous, preserved; set by study SR-12, 30 g tube in place of the USP <795> "
        "table's 35 days."
    )
    assert bud(stability_limit_days=MAX_BUD_DAYS, stability_source="monograph").days == 180


def test_stability_study_is_capped_by_lot_expiry_too():
    lots = [ComponentLot("caffeine", "C1", date(2026, 2, 1))]
    result = bud(lots=lots, stability_limit_days=90, stability_source="study SR-3")
    assert result.date == date(2026, 2, 1)
    assert result.limited_by is BudLimit.COMPONENT_EXPIRY


def test_stability_limit_above_180_days_is_refused():
    message = refused("stability_limit_days", stability_limit_days=181, stability_source="study")
    assert "at most 180 days" in message


def test_stability_limit_needs_its_source_and_a_source_needs_its_limit():
    refused("stability_source", stability_limit_days=30)
    refused("stability_source", stability_limit_days=30, stability_source="  ")
    refused("stability_limit_days", stability_source="study SR-1")
    refused("stability_limit_days", stability_limit_days=0, stability_source="study SR-1")


def test_pharmacist_shortens_the_bud_in_days_with_a_reason():
    result = bud(pharmacist_limit=7, pharmacist_reason="patient travels; fresh batch on return")
    assert (result.date, result.days) == (date(2026, 1, 7), 7)
    assert result.limited_by is BudLimit.PHARMACIST
    assert "shortened by the pharmacist to 2026-01-07: patient travels" in result.explanation


def test_pharmacist_shortens_the_bud_to_a_date():
    result = bud(pharmacist_limit=date(2026, 1, 10), pharmacist_reason="container change")
    assert (result.date, result.days) == (date(2026, 1, 10), 10)


def test_pharmacist_limit_equal_to_the_rules_changes_nothing():
    result = bud(pharmacist_limit=14, pharmacist_reason="as the table")
    assert result.date == date(2026, 1, 14)
    assert result.limited_by is BudLimit.TABLE


def test_pharmacist_cannot_lengthen_the_bud():
    message = refused("pharmacist_limit", pharmacist_limit=15, pharmacist_reason="more time")
    assert message == (
        "a pharmacist may shorten the BUD, never lengthen it: the rules give 2026-01-14 "
        "(14 days) and 2026-01-15 is later"
    )


def test_pharmacist_cannot_lengthen_past_a_lot_expiry():
    lots = [ComponentLot("tretinoin", "T1", date(2026, 1, 5))]
    refused("pharmacist_limit", lots=lots, pharmacist_limit=6, pharmacist_reason="x")


def test_pharmacist_limit_needs_a_reason_and_a_reason_needs_a_limit():
    refused("pharmacist_reason", pharmacist_limit=7)
    refused("pharmacist_reason", pharmacist_limit=7, pharmacist_reason="")
    refused("pharmacist_limit", pharmacist_reason="shorter please")


@pytest.mark.parametrize(
    "limit", [0, -3, True, "7", 7.0, date(2025, 12, 31), datetime(2026, 1, 5, 12, tzinfo=UTC)]
)
def test_pharmacist_limit_must_be_days_or_a_date_from_compounding(limit):
    refused("pharmacist_limit", pharmacist_limit=limit, pharmacist_reason="x")


def test_bud_needs_the_lots_used():
    refused("lots", lots=[])
    refused("lots[0]", lots=[("tretinoin", "T1", FAR)])
    refused("lots[0].lot_number", lots=[ComponentLot("tretinoin", " ", FAR)])
    refused("lots[0].expiry_date", lots=[ComponentLot("tretinoin", "T1", "2030-01-01")])


def test_bud_refuses_an_instant_for_the_compounding_day():
    refused("compounded_on", compounded_on=datetime(2026, 1, 1, 9, tzinfo=UTC))


def test_bud_class_wants_plain_answers():
    with pytest.raises(InputError) as caught:
        bud_class("aqueous", preserved=True)
    assert caught.value.field == "water_activity"
    with pytest.raises(InputError) as caught:
        bud_class(AQUEOUS, preserved=1)
    assert caught.value.field == "preserved"


def test_water_in_any_component_makes_the_preparation_aqueous():
    dry = {"silicone gel base": False, "pentoxifylline": False}
    assert water_activity_from_components(dry) is NON_AQUEOUS
    with_water = {**dry, "tranexamic acid in purified water": True}
    assert water_activity_from_components(with_water) is AQUEOUS


def test_water_activity_needs_components_and_yes_or_no():
    with pytest.raises(InputError) as caught:
        water_activity_from_components({})
    assert caught.value.field == "components"
    with pytest.raises(InputError) as caught:
        water_activity_from_components({"gel": "yes"})
    assert caught.value.field == "components.gel"


def test_table_is_the_2023_revision_without_the_old_30_day_topical_rule():
    assert sorted(rule.days for rule in USP_795_TABLE.values()) == [14, 35, 90, 180]


# --- properties ------------------------------------------------------------------------

days_ahead = st.integers(min_value=0, max_value=400)
classes = st.tuples(st.sampled_from(list(WaterActivity)), st.booleans(), st.booleans())


@st.composite
def batches(draw):
    made = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)))
    expiries = draw(st.lists(days_ahead, min_size=1, max_size=5))
    lots = [
        ComponentLot(f"component {i}", f"L{i}", made + timedelta(days=ahead))
        for i, ahead in enumerate(expiries)
    ]
    water, preserved, oral = draw(classes)
    study = draw(st.none() | st.integers(1, MAX_BUD_DAYS))
    return {
        "water_activity": water,
        "preserved": preserved,
        "oral_liquid": oral,
        "compounded_on": made,
        "lots": lots,
        "stability_limit_days": study,
        "stability_source": None if study is None else "approved study",
        "day_counting": draw(st.sampled_from(list(DayCounting))),
    }


@settings(max_examples=100, database=None)
@given(batch=batches())
def test_bud_never_exceeds_the_table_limit_or_any_component_expiry(batch):
    result = beyond_use_date(**batch)
    category = bud_class(
        batch["water_activity"], preserved=batch["preserved"], oral_liquid=batch["oral_liquid"]
    )
    limit = batch["stability_limit_days"] or USP_795_TABLE[category].days
    made = batch["compounded_on"]
    shift = 1 if batch["day_counting"] is DayCounting.COMPOUNDING_DAY_IS_DAY_1 else 0
    assert made <= result.date <= made + timedelta(days=limit - shift)
    assert result.days <= limit <= MAX_BUD_DAYS
    assert all(result.date <= lot.expiry_date for lot in batch["lots"])
    assert (result.date - made).days + shift == result.days


@settings(max_examples=100, database=None)
@given(batch=batches(), limit=st.integers(1, 200))
def test_pharmacist_limit_only_ever_shortens_the_bud(batch, limit):
    without = beyond_use_date(**batch)
    try:
        result = beyond_use_date(**batch, pharmacist_limit=limit, pharmacist_reason="judgement")
    except InputError as error:
        assert error.field == "pharmacist_limit"
        assert limit > without.days
    else:
        assert result.date <= without.date
        assert result.days == min(limit, without.days)
