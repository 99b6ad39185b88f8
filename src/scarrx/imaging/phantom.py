"""Synthetic phantoms: skin, scars, pits and a chart of known colour and size, then a
camera that gets them wrong in known ways. Written for scarrx; they drive the tests,
the benchmark and the demo photos.

A `Scene` is ground truth in linear sRGB (D65) on a millimetre grid: skin of a given
CIELAB with mottling, pores and fine texture; a scar whose a* is raised by a known
amount; atrophic pits of known position and radius (shaded bowls); and a ColorChecker
Classic rendered from the colour-science reference values (clinical.md §8) at a known
physical size. Everything is deterministic from `seed`, and the scar's redness does not
change the texture, so a baseline and a follow-up differ only where we say they do.

A `Camera` photographs a scene: rotation, scale and shift (so px/mm is known), a sensor
with wider primaries than sRGB, white-balance gains, exposure, a tone curve whose gamma
is off, shot and read noise, 8-bit sRGB encoding and JPEG compression.

What real cameras add (issue 8: the plain phantoms hid three real problems), each off
by default so the phantoms above do not change:

- light that is not even: vignetting (falloff towards the frame's corners, as the
  cos⁴ law and the lens give), a gradient across the frame (a window or lamp to one
  side), and a partial shadow with a soft edge (a hand or the phone over the chart);
- a sensor whose sensitivities are not sRGB's: a cross-talk matrix mixes the channels
  where a real sensor's colour filters overlap, and the phone's own colour matrix only
  partly undoes it;
- a phone's rendering: an S-shaped tone curve (more contrast: shadows pressed down,
  highlights lifted, as every phone "look" does) and a saturation boost, both applied
  to the encoded values after the sRGB curve, where a phone applies them, so that no
  per-channel curve and 3×3 matrix in linear light can undo them exactly.

`REALISTIC` names such cameras and scenes (small and other-sized charts among them);
the tests and `make bench` use them, so that their figures resemble real photos.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from PIL import Image

from .charts import DEFAULT_CHART, ChartGeometry
from .colorimetry import (
    REFERENCE_LINEAR_SRGB,
    SRGB_TO_BT2020,
    lab_to_linear_srgb,
    linear_srgb_to_lab,
    srgb_encode,
)

Polygon = tuple[tuple[float, float], ...]
_CARD_LINEAR = 0.011  # the chart's black card, L* about 9
_ENCODE_LUT = np.round(srgb_encode(np.linspace(0, 1, 65536)) * 255).astype(np.uint8)


@dataclass(frozen=True)
class Pit:
    x_mm: float
    y_mm: float
    radius_mm: float

    @property
    def area_mm2(self) -> float:
        return float(np.pi * self.radius_mm**2)


@dataclass(frozen=True)
class SceneSpec:
    """What to render. Sizes in mm; `px_per_mm` is the scene raster's resolution."""

    seed: int = 0
    size_mm: tuple[float, float] = (160.0, 120.0)
    px_per_mm: float = 6.5
    skin_lab: tuple[float, float, float] = (62.0, 14.0, 17.0)
    scar_centre_mm: tuple[float, float] = (124.0, 86.0)
    scar_axes_mm: tuple[float, float] = (22.0, 15.0)
    scar_delta_a: float = 12.0
    pit_count: int = 6
    pit_radius_mm: tuple[float, float] = (0.9, 1.5)
    pit_depth: float = 0.45  # darkening at a pit's centre, as a fraction
    chart: ChartGeometry = DEFAULT_CHART
    chart_origin_mm: tuple[float, float] | None = (14.0, 12.0)  # None: no chart in shot
    reference_mm: Polygon = ((18.0, 80.0), (70.0, 80.0), (70.0, 108.0), (18.0, 108.0))
    mottling: float = 0.05  # std of the slow luminance variation (relative)
    texture: float = 0.04  # std of the per-pixel texture (relative)
    pores_per_mm2: float = 0.6
    freckles_per_cm2: float = 0.5  # light-brown spots ~1 mm wide: landmarks, as on a face


