"""Colour facts shared by the chart, calibration, metrics and phantom modules.

Pure numpy: colour-science costs about 0.6 s and 70 MB to import, which a researcher's
batch of photos would pay per file, so the few values and formulas scarrx needs are
written out here and checked against colour-science in tests/imaging/test_colorimetry.py.

Reference values: "ColorChecker24 - After November 2014" (clinical.md §8), X-Rite's
published data for the chart edition made since November 2014 (X-Rite 2016, "New color
specifications for ColorChecker SG and Classic charts"), as xyY under D50 exactly as
colour-science ships them. They are adapted to D65 with the Bradford transform
(Lam 1985; matrix as in ICC.1:2010 Annex E) and expressed in linear sRGB (IEC
61966-2-1), the space every correction in scarrx maps into. CIELAB is always D65
(clinical.md §8), CIE 15:2004. ΔE2000 follows Sharma, Wu & Dalal, "The CIEDE2000
color-difference formula: implementation notes, supplementary test data, and
mathematical observations", Color Res. Appl. 30 (2005) 21-30.
"""

from __future__ import annotations

import numpy as np

CHART_NAME = "ColorChecker24 - After November 2014"
D65_XY = np.array([0.3127, 0.3290])
D50_XY = np.array([0.34570291, 0.3585386])  # the chart data's illuminant, as shipped

# IEC 61966-2-1 sRGB primaries and D65 white, to four decimals as the standard gives them.
SRGB_TO_XYZ = np.array(
    [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
)
# ITU-R BT.2020 RGB to XYZ (D65).
_BT2020_TO_XYZ = np.array(
    [
        [0.636958048301291, 0.144616903586208, 0.168880975164172],
        [0.262700212011267, 0.677998071518871, 0.059301716469862],
        [0.0, 0.028072693049087, 1.060985057710791],
    ]
)
_BRADFORD = np.array(
    [[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]]
)

# Row-major patch order of the chart: row 1 "dark skin" .. "bluish green", row 4 the
# neutral ramp "white 9.5" .. "black 2".
_CHART_XYY: tuple[tuple[str, float, float, float], ...] = (
    ("dark skin", 0.437483597766, 0.378522842524, 0.098324361049),
    ("light skin", 0.422249441483, 0.372493685118, 0.336202303995),
    ("blue sky", 0.276147440432, 0.298381572121, 0.178551934766),
    ("foliage", 0.373316128207, 0.451169135690, 0.134679267892),
    ("blue flower", 0.302890521431, 0.286286909325, 0.228717599753),
    ("bluish green", 0.286404828156, 0.389717784524, 0.414355468777),
    ("orange", 0.528147721832, 0.405334967720, 0.312641615852),
    ("purplish blue", 0.232385849837, 0.211203715483, 0.109109023283),
    ("moderate red", 0.504447547137, 0.327064745142, 0.188999956046),
    ("purple", 0.333471147509, 0.250552301123, 0.062766629551),
    ("yellow green", 0.398893450783, 0.504149148839, 0.433175940891),
    ("orange yellow", 0.493576001272, 0.444283201983, 0.429337757769),
    ("blue", 0.205220768522, 0.168665475714, 0.055962140625),
    ("green", 0.323037964633, 0.510418183299, 0.223343758247),
    ("red", 0.562872322721, 0.335562807418, 0.127800834974),
    ("yellow", 0.467759349234, 0.476024433690, 0.599297680307),
    ("magenta", 0.421310886085, 0.266924623273, 0.189511457680),
    ("cyan", 0.209128718824, 0.302658014924, 0.180609912956),
    ("white 9.5 (.05 D)", 0.348914494512, 0.364212580002, 0.880690320277),
    ("neutral 8 (.23 D)", 0.345583858096, 0.359880612885, 0.589970970192),
    ("neutral 6.5 (.44 D)", 0.344149829205, 0.359185070120, 0.364865206631),
    ("neutral 5 (.70 D)", 0.345769222523, 0.359093827190, 0.190622875436),
    ("neutral 3.5 (1.05 D)", 0.342648432590, 0.357583515354, 0.088172348284),
    ("black 2 (1.5 D)", 0.343767467262, 0.356057629662, 0.031513194309),
)
PATCH_NAMES: tuple[str, ...] = tuple(row[0] for row in _CHART_XYY)
SKIN_PATCHES = (0, 1)  # "dark skin", "light skin": what a skin measurement relies on
NEUTRAL_PATCHES = tuple(range(18, 24))


def xy_to_xyz_white(xy: np.ndarray) -> np.ndarray:
    """Chromaticity (x, y) of a white to its XYZ with Y = 1."""
    x, y = float(xy[0]), float(xy[1])
    return np.array([x / y, 1.0, (1 - x - y) / y])


def xyy_to_xyz(xyy: np.ndarray) -> np.ndarray:
    xyy = np.asarray(xyy, dtype=np.float64)
    x, y, big_y = xyy[..., 0], xyy[..., 1], xyy[..., 2]
    return np.stack([x * big_y / y, big_y, (1 - x - y) * big_y / y], axis=-1)


def bradford(source_xy: np.ndarray, target_xy: np.ndarray) -> np.ndarray:
    """3×3 von Kries adaptation in the Bradford cone space, XYZ(source) -> XYZ(target)."""
    src = _BRADFORD @ xy_to_xyz_white(source_xy)
    dst = _BRADFORD @ xy_to_xyz_white(target_xy)
    return np.linalg.inv(_BRADFORD) @ np.diag(dst / src) @ _BRADFORD


def srgb_decode(encoded: np.ndarray) -> np.ndarray:
    """sRGB transfer function (IEC 61966-2-1), encoded [0, 1] to linear."""
    v = np.asarray(encoded, dtype=np.float64)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """Inverse of srgb_decode; negative input is clipped to 0."""
    v = np.clip(np.asarray(linear, dtype=np.float64), 0.0, None)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)


