"""Scar scales and patient ratings: worked examples from clinical.md §2–3, band edges, and
properties (scores never fall as counts rise, totals stay in range, bad input is refused)."""

import inspect
import itertools
import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarrx.assessments import scales
from scarrx.assessments.scales import (
    ECCA_ITEMS,
    GB_QUALITATIVE_GRADES,
    GB_QUALITATIVE_QUESTIONS,
    GB_QUANT_TYPES,
    SCAR_S_REGIONS,
    VSS_ITEMS,
    ScaleError,
    bother_rating,
    ecca,
    ecca_grade_from_count,
    gb_count_band,
    gb_qualitative,
    gb_qualitative_suggest,
    gb_quantitative,
    gb_quantitative_breakdown,
    global_impression,
    scar_s,
    scar_s_clinically_relevant,
    scar_s_sum,
    vancouver,
)

COUNTED_ECCA_ITEMS = [key for key in ECCA_ITEMS if key != "elastolysis"]
areas = st.none() | st.decimals(min_value=0, max_value=500, places=2)


def ecca_from_counts(counts, elastolysis_grade=0):
    grades = {key: ecca_grade_from_count(count) for key, count in counts.items()}
    return ecca({**grades, "elastolysis": elastolysis_grade})


def test_scale_versions_are_pinned_because_they_are_stored_with_each_assessment():
    assert scales.GB_QUALITATIVE_VERSION == "goodman-baron-qualitative-2006"
    assert scales.GB_QUANTITATIVE_VERSION == "goodman-baron-quantitative-2006"
    assert scales.ECCA_VERSION == "ecca-2007"
    assert scales.SCAR_S_VERSION == "scar-s-2010"
    assert scales.VSS_VERSION == "vancouver-1990"


def test_scale_error_names_the_field_and_reads_as_plain_english():
    with pytest.raises(ScaleError) as caught:
        gb_quantitative({"B1": -1})
    assert isinstance(caught.value, ValueError)
    assert caught.value.field == "gb_quantitative.B1"
    assert "0 or more" in caught.value.message
    assert str(caught.value).startswith("gb_quantitative.B1: ")


# --- Goodman & Baron qualitative ---------------------------------------------------------

NO_SCARS = {
    "any_scarring": False,
    "contour_change": False,
    "visible_at_50cm": False,
    "easily_covered": True,
    "flattens_on_stretch": True,
    "severe_raised": False,
}
SCARS = {**NO_SCARS, "any_scarring": True, "contour_change": True}


@pytest.mark.parametrize(
    ("answers", "grade"),
    [
        pytest.param(NO_SCARS, None, id="no-scarring-is-not-grade-0"),
        pytest.param({**NO_SCARS, "any_scarring": True}, 1, id="colour-only-is-macular"),
        pytest.param(SCARS, 2, id="hidden-at-50cm-and-covered-is-mild"),
        pytest.param({**SCARS, "visible_at_50cm": True, "easily_covered": False}, 3, id="moderate"),
        pytest.param(
            {**SCARS, "visible_at_50cm": True, "flattens_on_stretch": False},
            4,
            id="not-flattening-is-severe",
        ),
        pytest.param(
            {**SCARS, "severe_raised": True, "visible_at_50cm": True, "easily_covered": False},
            4,
            id="keloid-is-severe",
        ),
        pytest.param({**SCARS, "visible_at_50cm": True}, 3, id="mixed-takes-the-higher-grade"),
        pytest.param({**SCARS, "easily_covered": False}, 3, id="uncoverable-takes-higher-grade"),
    ],
)
def test_gb_qualitative_decision_aid_suggests_the_grade(answers, grade):
    assert gb_qualitative_suggest(**answers) == grade


def test_gb_qualitative_suggestion_is_always_a_grade_or_no_scarring():
    names = [name for name, _ in GB_QUALITATIVE_QUESTIONS]
    assert set(names) == set(inspect.signature(gb_qualitative_suggest).parameters)
    for values in itertools.product([False, True], repeat=len(names)):
        try:
            suggestion = gb_qualitative_suggest(**dict(zip(names, values, strict=True)))
        except ScaleError as error:
            assert error.field.removeprefix("gb_qualitative.") in names
        else:
            assert suggestion is None or suggestion in GB_QUALITATIVE_GRADES


