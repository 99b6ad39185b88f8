"""The numpy colour formulas agree with colour-science, which is not imported at run time."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarrx.imaging.colorimetry import (
    CHART_NAME,
    PATCH_NAMES,
    REFERENCE_LAB,
    REFERENCE_LINEAR_SRGB,
    SRGB_TO_BT2020,
    delta_e2000,
    delta_e2000_metric,
    lab_jacobian,
    lab_to_linear_srgb,
    linear_srgb_to_lab,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import colour

lab_values = st.tuples(st.floats(0, 100), st.floats(-100, 100), st.floats(-100, 100))


def test_reference_values_match_colour_science():
    chart = colour.CCS_COLOURCHECKERS[CHART_NAME]
    assert tuple(chart.data) == PATCH_NAMES
    xyy = np.array(list(chart.data.values()))
    expected = colour.XYZ_to_RGB(
        colour.xyY_to_XYZ(xyy), "sRGB", illuminant=chart.illuminant,
        chromatic_adaptation_transform="Bradford",
    )  # fmt: skip
    # IEC 61966-2-1 gives the sRGB matrix to four decimals; colour-science derives it.
    np.testing.assert_allclose(REFERENCE_LINEAR_SRGB, expected, atol=1e-4)


def test_lab_matches_colour_science():
    xyz = REFERENCE_LINEAR_SRGB @ colour.RGB_COLOURSPACES["sRGB"].matrix_RGB_to_XYZ.T
    d65 = colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"]
    np.testing.assert_allclose(REFERENCE_LAB, colour.XYZ_to_Lab(xyz, d65), atol=1e-3)
    np.testing.assert_allclose(lab_to_linear_srgb(REFERENCE_LAB), REFERENCE_LINEAR_SRGB, atol=1e-9)


def test_sensor_space_matrix_matches_colour_science():
    spaces = colour.RGB_COLOURSPACES
    expected = colour.matrix_RGB_to_RGB(spaces["sRGB"], spaces["ITU-R BT.2020"])
    np.testing.assert_allclose(SRGB_TO_BT2020, expected, atol=1e-3)


def test_delta_e2000_on_sharma_test_pairs():
    # Sharma, Wu & Dalal 2005, Table 1, pairs 1, 7, 17 and 25.
    a = np.array([[50, 2.6772, -79.7751], [50, 0, 0], [50, 2.5, 0], [60.2574, -34.0099, 36.2677]])
    b = np.array([[50, 0, -82.7485], [50, -1, 2], [73, 25, -18], [60.4626, -34.1751, 39.4387]])
    np.testing.assert_allclose(delta_e2000(a, b), [2.0425, 2.3669, 27.1492, 1.2644], atol=1e-4)


@settings(max_examples=300, deadline=None, database=None)
@given(lab_values, lab_values)
def test_delta_e2000_matches_colour_science(a, b):
    ours = delta_e2000(np.array(a), np.array(b))
    theirs = colour.delta_E(np.array(a), np.array(b), method="CIE 2000")
    assert float(ours) == pytest.approx(float(theirs), abs=1e-6)


def test_linear_srgb_to_lab_of_white_is_100():
    np.testing.assert_allclose(linear_srgb_to_lab(np.ones(3)), [100, 0, 0], atol=0.01)


def test_delta_e2000_metric_is_the_formula_for_small_differences():
    # The chart's patches, neutrals (no hue) included, and a saturated blue where R_T acts.
    lab = np.vstack([REFERENCE_LAB, [[30.0, 20.0, -60.0]]])
    d = np.random.default_rng(5).normal(size=lab.shape) * 0.01
    exact = delta_e2000(lab, lab + d) ** 2
    local = np.einsum("na,nab,nb->n", d, delta_e2000_metric(lab), d)
    np.testing.assert_allclose(local, exact, rtol=2e-3)


def test_lab_jacobian_matches_finite_differences():
    step = 1e-7 * np.eye(3)
    numeric = np.stack(
        [
            (linear_srgb_to_lab(REFERENCE_LINEAR_SRGB + step[c])
             - linear_srgb_to_lab(REFERENCE_LINEAR_SRGB - step[c])) / 2e-7
            for c in range(3)
        ],
        axis=-1,
    )  # fmt: skip
    np.testing.assert_allclose(lab_jacobian(REFERENCE_LINEAR_SRGB), numeric, rtol=1e-5, atol=1e-4)
