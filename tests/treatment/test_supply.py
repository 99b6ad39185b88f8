"""Days supply, refill dates, fills against a BUD and the supply timeline: the worked example
of clinical.md §6, our own examples, bad input, and properties (days supply never falls as
grams rise; carrying an early refill's overlap forward never loses supply)."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarrx.treatment.supply import (
    FINGERTIP_UNITS,
    Area,
    Fill,
    daily_use,
    days_supply,
    fit_within_bud,
    grams_per_area,
    refill_due,
    runs_out_on,
    supply_timeline,
)
from tests.refusals import refused
from tests.treatment.strategies import fills

JAN = [None] + [date(2026, 1, day) for day in range(1, 32)]  # JAN[5] is 5 January
fast = settings(max_examples=100, database=None)


def test_30_g_to_face_and_neck_twice_daily_lasts_12_days():
    assert days_supply(D(30), 2, area=Area.FACE_AND_NECK) == 12
    assert days_supply(D(30), 2, area="face_and_neck") == 12


@pytest.mark.parametrize(
    ("area", "ftu", "grams"),
    [
        (Area.FACE_AND_NECK, D("2.5"), D("1.25")),
        (Area.ONE_ARM, D(3), D("1.5")),
        (Area.BACK_OF_TRUNK, D(7), D("3.5")),
        (Area.FRONT_OF_TRUNK, D(7), D("3.5")),
        (Area.ONE_HAND, D(1), D("0.5")),
    ],
)
def test_fingertip_unit_table_gives_grams_per_application(area, ftu, grams):
    assert FINGERTIP_UNITS[area] == ftu
    assert grams_per_area(area) == grams


def test_days_supply_rounds_down():
    assert days_supply(D(50), 2, area=Area.FACE_AND_NECK) == 20
    assert days_supply(D(52), 2, area=Area.FACE_AND_NECK) == 20  # 20.8 days
    assert days_supply(D(30), 1, area=Area.BACK_OF_TRUNK) == 8  # 8.57 days


def test_spot_treatment_states_grams_per_application():
    assert daily_use(2, grams_per_application=D("0.1")) == D("0.2")
    assert days_supply(D(15), 2, grams_per_application=D("0.1")) == 75


def test_days_supply_wants_an_area_or_grams_but_not_both():
    refused("area", days_supply, D(30), 2)
    refused("area", days_supply, D(30), 2, area=Area.ONE_ARM, grams_per_application=D(1))
    message = refused("area", days_supply, D(30), 2, area="whole_face")
    assert message.startswith("must be one of face_and_neck, one_arm,")


@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        ((D(0), 2), {"area": Area.ONE_ARM}, "grams"),
        ((30.0, 2), {"area": Area.ONE_ARM}, "grams"),
        ((D(1), 2), {"area": Area.ONE_ARM}, "grams"),  # not one day's use
        ((D(30), 0), {"area": Area.ONE_ARM}, "applications_per_day"),
        ((D(30), 13), {"area": Area.ONE_ARM}, "applications_per_day"),
        ((D(30), True), {"area": Area.ONE_ARM}, "applications_per_day"),
        ((D(30), 2), {"grams_per_application": D(0)}, "grams_per_application"),
    ],
)
def test_bad_days_supply_input_is_refused(args, kwargs, field):
    refused(field, days_supply, *args, **kwargs)


def test_less_than_one_days_use_says_how_much_a_day_is():
    message = refused("grams", days_supply, D(2), 2, area=Area.FACE_AND_NECK)
    assert message == "2.000 g does not last one day at 2.500 g a day"


# --- refill due and the timeline -----------------------------------------------------------


def test_fill_day_is_the_first_covered_day():
    [span] = supply_timeline([Fill(JAN[1], 12)])
    assert (span.first_day, span.last_day, span.carried_days) == (JAN[1], JAN[12], 0)
    assert runs_out_on([Fill(JAN[1], 12)]) == JAN[13]


def test_refill_is_due_the_day_supply_runs_out_less_the_lead_time():
    fills = [Fill(JAN[1], 12)]
    assert refill_due(fills) == JAN[13]
    assert refill_due(fills, lead_days=3) == JAN[10]


def test_refill_is_never_due_before_the_latest_fill():
    assert refill_due([Fill(JAN[1], 3)], lead_days=7) == JAN[1]


def test_early_refill_overlap_is_carried_forward():
    spans = supply_timeline([Fill(JAN[1], 12), Fill(JAN[10], 12)])
    assert [(s.first_day, s.last_day) for s in spans] == [(JAN[1], JAN[12]), (JAN[13], JAN[24])]
    assert spans[1].carried_days == 3
    assert runs_out_on([Fill(JAN[1], 12), Fill(JAN[10], 12)]) == JAN[25]
    assert refill_due([Fill(JAN[1], 12), Fill(JAN[10], 12)], lead_days=5) == JAN[20]


def test_refill_after_a_gap_starts_on_its_fill_day():
    spans = supply_timeline([Fill(JAN[20], 5), Fill(JAN[1], 12)])  # given out of order
    assert [(s.first_day, s.last_day) for s in spans] == [(JAN[1], JAN[12]), (JAN[20], JAN[24])]


def test_two_fills_on_one_day_are_used_one_after_the_other():
    spans = supply_timeline([Fill(JAN[1], 12), Fill(JAN[1], 12)])
    assert [(s.first_day, s.last_day) for s in spans] == [(JAN[1], JAN[12]), (JAN[13], JAN[24])]


def test_bad_fills_are_refused():
    refused("fills", runs_out_on, [])
    refused("fills[0]", supply_timeline, [(JAN[1], 12)])
    refused("fills[1].days_supply", supply_timeline, [Fill(JAN[1], 12), Fill(JAN[2], 0)])
    refused("fills[0].filled_on", supply_timeline, [Fill("2026-01-01", 12)])
    refused("lead_days", refill_due, [Fill(JAN[1], 12)], lead_days=-1)


# --- a fill against its batch's BUD ------------------------------------------------------


def test_fill_within_the_bud_fits():
    fit = fit_within_bud(D(30), 2, area=Area.FACE_AND_NECK, filled_on=JAN[1], bud=JAN[14])
    assert (fit.fits, fit.days_supply, fit.usable_days, fit.suggested_g) == (True, 12, 14, D(30))


def test_fill_outlasting_the_bud_suggests_a_smaller_quantity():
    fit = fit_within_bud(D(50), 2, area=Area.FACE_AND_NECK, filled_on=JAN[1], bud=JAN[14])
    assert (fit.fits, fit.days_supply, fit.usable_days, fit.suggested_g) == (False, 20, 14, D(35))
    assert fit.message == (
        "50.000 g lasts 20 days, past the BUD 2026-01-14 (14 days of use from 2026-01-01); "
        "dispense at most 35.000 g (14 days × 2.5 g a day)"
    )
    assert days_supply(fit.suggested_g, 2, area=Area.FACE_AND_NECK) == fit.usable_days


def test_supply_left_over_under_one_days_use_still_fits():
    fit = fit_within_bud(D(36), 2, area=Area.FACE_AND_NECK, filled_on=JAN[1], bud=JAN[14])
    assert fit.fits and fit.days_supply == 14  # 14.4 days: the 1 g left is not a day's use


def test_early_refill_starts_later_so_less_fits_within_the_bud():
    # The last fill's supply runs to 5 January; this refill's is used from 6 January.
    fit = fit_within_bud(
        D(30), 2, area=Area.FACE_AND_NECK, filled_on=JAN[1], bud=JAN[14], starts_on=JAN[6]
    )
    assert (fit.fits, fit.usable_days, fit.suggested_g) == (False, 9, D("22.5"))


def test_supply_on_hand_past_the_bud_leaves_nothing_to_dispense():
    fit = fit_within_bud(
        D(30), 2, area=Area.FACE_AND_NECK, filled_on=JAN[1], bud=JAN[14], starts_on=JAN[20]
    )
    assert (fit.fits, fit.usable_days, fit.suggested_g) == (False, 0, D(0))
    assert "none of 30.000 g would be used in time" in fit.message


def test_bud_before_the_fill_is_refused():
    kwargs = {"area": Area.FACE_AND_NECK, "filled_on": JAN[15], "bud": JAN[14]}
    refused("bud", fit_within_bud, D(30), 2, **kwargs)
    kwargs = {"area": Area.FACE_AND_NECK, "filled_on": JAN[5], "bud": JAN[14]}
    refused("starts_on", fit_within_bud, D(30), 2, **kwargs, starts_on=JAN[4])


# --- properties ------------------------------------------------------------------------

areas = st.sampled_from(list(Area))
quantities = st.decimals(min_value=D(7), max_value=D(500), places=1)  # 7 g: a day at most


@fast
@given(grams=quantities, more=st.decimals(0, 100, places=1), area=areas, times=st.integers(1, 2))
def test_days_supply_never_falls_as_grams_rise(grams, more, area, times):
    assert days_supply(grams + more, times, area=area) >= days_supply(grams, times, area=area)


@fast
@given(grams=quantities, area=areas, times=st.integers(1, 2))
def test_days_supply_is_the_whole_days_the_grams_last(grams, area, times):
    days, per_day = days_supply(grams, times, area=area), daily_use(times, area=area)
    assert days * per_day <= grams < (days + 1) * per_day


@fast
@given(fills=fills(min_size=1))
def test_carrying_overlap_forward_never_loses_supply(fills):
    spans = supply_timeline(fills)
    assert sum((s.last_day - s.first_day).days + 1 for s in spans) == sum(
        f.days_supply for f in fills
    )
    assert all(s.first_day >= s.fill.filled_on for s in spans)
    assert all(a.last_day < b.first_day for a, b in zip(spans, spans[1:], strict=False))
    assert runs_out_on(fills) >= max(f.filled_on for f in fills) + timedelta(days=1)


@fast
@given(
    grams=quantities,
    area=areas,
    filled=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
    bud_after=st.integers(0, 200),
)
def test_suggested_quantity_never_outlasts_the_bud(grams, area, filled, bud_after):
    bud = filled + timedelta(days=bud_after)
    fit = fit_within_bud(grams, 2, area=area, filled_on=filled, bud=bud)
    assert fit.suggested_g <= grams
    if fit.suggested_g >= daily_use(2, area=area):
        assert days_supply(fit.suggested_g, 2, area=area) <= fit.usable_days
