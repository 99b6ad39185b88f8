"""The compounding calculation engine: the worked examples of clinical.md §5, our own
computed examples, bad input, and properties (targets sum to the batch; a batch scales every
component alike)."""

from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarrx.pharmacy.calculations import (
    MASS_QUANTUM,
    Component,
    aliquot,
    alligation,
    batch_masses,
    batch_yield,
    check_weight,
    correction_factor,
    minimum_weighable_quantity,
    salt_to_base_factor,
)
from tests.refusals import refused

SCAR_GEL = [Component("pentoxifylline", D(1)), Component("tranexamic acid", D(3))]
SILICONE = "silicone gel base"


def test_30_g_pentoxifylline_and_tranexamic_acid_in_silicone_base():
    batch = batch_masses(SCAR_GEL, dispensed_g=D(30), base=SILICONE)
    assert [m.target_g for m in batch.components] == [D("0.300"), D("0.900"), D("28.800")]
    assert [m.name for m in batch.components] == ["pentoxifylline", "tranexamic acid", SILICONE]
    assert batch["pentoxifylline"].calculation == "0.300 g = 1 % × 30.000 g"
    assert batch.base.calculation == "28.800 g = 30.000 g − 0.300 g − 0.900 g"
    assert batch.calculation.splitlines() == [
        "batch 30.000 g = 30.000 g dispensed, no wastage",
        "pentoxifylline 1 % w/w: 0.300 g = 1 % × 30.000 g",
        "tranexamic acid 3 % w/w: 0.900 g = 3 % × 30.000 g",
        "silicone gel base (quantum sufficit): 28.800 g = 30.000 g − 0.300 g − 0.900 g",
        "total 30.000 g",
    ]
    assert batch.warnings == ()


def test_88_percent_assay_gives_factor_1_1364():
    assert correction_factor(D(88)).quantize(D("0.0001")) == D("1.1364")
    assert correction_factor() == 1


def test_weigh_more_of_an_impure_active_and_the_base_takes_the_difference():
    components = [Component("pentoxifylline", D(1), assay_percent=D(88))]
    batch = batch_masses(components, dispensed_g=D(30), base=SILICONE)
    # 0.3 g × 100/88 = 0.340909… g, carried to 1 ng
    assert batch["pentoxifylline"].target_g == D("0.340909091")
    assert batch["pentoxifylline"].shown_g == D("0.341")
    assert batch["pentoxifylline"].calculation == "0.341 g = 1 % × 30.000 g × 100/88 (assay)"
    assert batch.base.target_g == D("29.659090909")
    assert batch.base.shown_g == D("29.659")


def test_salt_form_and_assay_corrections_multiply():
    factor = salt_to_base_factor(D("434.5"), D("394.4"))  # an ester weighed for the base
    assert factor.quantize(D("0.0001")) == D("1.1017")
    components = [Component("active", D("0.1"), assay_percent=D(98), salt_factor=factor)]
    batch = batch_masses(components, dispensed_g=D(30), base=SILICONE)
    # 0.03 g × 100/98 × 434.5/394.4
    assert batch["active"].target_g == D("0.033724697")
    assert batch["active"].calculation == (
        "0.034 g = 0.1 % × 30.000 g × 100/98 (assay) × 1.1017… (salt to base)"
    )
    assert batch["active"].factor == correction_factor(D(98), factor)


def test_wastage_makes_a_bigger_batch_and_scales_every_component():
    batch = batch_masses(SCAR_GEL, dispensed_g=D(30), base=SILICONE, wastage_percent=D(5))
    assert batch.batch_g == D("31.5")
    assert [m.target_g for m in batch.components] == [D("0.315"), D("0.945"), D("30.240")]
    assert batch.calculation.splitlines()[0] == (
        "batch 31.500 g = 30.000 g dispensed × (1 + 5 % wastage)"
    )


def test_base_absorbs_the_display_rounding_so_shown_masses_add_up():
    # Each active is 0.0005 g more than a shown milligram: shown half up, all three gain.
    components = [Component(f"active {i}", D("0.0015")) for i in range(3)]
    batch = batch_masses(components, dispensed_g=D(100), base=SILICONE)
    assert [m.shown_g for m in batch.components[:3]] == [D("0.002")] * 3
    assert batch.base.target_g == D("99.9955")
    assert batch.base.shown_g == D("99.994")  # not 99.996 (its own rounding)
    assert sum(m.shown_g for m in batch.components) == D("100.000")