def test_gb_qualitative_decision_aid_refuses_no_scarring_with_scars_described():
    with pytest.raises(ScaleError) as caught:
        gb_qualitative_suggest(**{**NO_SCARS, "severe_raised": True})
    assert caught.value.field == "gb_qualitative.any_scarring"


@pytest.mark.parametrize(
    ("contradiction", "named"),
    [
        ({"visible_at_50cm": False}, "visible_at_50cm"),
        ({"visible_at_50cm": True, "easily_covered": True}, "easily_covered"),
        (
            {"contour_change": False, "visible_at_50cm": True, "easily_covered": False},
            "contour_change",
        ),
    ],
    ids=["not-visible-at-50cm", "easily-covered", "surface-unchanged"],
)
def test_gb_qualitative_decision_aid_refuses_severe_raised_scars_it_contradicts(
    contradiction, named
):
    answers = {**SCARS, "severe_raised": True, "easily_covered": False, "visible_at_50cm": True}
    with pytest.raises(ScaleError) as caught:
        gb_qualitative_suggest(**answers | contradiction)
    assert caught.value.field == f"gb_qualitative.{named}"


def test_gb_qualitative_decision_aid_wants_yes_or_no_answers():
    with pytest.raises(ScaleError) as caught:
        gb_qualitative_suggest(**{**SCARS, "easily_covered": "no"})
    assert caught.value.field == "gb_qualitative.easily_covered"


def test_gb_qualitative_grades_are_macular_to_severe():
    assert GB_QUALITATIVE_GRADES == {1: "macular", 2: "mild", 3: "moderate", 4: "severe"}
    assert [gb_qualitative(grade) for grade in (1, 2, 3, 4)] == [1, 2, 3, 4]


# --- Goodman & Baron quantitative --------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "area", "score"),
    [
        pytest.param({"A1": 8, "A2": 15, "B2": 5}, None, 5, id="macular-and-mild"),
        pytest.param({"C1": 25, "B1": 12, "D1": 3}, Decimal("3"), 21, id="small-raised-area"),
        pytest.param({"B3": 11, "C3": 10, "C4": 21}, 5, 28, id="area-of-exactly-5-scores-12"),
        pytest.param({}, None, 0, id="nothing"),
        pytest.param(dict.fromkeys(GB_QUANT_TYPES, 21), 21.0, 84, id="maximum"),
    ],
)
def test_gb_quantitative_worked_examples(counts, area, score):
    assert gb_quantitative(counts, area) == score


def test_gb_quantitative_breakdown_shows_points_per_type_in_table_order():
    points = gb_quantitative_breakdown({"C1": 25, "B1": 12, "D1": 3}, Decimal("3"))
    assert list(points) == [*GB_QUANT_TYPES, "D2"]
    assert {key: value for key, value in points.items() if value} == {
        "B1": 4,
        "C1": 9,
        "D1": 2,
        "D2": 6,
    }
    assert sum(points.values()) == 21


@pytest.mark.parametrize(
    ("count", "band"), [(0, 0), (1, 1), (10, 1), (11, 2), (20, 2), (21, 3), (500, 3)]
)
def test_gb_count_band_edges(count, band):
    assert gb_count_band(count) == band


@pytest.mark.parametrize(
    ("area", "points"),
    [
        (None, 0),
        (0, 0),
        (Decimal("0.1"), 6),
        (4.99, 6),
        (Decimal("5"), 12),
        (5.0, 12),
        (Decimal("20"), 12),
        (Decimal("20.01"), 18),
        (300, 18),
    ],
)
def test_gb_hypertrophic_area_bands_count_5_and_20_as_the_middle_band(area, points):
    assert gb_quantitative_breakdown({}, area)["D2"] == points


@pytest.mark.parametrize(
    "area", [-1, Decimal("-0.01"), math.nan, math.inf, Decimal("NaN"), "5", True]
)
def test_gb_hypertrophic_area_must_be_a_real_area(area):
    with pytest.raises(ScaleError) as caught:
        gb_quantitative({}, area)
    assert caught.value.field == "gb_quantitative.D2"