@dataclass(frozen=True)
class Scene:
    spec: SceneSpec
    linear: np.ndarray = field(repr=False)  # (H, W, 3) float32 linear sRGB
    pits: tuple[Pit, ...]

    @property
    def roi_mm(self) -> Polygon:
        """The scar, slightly inside its edge: the region a clinician would draw."""
        (cx, cy), (ax, ay) = self.spec.scar_centre_mm, self.spec.scar_axes_mm
        t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        return tuple((cx + 0.9 * ax * np.cos(a), cy + 0.9 * ay * np.sin(a)) for a in t)

    def true_linear(self, polygon_mm: Polygon) -> np.ndarray:
        """Mean linear sRGB of the scene inside a polygon (the truth a metric estimates)."""
        mask = np.zeros(self.linear.shape[:2], dtype=np.uint8)
        px = np.asarray(polygon_mm) * self.spec.px_per_mm - 0.5
        cv2.fillPoly(mask, [np.round(px * 16).astype(np.int32)], 1, shift=4)
        return self.linear[mask.astype(bool)].astype(np.float64).mean(axis=0)

    def true_lab(self, polygon_mm: Polygon) -> np.ndarray:
        return linear_srgb_to_lab(self.true_linear(polygon_mm))


@dataclass(frozen=True)
class Camera:
    """A phone that is wrong in known ways."""

    width: int = 1000
    height: int = 750
    rotation_deg: float = 0.0
    scale: float = 1.0  # image pixels per scene pixel
    shift_px: tuple[float, float] = (0.0, 0.0)
    # Keystone from a tilted camera: scale changes by about ± this fraction from one
    # side of the frame to the other (x, y).
    tilt: tuple[float, float] = (0.0, 0.0)
    wb_gains: tuple[float, float, float] = (1.0, 1.0, 1.0)
    exposure: float = 1.0
    gamma: float = 1.0  # applied to linear signal before sRGB encoding; 1 = correct
    noise: float = 0.01  # shot-noise scale, relative
    jpeg_quality: int = 90
    seed: int = 0
    # What real cameras add (module docstring); the defaults add nothing.
    crosstalk: tuple[tuple[float, float, float], ...] | None = None  # 3×3, rows sum to 1
    tone_contrast: float = 0.0  # S-curve strength on encoded values, 0..1 (0: none)
    saturation: float = 1.0  # chroma gain on encoded values around their luma
    vignetting: float = 0.0  # light lost at the frame's corners, as a fraction
    light_gradient: tuple[float, float] = (0.0, 0.0)  # light ∝ exp(gx·x + gy·y), x,y ∈ ±1
    shadow_mm: Polygon | None = None  # a soft-edged shadow, in scene millimetres
    shadow_light: float = 0.45  # fraction of the light left inside the shadow
    shadow_edge_mm: float = 2.0  # width of the shadow's soft edge (penumbra)


# Strong casts: uncorrected ΔE2000 on the chart is well above 5 for both.
WARM_CAST = Camera(wb_gains=(1.38, 1.0, 0.62), exposure=0.76, gamma=1.15)
COOL_CAST = Camera(wb_gains=(0.80, 1.0, 1.32), exposure=0.8, gamma=0.9)