def test_strengths_at_100_percent_leave_no_room_for_the_base():
    components = [Component("a", D(60)), Component("b", D(40))]
    message = refused("components", batch_masses, components, dispensed_g=D(30), base=SILICONE)
    assert message == "the strengths add up to 100 %, leaving no room for the base"


def test_corrected_actives_that_outweigh_the_batch_are_refused():
    components = [Component("weak extract", D(60), assay_percent=D(50))]
    message = refused("components", batch_masses, components, dispensed_g=D(30), base=SILICONE)
    assert "leaving no room for the base in a 30.000 g batch" in message


def test_without_a_base_the_strengths_must_make_100_percent():
    two_bases = [Component("silicone gel", D(70)), Component("petrolatum", D(30))]
    batch = batch_masses(two_bases, dispensed_g=D(50), base=None)
    assert [m.target_g for m in batch.components] == [D(35), D(15)]
    assert batch.base is None
    short = [Component("silicone gel", D(70)), Component("petrolatum", D(20))]
    message = refused("components", batch_masses, short, dispensed_g=D(50), base=None)
    assert "must add up to 100 %; they add up to 90 %" in message


def test_without_a_base_no_correction_can_be_absorbed():
    components = [Component("silicone gel", D(70), assay_percent=D(95)), Component("b", D(30))]
    refused("components[0].assay_percent", batch_masses, components, dispensed_g=D(50), base=None)


@pytest.mark.parametrize(
    ("components", "given", "field"),
    [
        (SCAR_GEL, {"dispensed_g": D(0)}, "dispensed_g"),
        (SCAR_GEL, {"dispensed_g": D(-30)}, "dispensed_g"),
        (SCAR_GEL, {"dispensed_g": 30.0}, "dispensed_g"),
        (SCAR_GEL, {"dispensed_g": D(10) ** 7}, "dispensed_g"),
        ([Component("pentoxifylline", D(0))], {}, "components[0].strength_percent"),
        ([Component("pentoxifylline", D(-1))], {}, "components[0].strength_percent"),
        ([Component("pentoxifylline", D(1), D(0))], {}, "components[0].assay_percent"),
        ([Component("pentoxifylline", D(1), D(101))], {}, "components[0].assay_percent"),
        ([Component("tretinoin", D(1), D(99), D("0.9"))], {}, "components[0].salt_factor"),
        ([Component(" ", D(1))], {}, "components[0].name"),
        ([Component("a", D(1)), Component("a", D(2))], {}, "components[1].name"),
        ([Component(SILICONE, D(1))], {}, "components[0].name"),
        ([("pentoxifylline", D(1))], {}, "components[0]"),
        (SCAR_GEL, {"wastage_percent": D(-1)}, "wastage_percent"),
        (SCAR_GEL, {"wastage_percent": D(101)}, "wastage_percent"),
        (SCAR_GEL, {"base": ""}, "base"),
        (SCAR_GEL, {"minimum_weighable_g": D(0)}, "minimum_weighable_g"),
    ],
)
def test_bad_batch_input_is_refused_naming_the_field(components, given, field):
    refused(field, batch_masses, components, **{"dispensed_g": D(30), "base": SILICONE, **given})


def test_minimum_weighable_quantity_6_mg_at_5_percent_is_120_mg():
    assert minimum_weighable_quantity(D("0.006"), D(5)) == D("0.120")


def test_minimum_weighable_quantity_rounds_up_since_it_is_a_floor():
    assert minimum_weighable_quantity(D("0.001"), D(3)) == D("0.033333334")


def test_aliquot_for_30_mg_with_a_120_mg_minimum():
    result = aliquot(D("0.030"), D("0.120"), ingredient="tretinoin", diluent="base")
    assert (result.weigh_g, result.dilute_to_g, result.take_g, result.parts) == (
        D("0.120"),
        D("0.480"),
        D("0.120"),
        4,
    )
    assert result.diluent_g == D("0.360")
    assert result.sentence == (
        "Weigh 0.120 g of tretinoin, mix it with 0.360 g of base to make 0.480 g (1 part in "
        "4), and take 0.120 g of the mixture: it holds 0.030 g of tretinoin and 0.090 g of base."
    )