_D65_WHITE = xy_to_xyz_white(D65_XY)
_EPSILON, _KAPPA = 216 / 24389, 24389 / 27  # CIE 15:2004, exact rational forms


def xyz_to_lab(xyz: np.ndarray, white: np.ndarray = _D65_WHITE) -> np.ndarray:
    t = np.asarray(xyz, dtype=np.float64) / white
    f = np.where(t > _EPSILON, np.cbrt(t), (_KAPPA * t + 16) / 116)
    return np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])],
        axis=-1,
    )


def lab_to_xyz(lab: np.ndarray, white: np.ndarray = _D65_WHITE) -> np.ndarray:
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    t = np.where(f**3 > _EPSILON, f**3, (116 * f - 16) / _KAPPA)
    t[..., 1] = np.where(lab[..., 0] > _KAPPA * _EPSILON, fy**3, lab[..., 0] / _KAPPA)
    return t * white


def linear_srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """Linear sRGB (D65) to CIELAB (D65), any leading shape."""
    return xyz_to_lab(np.asarray(rgb, dtype=np.float64) @ SRGB_TO_XYZ.T)


def lab_to_linear_srgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB (D65) to linear sRGB (D65); may leave [0, 1] for out-of-gamut colours."""
    return lab_to_xyz(lab) @ np.linalg.inv(SRGB_TO_XYZ).T


def delta_e2000(lab_a: np.ndarray, lab_b: np.ndarray) -> np.ndarray:
    """CIE ΔE2000 (kL = kC = kH = 1), any leading shape (Sharma et al. 2005)."""
    a, b = np.asarray(lab_a, dtype=np.float64), np.asarray(lab_b, dtype=np.float64)
    l1, a1, b1 = a[..., 0], a[..., 1], a[..., 2]
    l2, a2, b2 = b[..., 0], b[..., 1], b[..., 2]
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean**7 / (c_mean**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dl, dc = l2 - l1, c2p - c1p
    zero = (c1p * c2p) == 0
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(zero, 0.0, dh)
    d_big_h = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    l_mean, cp_mean = (l1 + l2) / 2, (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_mean = np.where(
        np.abs(h1p - h2p) <= 180,
        h_sum / 2,
        np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2),
    )
    h_mean = np.where(zero, h_sum, h_mean)
    t = (
        1
        - 0.17 * np.cos(np.radians(h_mean - 30))
        + 0.24 * np.cos(np.radians(2 * h_mean))
        + 0.32 * np.cos(np.radians(3 * h_mean + 6))
        - 0.20 * np.cos(np.radians(4 * h_mean - 63))
    )
    d_theta = 30 * np.exp(-(((h_mean - 275) / 25) ** 2))
    r_c = 2 * np.sqrt(cp_mean**7 / (cp_mean**7 + 25.0**7))
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    s_c = 1 + 0.045 * cp_mean
    s_h = 1 + 0.015 * cp_mean * t
    r_t = -np.sin(np.radians(2 * d_theta)) * r_c
    return np.sqrt(
        (dl / s_l) ** 2
        + (dc / s_c) ** 2
        + (d_big_h / s_h) ** 2
        + r_t * (dc / s_c) * (d_big_h / s_h)
    )


def delta_e2000_metric(lab: np.ndarray) -> np.ndarray:
    """(..., 3, 3) quadratic form G of ΔE2000 at each CIELAB colour: for a small
    difference d, ΔE2000(lab, lab + d)² ≈ dᵀ G d (kL = kC = kH = 1).

    From Sharma, Wu & Dalal 2005's formula at zero difference, where the mean of the
    pair is the colour itself: ΔL'/S_L, ΔC'/S_C and ΔH'/S_H are linear in d (ΔC' and
    ΔH' are the radial and tangential parts of (Δa', Δb) at hue h', with a' = (1 + G)a),
    and R_T couples the last two. A neutral (C' = 0) has no hue; any axes give the same
    form there, because R_C (so R_T) is 0.
    """
    lab = np.asarray(lab, dtype=np.float64)
    lightness, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    c = np.hypot(a, b)
    g = 0.5 * (1 - np.sqrt(c**7 / (c**7 + 25.0**7)))
    ap = (1 + g) * a
    cp = np.hypot(ap, b)
    hue = np.where(cp > 1e-9, np.arctan2(b, ap), 0.0)
    cos, sin = np.cos(hue), np.sin(hue)
    h_deg = np.degrees(hue) % 360
    t = (
        1
        - 0.17 * np.cos(np.radians(h_deg - 30))
        + 0.24 * np.cos(np.radians(2 * h_deg))
        + 0.32 * np.cos(np.radians(3 * h_deg + 6))
        - 0.20 * np.cos(np.radians(4 * h_deg - 63))
    )
    s_l = 1 + 0.015 * (lightness - 50) ** 2 / np.sqrt(20 + (lightness - 50) ** 2)
    s_c = 1 + 0.045 * cp
    s_h = 1 + 0.015 * cp * t
    r_c = 2 * np.sqrt(cp**7 / (cp**7 + 25.0**7))
    r_t = -np.sin(np.radians(60 * np.exp(-(((h_deg - 275) / 25) ** 2)))) * r_c
    zero = np.zeros_like(lightness)
    rows = np.stack(
        [
            np.stack([1 / s_l, zero, zero], axis=-1),
            np.stack([zero, (1 + g) * cos / s_c, sin / s_c], axis=-1),
            np.stack([zero, -(1 + g) * sin / s_h, cos / s_h], axis=-1),
        ],
        axis=-2,
    )  # (..., 3, 3): (ΔL'/S_L, ΔC'/S_C, ΔH'/S_H) = rows @ d
    one = np.ones_like(lightness)
    coupling = np.stack(
        [
            np.stack([one, zero, zero], axis=-1),
            np.stack([zero, one, r_t / 2], axis=-1),
            np.stack([zero, r_t / 2, one], axis=-1),
        ],
        axis=-2,
    )
    return np.swapaxes(rows, -1, -2) @ coupling @ rows


def lab_jacobian(rgb: np.ndarray) -> np.ndarray:
    """(..., 3, 3) derivative of CIELAB (D65) with respect to linear sRGB (CIE 15:2004)."""
    t = (np.asarray(rgb, dtype=np.float64) @ SRGB_TO_XYZ.T) / _D65_WHITE
    slope = np.where(t > _EPSILON, np.cbrt(np.maximum(t, _EPSILON)) ** -2 / 3, _KAPPA / 116)
    lab_of_f = np.array([[0.0, 116.0, 0.0], [500.0, -500.0, 0.0], [0.0, 200.0, -200.0]])
    return lab_of_f @ (slope[..., :, None] * (SRGB_TO_XYZ / _D65_WHITE[:, None]))


def _reference_linear_srgb() -> np.ndarray:
    xyz_d50 = xyy_to_xyz(np.array([row[1:] for row in _CHART_XYY]))
    xyz_d65 = xyz_d50 @ bradford(D50_XY, D65_XY).T
    return xyz_d65 @ np.linalg.inv(SRGB_TO_XYZ).T


REFERENCE_LINEAR_SRGB = _reference_linear_srgb()
REFERENCE_LAB = linear_srgb_to_lab(REFERENCE_LINEAR_SRGB)
# Encoded 8-bit value -> linear, for measuring patch and region means in linear light.
SRGB_DECODE_LUT = srgb_decode(np.arange(256) / 255.0)
# A camera sees more than sRGB; phantoms use BT.2020 primaries as the "sensor" space so
# every chart patch is a positive signal, as on a real sensor.
SRGB_TO_BT2020 = np.linalg.inv(_BT2020_TO_XYZ) @ SRGB_TO_XYZ