# Cameras that behave like real ones (module docstring). The cross-talk matrices map
# scene linear sRGB to what the camera renders as linear RGB before its tone curve;
# rows sum to 1, so a neutral stays neutral up to white balance. A phone's colour
# matrix leaves a mild mixing like PHONE_CROSSTALK (and its sign errors); a machine-
# vision camera without one leaves the overlap of its colour filters, much stronger.
PHONE_CROSSTALK = ((0.84, 0.19, -0.03), (0.07, 0.86, 0.07), (0.01, 0.16, 0.83))
SENSOR_CROSSTALK = ((0.62, 0.33, 0.05), (0.17, 0.69, 0.14), (0.04, 0.31, 0.65))
PHONE = Camera(
    wb_gains=(1.06, 1.0, 0.93),  # auto white balance, a little off
    crosstalk=PHONE_CROSSTALK,
    tone_contrast=0.5,
    saturation=1.2,
    vignetting=0.3,
    light_gradient=(0.12, 0.05),
    noise=0.012,
    jpeg_quality=88,
)
PHONE_LAMP = replace(  # indoors, a warm lamp to one side, AWB only half way there
    PHONE,
    wb_gains=(1.22, 1.0, 0.78),
    exposure=0.85,
    tone_contrast=0.6,
    saturation=1.25,
    vignetting=0.35,
    light_gradient=(0.3, -0.08),
    noise=0.018,
    seed=3,
)
MACHINE_VISION = Camera(  # an industrial camera: no white balance, no colour matrix
    wb_gains=(0.62, 1.0, 0.74),
    exposure=0.55,
    gamma=1.6,
    crosstalk=SENSOR_CROSSTALK,
    vignetting=0.2,
    noise=0.01,
    jpeg_quality=95,
    seed=5,
)
# A hand's shadow over the chart's top right corner (default scene, Mini at 14, 12 mm).
HAND_SHADOW_MM: Polygon = ((76.0, 0.0), (112.0, 0.0), (112.0, 40.0), (88.0, 33.0))


def realistic_cases() -> dict[str, tuple[SceneSpec, Camera]]:
    """Named scenes and cameras that behave like real photos (tests, `make bench`)."""
    from .charts import CHARTS

    far = SceneSpec(  # a Mini at arm's length and more: its long side about 150 px
        size_mm=(580.0, 440.0),
        px_per_mm=3.5,
        chart_origin_mm=(250.0, 190.0),
        scar_centre_mm=(420.0, 300.0),
        scar_axes_mm=(45.0, 30.0),
        reference_mm=((60.0, 300.0), (170.0, 300.0), (170.0, 380.0), (60.0, 380.0)),
        pit_count=0,
    )
    classic = SceneSpec(  # the full-size Classic beside the face
        size_mm=(420.0, 315.0),
        px_per_mm=2.4,
        chart=CHARTS["classic"],
        chart_origin_mm=(20.0, 20.0),
        scar_centre_mm=(352.0, 240.0),
        scar_axes_mm=(40.0, 28.0),
        reference_mm=((40.0, 235.0), (200.0, 235.0), (200.0, 295.0), (40.0, 295.0)),
        pit_count=0,
    )
    return {
        "phone, daylight": (SceneSpec(seed=31), PHONE),
        "phone, warm lamp to one side": (SceneSpec(seed=32), PHONE_LAMP),
        "phone, hand's shadow on the chart": (
            SceneSpec(seed=33),
            replace(PHONE, shadow_mm=HAND_SHADOW_MM, seed=4),
        ),
        "phone, Classic card": (replace(classic, seed=34), replace(PHONE, seed=6)),
        "phone, Nano card": (SceneSpec(seed=35, chart=CHARTS["nano"]), replace(PHONE, seed=7)),
        "phone, Mini far away (150 px)": (replace(far, seed=36), replace(PHONE, scale=0.5, seed=8)),
        "machine-vision camera": (SceneSpec(seed=37), MACHINE_VISION),
    }


def realistic_photo(name: str) -> PhantomPhoto:
    """One of `realistic_cases`, photographed."""
    spec, camera = realistic_cases()[name]
    return photograph(make_scene(spec), camera)