@pytest.mark.parametrize(("key", "field"), [("D2", "D2"), ("E1", "E1"), ("a1", "a1")])
def test_gb_quantitative_refuses_unknown_scar_types(key, field):
    with pytest.raises(ScaleError) as caught:
        gb_quantitative({key: 3})
    assert caught.value.field == f"gb_quantitative.{field}"


@given(
    counts=st.dictionaries(st.sampled_from(list(GB_QUANT_TYPES)), st.integers(0, 60)),
    area=areas,
    key=st.sampled_from(list(GB_QUANT_TYPES)),
    more=st.integers(1, 30),
    more_area=st.decimals(min_value=0, max_value=50, places=2),
)
def test_gb_quantitative_never_falls_when_a_count_or_area_rises(counts, area, key, more, more_area):
    before = gb_quantitative(counts, area)
    assert gb_quantitative({**counts, key: counts.get(key, 0) + more}, area) >= before
    assert gb_quantitative(counts, (area or 0) + more_area) >= before


@given(
    counts=st.dictionaries(st.sampled_from(list(GB_QUANT_TYPES)), st.integers(0, 10_000)),
    area=areas,
)
def test_gb_quantitative_stays_within_0_to_84(counts, area):
    assert 0 <= gb_quantitative(counts, area) <= 84


# --- ECCA --------------------------------------------------------------------------------


def test_ecca_worked_example_from_counts():
    assert ecca_from_counts({"V": 12, "U": 3}) == 50


def test_ecca_worked_examples_from_grades():
    grades = {"V": 3, "U": 2, "M": 2, "elastolysis": 1, "hypertrophic_recent": 1}
    assert ecca(grades) == 205
    assert ecca(dict.fromkeys(ECCA_ITEMS, 3)) == 540
    assert ecca({}) == 0


def test_ecca_weights_are_15_to_50():
    assert [weight for _, weight in ECCA_ITEMS.values()] == [15, 20, 25, 30, 40, 50]


@pytest.mark.parametrize(
    ("count", "grade"), [(0, 0), (1, 1), (4, 1), (5, 2), (10, 2), (20, 2), (21, 3), (400, 3)]
)
def test_ecca_grade_edges_fewer_than_5_and_5_to_20(count, grade):
    assert ecca_grade_from_count(count) == grade


def test_ecca_refuses_unknown_items():
    with pytest.raises(ScaleError) as caught:
        ecca({"W": 1})
    assert caught.value.field == "ecca.W"


@given(
    counts=st.dictionaries(st.sampled_from(COUNTED_ECCA_ITEMS), st.integers(0, 60)),
    elastolysis=st.integers(0, 3),
    key=st.sampled_from(COUNTED_ECCA_ITEMS),
    more=st.integers(1, 30),
)
def test_ecca_never_falls_when_a_count_rises(counts, elastolysis, key, more):
    before = ecca_from_counts(counts, elastolysis)
    after = ecca_from_counts({**counts, key: counts.get(key, 0) + more}, elastolysis)
    assert after >= before


@given(grades=st.dictionaries(st.sampled_from(list(ECCA_ITEMS)), st.integers(0, 3)))
def test_ecca_stays_within_0_to_540(grades):
    assert 0 <= ecca(grades) <= 540


# --- SCAR-S ------------------------------------------------------------------------------


def test_scar_s_is_stored_per_region_in_region_order():
    assert scar_s({"back": 3, "face": 2}) == {"face": 2, "back": 3}
    assert SCAR_S_REGIONS == ("face", "chest", "back")


def test_scar_s_overall_sum_needs_all_three_regions():
    assert scar_s_sum({"face": 5, "chest": 0, "back": 4}) == 9
    with pytest.raises(ScaleError) as caught:
        scar_s_sum({"face": 5, "back": 4})
    assert caught.value.field == "scar_s.chest"


@pytest.mark.parametrize(
    ("regions", "field"),
    [({}, "scar_s"), ({"neck": 1}, "scar_s.neck"), ({"Face": 1}, "scar_s.Face")],
)
def test_scar_s_refuses_missing_or_unknown_regions(regions, field):
    with pytest.raises(ScaleError) as caught:
        scar_s(regions)
    assert caught.value.field == field


def test_scar_s_mild_or_worse_is_clinically_relevant():
    assert [scar_s_clinically_relevant(grade) for grade in range(6)] == [
        False,
        False,
        True,
        True,
        True,
        True,
    ]


