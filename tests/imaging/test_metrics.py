"""Redness, pigment and ITA of regions (clinical.md §8), regions refused, pits."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarrx.imaging.calibrate import Correction, calibrate
from scarrx.imaging.chart import find_chart, sample_patches
from scarrx.imaging.correction import ToneCurve
from scarrx.imaging.decode import decode
from scarrx.imaging.errors import ImagingError
from scarrx.imaging.metrics import (
    ITA_BANDS,
    as_polygon,
    colour_of,
    difference,
    erythema_index,
    ita_band,
    ita_degrees,
    melanin_index,
    pit_measure,
    region_colour,
)
from scarrx.imaging.version import ALGORITHM_VERSION

IDENTITY = Correction("matrix3x3", ToneCurve.identity(), np.eye(3))
quick = settings(max_examples=200, deadline=None, database=None)


def test_erythema_and_melanin_index_of_a_known_colour():
    rgb = np.array([0.5, 0.25, 0.2])
    assert erythema_index(rgb) == pytest.approx(100 * math.log10(2))  # 30.103
    assert melanin_index(rgb) == pytest.approx(100 * math.log10(2))


def test_white_is_neutral_and_very_light():
    white = colour_of(np.array([1.0, 1.0, 1.0]))
    assert white.lab == pytest.approx([100.0, 0.0, 0.0], abs=0.01)
    assert (white.erythema_index, white.melanin_index) == (0.0, 0.0)
    assert white.ita_deg == pytest.approx(90.0, abs=0.01)
    assert white.ita_band == "very light"


def test_ita_of_hand_computed_colours():
    assert ita_degrees(np.array([60.0, 12.0, 10.0])) == pytest.approx(45.0)
    assert ita_degrees(np.array([50.0, 20.0, 18.0])) == pytest.approx(0.0)
    assert ita_degrees(np.array([40.0, 10.0, 10.0 * math.sqrt(3)])) == pytest.approx(-30.0)
    assert ita_degrees(np.array([70.0, 5.0, 0.0])) == pytest.approx(90.0)  # b* = 0 defined


@pytest.mark.parametrize(
    ("ita", "band"),
    [
        (55.01, "very light"),
        (55.0, "light"),
        (41.01, "light"),
        (41.0, "intermediate"),
        (28.0, "tan"),
        (10.01, "tan"),
        (10.0, "brown"),
        (-29.99, "brown"),
        (-30.0, "dark"),
        (-80.0, "dark"),
    ],
)
def test_ita_band_boundaries(ita, band):
    assert ita_band(ita) == band


ORDER = ["dark"] + [band for _, band in reversed(ITA_BANDS)]


@quick
@given(st.floats(-90, 90), st.floats(-90, 90))
def test_ita_band_never_gets_darker_as_ita_rises(a, b):
    low, high = sorted((a, b))
    assert ORDER.index(ita_band(low)) <= ORDER.index(ita_band(high))


@quick
@given(st.floats(0.01, 1.0), st.floats(0.01, 1.0), st.floats(0.01, 1.0))
def test_erythema_index_is_positive_exactly_when_red_exceeds_green(r, g, b):
    ei = erythema_index(np.array([r, g, b]))
    assert (ei > 0) == (r > g) and (ei < 0) == (r < g)


@quick
@given(st.floats(0.01, 0.99), st.floats(0.001, 0.5))
def test_more_red_reflectance_means_less_melanin(r, extra):
    assert melanin_index(np.array([r, 0.3, 0.3])) > melanin_index(
        np.array([min(1, r + extra), 0.3, 0.3])
    )


def test_difference_is_scar_minus_reference():
    scar, skin = colour_of(np.array([0.45, 0.2, 0.15])), colour_of(np.array([0.4, 0.25, 0.18]))
    diff = difference(scar, skin)
    assert diff["a_star"] == pytest.approx(scar.lab[1] - skin.lab[1], abs=1e-3)
    assert diff["erythema_index"] == pytest.approx(
        scar.erythema_index - skin.erythema_index, abs=1e-3
    )
    assert diff["a_star"] > 0 and diff["melanin_index"] < 0


def test_region_colour_is_the_mean_of_its_pixels_in_linear_light():
    rgb = np.zeros((40, 40, 3), dtype=np.uint8)
    rgb[:, :20] = (255, 255, 255)  # half white, half black
    square = [(0, 0), (39, 0), (39, 39), (0, 39)]
    measured = region_colour(rgb, square, IDENTITY, "roi")
    assert measured.linear_rgb == pytest.approx([0.5, 0.5, 0.5], abs=0.02)


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([(1, 1), (5, 5)], "roi region needs at least 3"),
        ([(1, 1), (5, 5), (900, 5)], r"roi region: point \(900, 5\) lies outside the 100x80"),
        ([(1, 1), (5, 5), (5, -3)], "outside"),
        ([(1, 1), (5, float("nan")), (5, 3)], "finite"),
        ("not points", "X,Y"),
    ],
)
def test_bad_regions_are_refused_naming_the_region(points, message):
    with pytest.raises(ImagingError, match=message):
        as_polygon(points, 100, 80, "roi")


def test_tiny_region_is_refused_naming_it():
    rgb = np.full((50, 50, 3), 120, dtype=np.uint8)
    with pytest.raises(ImagingError, match="reference region is too small"):
        region_colour(rgb, [(10, 10), (12, 10), (11, 12)], IDENTITY, "reference")


def test_pits_on_a_phantom_are_counted_and_sized(warm_photo):
    image = decode(warm_photo.jpeg)
    location = find_chart(image)
    correction = calibrate(sample_patches(image.rgb, location)).correction
    pits = pit_measure(image.rgb, warm_photo.roi, correction, location.px_per_mm)
    truth = warm_photo.scene.pits
    assert pits.count == len(truth)
    assert pits.area_mm2 == pytest.approx(sum(p.area_mm2 for p in truth), rel=0.3)
    assert pits.exploratory and pits.algorithm_version == ALGORITHM_VERSION
    assert "exploratory" in pits.as_dict()["label"]


def test_unblemished_skin_has_no_pits(warm_photo):
    image = decode(warm_photo.jpeg)
    location = find_chart(image)
    correction = calibrate(sample_patches(image.rgb, location)).correction
    assert pit_measure(image.rgb, warm_photo.reference, correction, location.px_per_mm).count == 0