@dataclass(frozen=True)
class PhantomPhoto:
    jpeg: bytes = field(repr=False)
    scene: Scene = field(repr=False)
    camera: Camera
    homography: np.ndarray  # scene mm -> image pixels

    @property
    def px_per_mm(self) -> float:
        """Scale at the image centre (exact everywhere when the camera is not tilted)."""
        return self.scene.spec.px_per_mm * self.camera.scale

    def to_image(self, points_mm: Polygon | np.ndarray) -> list[tuple[float, float]]:
        pts = np.asarray(points_mm, dtype=np.float64).reshape(1, -1, 2)
        return [tuple(p) for p in cv2.perspectiveTransform(pts, self.homography)[0].tolist()]

    @property
    def chart_corners(self) -> np.ndarray | None:
        """Outer corners of the corner patches, canonical order (see chart.py)."""
        spec = self.scene.spec
        if spec.chart_origin_mm is None:
            return None
        return np.asarray(self.to_image(spec.chart.corners_mm() + spec.chart_origin_mm))

    def light_at(self, points_mm: Polygon | np.ndarray) -> np.ndarray:
        """The relative illumination the camera put on scene points (1 = even light)."""
        light = _light(self.camera, self.homography)
        pts = np.round(np.asarray(self.to_image(points_mm))).astype(int)
        if light is None:
            return np.ones(len(pts))
        x = np.clip(pts[:, 0], 0, self.camera.width - 1)
        y = np.clip(pts[:, 1], 0, self.camera.height - 1)
        return light[y, x].astype(np.float64)

    @property
    def roi(self) -> list[tuple[float, float]]:
        return self.to_image(self.scene.roi_mm)

    @property
    def reference(self) -> list[tuple[float, float]]:
        return self.to_image(self.scene.spec.reference_mm)


def make_scene(spec: SceneSpec = SceneSpec()) -> Scene:  # noqa: B008 - frozen default
    """Render the scene raster (linear sRGB, float32)."""
    w = round(spec.size_mm[0] * spec.px_per_mm)
    h = round(spec.size_mm[1] * spec.px_per_mm)
    skin = _skin(spec, (h, w))
    pits = _place_pits(spec)
    _shade_pits(skin, pits, spec)
    _paint_chart(skin, spec)
    return Scene(spec, skin, pits)