def test_aliquot_just_under_the_minimum_still_dilutes_at_least_1_in_2():
    result = aliquot(D("0.100"), D("0.120"))
    assert (result.weigh_g, result.dilute_to_g, result.take_g) == (D("0.120"), D("0.240"), D("0.2"))
    assert result.diluent_g >= D("0.120")


def test_aliquot_is_only_for_quantities_below_the_minimum():
    assert "weighed directly" in refused("quantity_g", aliquot, D("0.120"), D("0.120"))


def test_batch_warns_per_component_below_the_minimum_and_suggests_an_aliquot():
    components = [Component("tretinoin", D("0.1")), Component("tranexamic acid", D(3))]
    batch = batch_masses(
        components, dispensed_g=D(30), base="aqueous gel base", minimum_weighable_g=D("0.120")
    )
    [warning] = batch.warnings
    assert (warning.name, warning.target_g) == ("tretinoin", D("0.03"))
    assert warning.aliquot == aliquot(
        D("0.03"), D("0.120"), ingredient="tretinoin", diluent="aqueous gel base"
    )
    assert warning.message.startswith(
        "tretinoin: 0.030 g is below the minimum weighable quantity of 0.120 g; weigh it by "
        "aliquot. Weigh 0.120 g of tretinoin, mix it with 0.360 g of aqueous gel base"
    )
    assert warning.message.endswith("Weigh 0.090 g less aqueous gel base.")


def test_a_base_below_the_minimum_asks_for_a_larger_batch():
    components = [Component("silicone gel", D("99.9"))]
    batch = batch_masses(components, dispensed_g=D(1), base="oil", minimum_weighable_g=D("0.01"))
    [warning] = batch.warnings
    assert warning.name == "oil" and warning.aliquot is None
    assert warning.message.endswith("make a larger batch.")


def test_alligation_10_and_2_percent_to_5_percent_is_3_parts_to_5():
    result = alligation(D(10), D(2), D(5), total_g=D(30))
    assert (result.parts_high, result.parts_low) == (D(3), D(5))
    assert (result.high_g, result.low_g) == (D("11.25"), D("18.75"))
    assert result.calculation == (
        "parts of 10 %: 5 − 2 = 3; parts of 2 %: 10 − 5 = 5; 30.000 g × 3/8 = 11.250 g of "
        "10 % and 30.000 g − 11.250 g = 18.750 g of 2 %"
    )


def test_alligation_with_plain_base_as_the_low_strength():
    result = alligation(D(5), D(0), D(1), total_g=D(30))
    assert (result.parts_high, result.parts_low, result.high_g, result.low_g) == (
        D(1),
        D(4),
        D(6),
        D(24),
    )


def test_alligation_masses_always_add_up_to_the_total():
    result = alligation(D(7), D(1), D(2), total_g=D(10))  # 1/6 of 10 g does not terminate
    assert result.high_g == D("1.666666667")
    assert result.high_g + result.low_g == 10


@pytest.mark.parametrize(
    ("high", "low", "target", "field"),
    [
        (D(5), D(1), D(5), "target_percent"),
        (D(5), D(1), D(1), "target_percent"),
        (D(5), D(1), D(6), "target_percent"),
        (D(5), D(6), D(5), "low_percent"),
        (D(5), D(-1), D(2), "low_percent"),
        (D(101), D(1), D(2), "high_percent"),
    ],
)
def test_alligation_target_must_lie_between_the_strengths(high, low, target, field):
    refused(field, alligation, high, low, target)


@pytest.mark.parametrize(
    ("actual", "within", "text"),
    [
        (
            D("0.310"),
            True,
            "actual 0.310 g against target 0.300 g: +3.3 % (tolerance ±5 %): within",
        ),
        (
            D("0.315"),
            True,
            "actual 0.315 g against target 0.300 g: +5.0 % (tolerance ±5 %): within",
        ),
        (
            D("0.316"),
            False,
            "actual 0.316 g against target 0.300 g: +5.3 % (tolerance ±5 %): OUTSIDE",
        ),
        (
            D("0.284"),
            False,
            "actual 0.284 g against target 0.300 g: -5.3 % (tolerance ±5 %): OUTSIDE",
        ),
    ],
)
def test_actual_weight_is_flagged_outside_tolerance(actual, within, text):
    result = check_weight(D("0.300"), actual, tolerance_percent=D(5))
    assert result.within is within
    assert result.calculation == f"{text} tolerance"