@given(grades=st.tuples(*[st.integers(0, 5)] * 3))
def test_scar_s_sum_stays_within_0_to_15(grades):
    assert 0 <= scar_s_sum(dict(zip(SCAR_S_REGIONS, grades, strict=True))) <= 15


# --- Vancouver ---------------------------------------------------------------------------


def test_vancouver_worked_example():
    assert vancouver(pigmentation=2, vascularity=2, pliability=3, height=2) == 9


def test_vancouver_item_ranges_follow_the_1990_scale():
    assert {item: max(levels) for item, levels in VSS_ITEMS.items()} == {
        "pigmentation": 2,
        "vascularity": 3,
        "pliability": 5,
        "height": 3,
    }
    assert vancouver(pigmentation=2, vascularity=3, pliability=5, height=3) == 13


@given(st.integers(0, 2), st.integers(0, 3), st.integers(0, 5), st.integers(0, 3))
def test_vancouver_stays_within_0_to_13(pigmentation, vascularity, pliability, height):
    total = vancouver(
        pigmentation=pigmentation, vascularity=vascularity, pliability=pliability, height=height
    )
    assert total == pigmentation + vascularity + pliability + height
    assert 0 <= total <= 13


# --- Patient-reported --------------------------------------------------------------------


def test_patient_ratings_accept_their_whole_range():
    assert [bother_rating(value) for value in range(11)] == list(range(11))
    assert [global_impression(value) for value in range(1, 8)] == list(range(1, 8))
    assert scales.GLOBAL_IMPRESSION[1] == "very much better"
    assert scales.GLOBAL_IMPRESSION[4] == "no change"
    assert scales.GLOBAL_IMPRESSION[7] == "very much worse"


# --- Every whole-number input refuses bad values, naming its field -----------------------


def vss_with(item):
    return lambda value: vancouver(**{**dict.fromkeys(VSS_ITEMS, 0), item: value})


WHOLE_NUMBER_INPUTS = [
    pytest.param(gb_qualitative, "gb_qualitative", 1, 4, id="gb-qualitative"),
    pytest.param(lambda v: gb_quantitative({"B1": v}), "gb_quantitative.B1", 0, None, id="gbq"),
    pytest.param(lambda v: gb_quantitative_breakdown({"C4": v}), "gb_quantitative.C4", 0, None),
    pytest.param(gb_count_band, "gb_quantitative.count", 0, None, id="gb-band"),
    pytest.param(lambda v: ecca({"U": v}), "ecca.U", 0, 3, id="ecca-grade"),
    pytest.param(lambda v: ecca({"elastolysis": v}), "ecca.elastolysis", 0, 3, id="elastolysis"),
    pytest.param(ecca_grade_from_count, "ecca.count", 0, None, id="ecca-count"),
    pytest.param(lambda v: ecca_grade_from_count(v, field="ecca.V"), "ecca.V", 0, None),
    pytest.param(lambda v: scar_s({"chest": v}), "scar_s.chest", 0, 5, id="scar-s"),
    pytest.param(scar_s_clinically_relevant, "scar_s", 0, 5, id="scar-s-relevant"),
    *[pytest.param(vss_with(item), f"vancouver.{item}", 0, max(levels), id=item)
      for item, levels in VSS_ITEMS.items()],
    pytest.param(bother_rating, "bother_rating", 0, 10, id="bother"),
    pytest.param(global_impression, "global_impression", 1, 7, id="global-impression"),
]  # fmt: skip


def bad_values(low, high):
    too_high = st.nothing() if high is None else st.integers(min_value=high + 1)
    return st.one_of(
        st.integers(max_value=low - 1),
        too_high,
        st.booleans(),
        st.floats(),
        st.decimals(),
        st.text(max_size=3),
        st.none(),
    )


@pytest.mark.parametrize(("score", "field", "low", "high"), WHOLE_NUMBER_INPUTS)
@settings(max_examples=40)
@given(data=st.data())
def test_out_of_range_or_non_whole_input_is_refused_not_clamped(score, field, low, high, data):
    value = data.draw(bad_values(low, high))
    with pytest.raises(ScaleError) as caught:
        score(value)
    assert caught.value.field == field