def photograph(scene: Scene, camera: Camera = Camera()) -> PhantomPhoto:  # noqa: B008
    """What the camera records, as JPEG bytes, and the exact scene-to-image mapping."""
    ppm = scene.spec.px_per_mm
    mm_to_scene = np.array([[ppm, 0, -0.5], [0, ppm, -0.5], [0, 0, 1]])
    scene_to_image = _camera_pose(scene.linear.shape, camera)
    image = cv2.warpPerspective(
        scene.linear,
        scene_to_image,
        (camera.width, camera.height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    mm_to_image = scene_to_image @ mm_to_scene
    light = _light(camera, mm_to_image)
    if light is not None:
        image *= light[..., None]
    encoded = _expose(image, camera)
    buf = io.BytesIO()
    Image.fromarray(encoded).save(buf, "JPEG", quality=camera.jpeg_quality)
    return PhantomPhoto(buf.getvalue(), scene, camera, mm_to_image)


def benchmark_pair(seed: int = 7) -> tuple[PhantomPhoto, PhantomPhoto]:
    """A 12-megapixel baseline and follow-up (moved, rotated, other light), fine detail."""
    spec = SceneSpec(
        seed=seed,
        size_mm=(215.0, 162.0),
        px_per_mm=19.0,
        scar_centre_mm=(150.0, 105.0),
        scar_axes_mm=(34.0, 24.0),
        pit_count=14,
        pit_radius_mm=(0.8, 1.6),
        chart_origin_mm=(16.0, 14.0),
        reference_mm=((20.0, 100.0), (80.0, 100.0), (80.0, 145.0), (20.0, 145.0)),
        texture=0.06,
        pores_per_mm2=1.5,
    )
    camera = Camera(width=4000, height=3000, scale=0.98, noise=0.012, jpeg_quality=92)
    baseline = photograph(make_scene(spec), replace(camera, wb_gains=(1.2, 1.0, 0.8), seed=1))
    follow = make_scene(replace(spec, scar_delta_a=spec.scar_delta_a - 5))
    moved = replace(camera, rotation_deg=4.0, scale=1.0, shift_px=(60.0, -40.0), seed=2)
    return baseline, photograph(follow, replace(moved, wb_gains=(0.85, 1.0, 1.25)))


# --- scene internals -----------------------------------------------------------------


def _rng(spec: SceneSpec, stream: int) -> np.random.Generator:
    # Independent streams, so changing the scar's colour never changes the texture.
    return np.random.default_rng([spec.seed, stream])


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell_px: float) -> np.ndarray:
    """Zero-mean, unit-std noise varying over about `cell_px` pixels."""
    h, w = shape
    coarse = rng.standard_normal((int(h / cell_px) + 3, int(w / cell_px) + 3)).astype(np.float32)
    field_ = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    return (field_ - field_.mean()) / max(float(field_.std()), 1e-6)


def _skin(spec: SceneSpec, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    ppm = spec.px_per_mm
    skin = lab_to_linear_srgb(np.array(spec.skin_lab)).astype(np.float32)
    lab_scar = np.array(spec.skin_lab) + [0.0, spec.scar_delta_a, 0.0]
    scar = lab_to_linear_srgb(lab_scar).astype(np.float32)
    out = np.empty((h, w, 3), dtype=np.float32)
    out[:] = skin
    weight = _ellipse_weight(spec, shape)
    out += weight[..., None] * (scar - skin)
    # Slow mottling in lightness and in redness, then fine texture; log-normal factors
    # keep the mean where the nominal colour says.
    slow = _smooth_noise(_rng(spec, 1), shape, 6 * ppm) * spec.mottling
    red = _smooth_noise(_rng(spec, 2), shape, 4 * ppm) * 0.03
    fine = _rng(spec, 3).standard_normal(shape, dtype=np.float32) * spec.texture
    lum = np.exp(slow + fine - (spec.mottling**2 + spec.texture**2) / 2)
    lum *= _pores(spec, shape)
    freckles = _freckles(spec, shape)
    for c, (tilt, brown) in enumerate(zip((1.0, -0.4, -0.4), (0.16, 0.19, 0.24), strict=True)):
        out[..., c] *= lum * (1 + tilt * red) * (1 - brown * freckles)
    return out


def _ellipse_weight(spec: SceneSpec, shape: tuple[int, int]) -> np.ndarray:
    """1 inside the scar, 0 outside, with a soft 1-2 mm edge."""
    h, w = shape
    ppm = spec.px_per_mm
    (cx, cy), (ax, ay) = spec.scar_centre_mm, spec.scar_axes_mm
    y = (np.arange(h, dtype=np.float32) + 0.5) / ppm
    x = (np.arange(w, dtype=np.float32) + 0.5) / ppm
    r = np.sqrt(((x[None, :] - cx) / ax) ** 2 + ((y[:, None] - cy) / ay) ** 2)
    return np.clip((1.05 - r) / 0.1, 0.0, 1.0)


def _pores(spec: SceneSpec, shape: tuple[int, int]) -> np.ndarray:
    """Small dark pores: sparse impulses blurred to about 0.1 mm."""
    h, w = shape
    rng = _rng(spec, 4)
    count = int(spec.pores_per_mm2 * h * w / spec.px_per_mm**2)
    impulses = np.zeros(shape, dtype=np.float32)
    impulses[rng.integers(0, h, count), rng.integers(0, w, count)] = 1.0
    sigma = max(0.6, 0.1 * spec.px_per_mm)
    spots = cv2.GaussianBlur(impulses, (0, 0), sigma) * (2 * np.pi * sigma**2)
    return 1.0 - 0.25 * np.clip(spots, 0.0, 1.0)


def _freckles(spec: SceneSpec, shape: tuple[int, int]) -> np.ndarray:
    """Strength 0..1 of light-brown spots (browner than they are dark, so they stay
    below the pit measure's threshold, as most freckles would)."""
    h, w = shape
    rng = _rng(spec, 6)
    count = int(spec.freckles_per_cm2 * h * w / (spec.px_per_mm * 10) ** 2)
    spots = np.zeros(shape, dtype=np.float32)
    spots[rng.integers(0, h, count), rng.integers(0, w, count)] = rng.uniform(0.5, 1.0, count)
    sigma = 0.45 * spec.px_per_mm
    spots = cv2.GaussianBlur(spots, (0, 0), sigma) * (2 * np.pi * sigma**2)
    return np.clip(spots, 0.0, 1.0)


def _place_pits(spec: SceneSpec) -> tuple[Pit, ...]:
    rng = _rng(spec, 5)
    (cx, cy), (ax, ay) = spec.scar_centre_mm, spec.scar_axes_mm
    pits: list[Pit] = []
    for _ in range(2000):
        if len(pits) == spec.pit_count:
            break
        r = float(rng.uniform(*spec.pit_radius_mm))
        t, rho = rng.uniform(0, 2 * np.pi), np.sqrt(rng.uniform(0, 1)) * 0.7
        x, y = cx + rho * ax * np.cos(t), cy + rho * ay * np.sin(t)
        if all(np.hypot(x - p.x_mm, y - p.y_mm) > r + p.radius_mm + 2.0 for p in pits):
            pits.append(Pit(float(x), float(y), r))
    return tuple(pits)


def _shade_pits(linear: np.ndarray, pits: tuple[Pit, ...], spec: SceneSpec) -> None:
    """Darken each pit as a bowl lit from the upper left (its far wall is brighter)."""
    ppm = spec.px_per_mm
    for pit in pits:
        r = pit.radius_mm * ppm
        x0, y0 = pit.x_mm * ppm - 0.5, pit.y_mm * ppm - 0.5
        xs = slice(max(0, int(x0 - r - 2)), int(x0 + r + 3))
        ys = slice(max(0, int(y0 - r - 2)), int(y0 + r + 3))
        yy, xx = np.mgrid[ys, xs].astype(np.float32)
        dx, dy = (xx - x0) / r, (yy - y0) / r
        bowl = np.clip(1 - dx**2 - dy**2, 0, None)
        shade = 1 - spec.pit_depth * bowl * (1 - 0.3 * (dx + dy) / np.sqrt(2))
        linear[ys, xs] *= np.clip(shade, 0.2, 1.2)[..., None]


def _paint_chart(linear: np.ndarray, spec: SceneSpec) -> None:
    if spec.chart_origin_mm is None:
        return
    chart, ppm = spec.chart, spec.px_per_mm
    ox, oy = spec.chart_origin_mm
    margin = chart.pitch_mm - chart.patch_mm
    card = np.array(
        [
            [ox - margin, oy - margin],
            [ox + chart.width_mm + margin, oy - margin],
            [ox + chart.width_mm + margin, oy + chart.height_mm + margin],
            [ox - margin, oy + chart.height_mm + margin],
        ]
    )
    _fill(linear, card, ppm, np.full(3, _CARD_LINEAR))
    half = chart.patch_mm / 2
    square = np.array([[-half, -half], [half, -half], [half, half], [-half, half]])
    for colour_, centre in zip(REFERENCE_LINEAR_SRGB, chart.patch_centres_mm(), strict=True):
        _fill(linear, square + centre + (ox, oy), ppm, colour_)


def _fill(linear: np.ndarray, polygon_mm: np.ndarray, ppm: float, rgb: np.ndarray) -> None:
    """Paint a polygon with anti-aliased edges, working in its bounding box only."""
    px = polygon_mm * ppm - 0.5
    x0, y0 = np.maximum(np.floor(px.min(axis=0)).astype(int) - 1, 0)
    x1, y1 = np.ceil(px.max(axis=0)).astype(int) + 2
    view = linear[y0:y1, x0:x1]
    mask = np.zeros(view.shape[:2], dtype=np.uint8)
    cv2.fillPoly(
        mask, [np.round((px - [x0, y0]) * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4
    )
    alpha = mask.astype(np.float32)[..., None] / 255.0
    view *= 1 - alpha
    view += alpha * rgb.astype(np.float32)


# --- camera internals ----------------------------------------------------------------


def _camera_pose(scene_shape: tuple[int, ...], camera: Camera) -> np.ndarray:
    """Scene pixels -> image pixels: rotate and scale about the centres, then shift."""
    sh, sw = scene_shape[:2]
    t = np.deg2rad(camera.rotation_deg)
    rot = camera.scale * np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    centre_in = np.array([(sw - 1) / 2, (sh - 1) / 2])
    centre_out = np.array([(camera.width - 1) / 2, (camera.height - 1) / 2])
    offset = centre_out + np.asarray(camera.shift_px) - rot @ centre_in
    pose = np.vstack([np.hstack([rot, offset[:, None]]), [0, 0, 1]])
    # Keystone about the image centre, in coordinates where the frame spans [-1, 1].
    half = np.array([[2 / camera.width, 0, -1], [0, 2 / camera.height, -1], [0, 0, 1]])
    keystone = np.array([[1, 0, 0], [0, 1, 0], [camera.tilt[0], camera.tilt[1], 1]])
    return np.linalg.inv(half) @ keystone @ half @ pose


def _light(camera: Camera, mm_to_image: np.ndarray) -> np.ndarray | None:
    """Relative illumination over the frame (vignetting × gradient × shadow), or None."""
    if not (camera.vignetting or any(camera.light_gradient) or camera.shadow_mm):
        return None
    w, h = camera.width, camera.height
    x = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :]
    y = np.linspace(-1.0, 1.0, h, dtype=np.float32)[:, None]
    gx, gy = camera.light_gradient
    light = np.exp(np.float32(gx) * x + np.float32(gy) * y)
    if camera.vignetting:
        # Falloff with the square of the distance from the centre, `vignetting` lost at
        # the corners: the first term of the cos⁴ law for a moderate field of view.
        r2 = (x**2 * w**2 + y**2 * h**2) / np.float32(w**2 + h**2)
        light = light * (1 - np.float32(camera.vignetting) * r2)
    if camera.shadow_mm:
        mask = np.zeros((h, w), dtype=np.float32)
        pts = cv2.perspectiveTransform(np.asarray(camera.shadow_mm, np.float64)[None], mm_to_image)
        cv2.fillPoly(mask, [np.round(pts[0] * 16).astype(np.int32)], 1.0, shift=4)
        # The penumbra: about shadow_edge_mm wide in the image, however far the camera.
        px_per_mm = np.sqrt(abs(np.linalg.det(mm_to_image[:2, :2])))
        sigma = max(0.5, camera.shadow_edge_mm * px_per_mm / 2.5)
        soft = cv2.GaussianBlur(mask, (0, 0), sigma)
        light = light * (1 - np.float32(1 - camera.shadow_light) * soft)
    return light.astype(np.float32)


def _expose(image: np.ndarray, camera: Camera) -> np.ndarray:
    """Sensor response, white balance, exposure, noise, tone curve, 8-bit sRGB, then the
    phone's rendering (S-curve and saturation on the encoded values)."""
    rng = np.random.default_rng([camera.seed, 99])
    gains = np.asarray(camera.wb_gains) * camera.exposure
    mixing = SRGB_TO_BT2020 if camera.crosstalk is None else np.asarray(camera.crosstalk)
    sensor: np.ndarray = cv2.transform(image, (mixing * gains[:, None]).astype(np.float32))
    noise = rng.standard_normal(sensor.shape, dtype=np.float32)
    spread = cv2.sqrt(np.maximum(sensor, 0.0)) * np.float32(camera.noise) + np.float32(0.002)
    sensor += noise * spread
    np.clip(sensor, 0.0, 1.0, out=sensor)
    if camera.gamma != 1.0:
        np.power(sensor, camera.gamma, out=sensor)
    codes = (sensor * 65535 + 0.5).astype(np.uint16)
    if camera.tone_contrast == 0.0 and camera.saturation == 1.0:
        return _ENCODE_LUT[codes]
    encoded = _phone_lut(camera.tone_contrast)[codes]
    if camera.saturation != 1.0:
        luma = encoded @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
        encoded = luma[..., None] + np.float32(camera.saturation) * (encoded - luma[..., None])
    return np.round(np.clip(encoded, 0.0, 1.0) * 255).astype(np.uint8)


def _phone_lut(contrast: float) -> np.ndarray:
    """Linear 16-bit code -> encoded value in [0, 1]: the sRGB curve, then an S-curve
    v + c·v(1 − v)(2v − 1), monotonic for c ≤ 1, fixed at 0, ½ and 1: shadows pressed
    down, highlights lifted."""
    v = srgb_encode(np.linspace(0, 1, 65536))
    return (v + contrast * v * (1 - v) * (2 * v - 1)).astype(np.float32)