def test_weight_check_refuses_a_missing_or_negative_actual():
    refused("actual_g", check_weight, D("0.3"), D(0), tolerance_percent=D(5))
    refused("tolerance_percent", check_weight, D("0.3"), D("0.3"), tolerance_percent=D(0))


def test_yield_is_final_weight_over_batch_weight():
    result = batch_yield(D("29.0"), D("30.0"))
    assert result.percent.quantize(D("0.01")) == D("96.67")
    assert result.calculation == "96.7 % = 29.000 g ÷ 30.000 g × 100"
    assert batch_yield(D("31.5"), D("31.5")).percent == 100


def test_salt_factor_refuses_inverted_weights():
    refused("mw_salt", salt_to_base_factor, D(300), D(400))


# --- properties ------------------------------------------------------------------------

strengths = st.decimals(min_value=D("0.01"), max_value=D(5), places=2)
grams = st.decimals(min_value=D("0.5"), max_value=D(5000), places=3)
assays = st.decimals(min_value=D(80), max_value=D(100), places=1)
factors = st.decimals(min_value=D(1), max_value=D("1.5"), places=4)
fast = settings(max_examples=100, database=None)


@st.composite
def formulas(draw, corrected=True):
    count = draw(st.integers(1, 4))
    return [
        Component(
            f"active {i}",
            draw(strengths),
            draw(assays) if corrected else D(100),
            draw(factors) if corrected else D(1),
        )
        for i in range(count)
    ]


@fast
@given(components=formulas(), dispensed=grams, wastage=st.decimals(0, 20, places=1))
def test_target_masses_sum_exactly_to_the_batch_mass(components, dispensed, wastage):
    batch = batch_masses(components, dispensed_g=dispensed, base=SILICONE, wastage_percent=wastage)
    assert sum(m.target_g for m in batch.components) == batch.batch_g
    assert sum(m.shown_g for m in batch.components) == batch.batch_g.quantize(
        D("0.001"), ROUND_HALF_UP
    )
    assert all(m.target_g > 0 for m in batch.components)


@fast
@given(components=formulas(corrected=False), dispensed=grams, times=st.integers(2, 10))
def test_scaling_a_batch_scales_every_component_alike(components, dispensed, times):
    one = batch_masses(components, dispensed_g=dispensed, base=SILICONE)
    many = batch_masses(components, dispensed_g=dispensed * times, base=SILICONE)
    assert [m.target_g for m in many.components] == [m.target_g * times for m in one.components]


@fast
@given(components=formulas(), dispensed=grams, times=st.integers(2, 10))
def test_scaling_a_corrected_batch_scales_every_component_within_a_nanogram(
    components, dispensed, times
):
    one = batch_masses(components, dispensed_g=dispensed, base=SILICONE)
    many = batch_masses(components, dispensed_g=dispensed * times, base=SILICONE)
    slack = MASS_QUANTUM * times * (len(components) + 1)
    for small, large in zip(one.components, many.components, strict=True):
        assert abs(large.target_g - small.target_g * times) <= slack


@fast
@given(components=formulas(), dispensed=grams, wastage=st.decimals(1, 50, places=1))
def test_wastage_scales_every_component_by_the_same_factor(components, dispensed, wastage):
    plain = batch_masses(components, dispensed_g=dispensed, base=SILICONE)
    wasted = batch_masses(components, dispensed_g=dispensed, base=SILICONE, wastage_percent=wastage)
    scale = 1 + wastage / 100
    slack = MASS_QUANTUM * 10 * (len(components) + 1)
    for small, large in zip(plain.components, wasted.components, strict=True):
        assert abs(large.target_g - small.target_g * scale) <= slack


@fast
@given(quantity=st.decimals(D("0.001"), D("0.119"), places=3), minimum=st.just(D("0.120")))
def test_every_aliquot_weighing_is_at_or_above_the_minimum(quantity, minimum):
    result = aliquot(quantity, minimum)
    assert min(result.weigh_g, result.diluent_g, result.take_g) >= minimum
    assert result.take_g * result.weigh_g == quantity * result.dilute_to_g  # holds the quantity
