"""Colour facts shared by the chart, calibration, metrics and phantom modules.

Reference values: colour-science "ColorChecker24 - After November 2014" (clinical.md §8),
given as xyY under D50; adapted to D65 with Bradford and expressed in linear sRGB, the
space every correction in scarrx maps into. CIELAB is always D65 (clinical.md §8).
"""

from __future__ import annotations

import warnings

import numpy as np

with warnings.catch_warnings():
    # colour-science warns at import that matplotlib (plotting only) is missing; scarrx
    # never plots, and the suite turns warnings into errors.
    warnings.simplefilter("ignore")
    import colour

CHART_NAME = "ColorChecker24 - After November 2014"
D65_XY = colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"]
_SRGB = colour.RGB_COLOURSPACES["sRGB"]
SRGB_TO_XYZ = np.asarray(_SRGB.matrix_RGB_to_XYZ, dtype=np.float64)

# Row-major patch order of the chart: row 1 "dark skin" .. "bluish green", row 4 the
# neutral ramp "white 9.5" .. "black 2".
PATCH_NAMES: tuple[str, ...] = tuple(colour.CCS_COLOURCHECKERS[CHART_NAME].data.keys())
NEUTRAL_PATCHES = tuple(range(18, 24))


def _reference_linear_srgb() -> np.ndarray:
    chart = colour.CCS_COLOURCHECKERS[CHART_NAME]
    xyy = np.array(list(chart.data.values()), dtype=np.float64)
    return np.asarray(
        colour.XYZ_to_RGB(
            colour.xyY_to_XYZ(xyy),
            "sRGB",
            illuminant=chart.illuminant,
            chromatic_adaptation_transform="Bradford",
        ),
        dtype=np.float64,
    )


def srgb_decode(encoded: np.ndarray) -> np.ndarray:
    """sRGB transfer function (IEC 61966-2-1), encoded [0, 1] to linear."""
    v = np.asarray(encoded, dtype=np.float64)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """Inverse of srgb_decode; negative input is clipped to 0."""
    v = np.clip(np.asarray(linear, dtype=np.float64), 0.0, None)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)


def linear_srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """Linear sRGB (D65) to CIELAB (D65), any leading shape."""
    xyz = np.asarray(rgb, dtype=np.float64) @ SRGB_TO_XYZ.T
    return np.asarray(colour.XYZ_to_Lab(xyz, D65_XY), dtype=np.float64)


def lab_to_linear_srgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB (D65) to linear sRGB (D65); may leave [0, 1] for out-of-gamut colours."""
    xyz = np.asarray(colour.Lab_to_XYZ(np.asarray(lab, dtype=np.float64), D65_XY))
    return xyz @ np.linalg.inv(SRGB_TO_XYZ).T


def delta_e2000(lab_a: np.ndarray, lab_b: np.ndarray) -> np.ndarray:
    """CIE ΔE2000 (colour-science `delta_E`, method "CIE 2000"), as clinical.md §8 asks."""
    return np.asarray(colour.delta_E(lab_a, lab_b, method="CIE 2000"), dtype=np.float64)


REFERENCE_LINEAR_SRGB = _reference_linear_srgb()
REFERENCE_LAB = linear_srgb_to_lab(REFERENCE_LINEAR_SRGB)
# Encoded 8-bit value -> linear, for measuring patch and region means in linear light.
SRGB_DECODE_LUT = srgb_decode(np.arange(256) / 255.0)
# A camera sees more than sRGB; phantoms use BT.2020 primaries as the "sensor" space so
# every chart patch is a positive signal, as on a real sensor.
SRGB_TO_BT2020 = np.asarray(
    colour.matrix_RGB_to_RGB(_SRGB, colour.RGB_COLOURSPACES["ITU-R BT.2020"]), dtype=np.float64
)
