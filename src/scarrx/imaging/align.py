"""Register a follow-up photo to its baseline, with a quality score (clinical.md §8).

The face is not a plane, so alignment is judged on a region (the scar and reference
skin) rather than the whole frame:

1. ORB features on reduced copies (about 0.75 MP; JPEG draft decoding makes them
   nearly free), after local contrast equalisation (CLAHE) so dark exposures and darker
   skin give features too; a ratio test, then a RANSAC homography. The chart is masked
   out when its position is known: it moves with the hand that holds it, not the face.
2. ECC (`cv2.findTransformECC`, MOTION_HOMOGRAPHY; the `WithMask` variant where OpenCV
   has it, so only the regions count) refines that homography on the regions.
3. The quality is ECC's correlation coefficient on the regions, in [0, 1], computed on
   high-passed images: skin detail must line up, and a different light does not lower
   it (ECC ignores brightness and contrast), while unrelated skin scores near 0. Below
   `MIN_QUALITY`, or when ECC wandered away from what the features said, the pair is
   refused with the reason.

`Alignment.homography` maps full-resolution pixels of the baseline to the follow-up, so
regions drawn on the baseline carry over with `map_points`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .decode import DecodedImage, reduce
from .errors import ImagingError

MIN_QUALITY = 0.6  # ECC correlation on the region below which comparison is refused
MIN_INLIERS = 15  # RANSAC-consistent feature matches needed to trust a first guess
_RATIO = 0.8  # Lowe's ratio test
_ORB_FEATURES = 4000
_ECC_ITERATIONS = 60
_ECC_SIDE = 400  # longest side of the ECC template, pixels
_DETAIL_SIGMA = 4.0  # high-pass scale for ECC, pixels at ECC scale
_CLAHE = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
_MAX_REFINEMENT = 0.05  # ECC may move the regions' box corners by 5 % of its diagonal
_REGION_MARGIN = 0.15  # widen the region's box by this fraction on each side for ECC


@dataclass(frozen=True)
class Alignment:
    homography: np.ndarray  # (3, 3) baseline full-res pixels -> follow-up full-res pixels
    quality: float
    inliers: int

    def map_points(self, points: object) -> np.ndarray:
        """Map (x, y) points drawn on the baseline into the follow-up."""
        pts = np.asarray(points, dtype=np.float64).reshape(1, -1, 2)
        return cv2.perspectiveTransform(pts, self.homography)[0]

    def as_dict(self) -> dict[str, object]:
        return {
            "quality": round(self.quality, 4),
            "homography": [[round(float(v), 8) for v in row] for row in self.homography],
        }


def align(
    baseline: DecodedImage,
    followup: DecodedImage,
    *,
    regions: Sequence[object] = (),
    exclude_baseline: Sequence[object] = (),
    exclude_followup: Sequence[object] = (),
    min_quality: float = MIN_QUALITY,
) -> Alignment:
    """Register `followup` to `baseline`; refuse with ImagingError when they do not match.

    `regions` (polygons on the baseline, full-resolution pixels: the scar and reference
    regions) are where alignment is refined and judged; without them, the whole frame.
    `exclude_*` are polygons (e.g. the chart) to ignore when matching features.
    """
    small_b, small_f = reduce(baseline), reduce(followup)
    # Green carries most of skin's texture and is least moved by a warm or cool cast.
    gray_b, gray_f = small_b.rgb[..., 1].copy(), small_f.rgb[..., 1].copy()
    mask_b = _feature_mask(gray_b.shape, exclude_baseline, small_b)
    mask_f = _feature_mask(gray_f.shape, exclude_followup, small_f)
    guess, inliers = _feature_homography(gray_b, gray_f, mask_b, mask_f)
    h, w = gray_b.shape
    whole = [np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float64)]
    small_regions = [_to_small(np.asarray(r, dtype=np.float64), small_b) for r in regions]
    refined, quality = _ecc_refine(gray_b, gray_f, guess, small_regions or whole, mask_f)
    if _disagreement(guess, refined, small_regions or whole) > _MAX_REFINEMENT:
        # ECC climbed to some other optimum than the features pointed to: trust neither.
        raise ImagingError(
            "the follow-up does not line up with the baseline (features and fine alignment "
            "disagree): retake it with the same view and distance"
        )
    if quality < min_quality:
        raise ImagingError(
            f"the follow-up does not line up with the baseline (alignment quality "
            f"{quality:.2f} < {min_quality:.2f}): retake it with the same view and distance"
        )
    full = _scale_matrix(small_f) @ refined @ np.linalg.inv(_scale_matrix(small_b))
    return Alignment(full / full[2, 2], quality, inliers)


def _disagreement(a: np.ndarray, b: np.ndarray, regions: list[np.ndarray]) -> float:
    """Largest distance, in pixels, between where two homographies send the regions' box
    corners, as a fraction of the box's diagonal."""
    pts = np.vstack(regions)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    box = np.array([lo, [hi[0], lo[1]], hi, [lo[0], hi[1]]], dtype=np.float64)[None]
    moved = cv2.perspectiveTransform(box, a)[0] - cv2.perspectiveTransform(box, b)[0]
    return float(np.linalg.norm(moved, axis=1).max() / max(np.linalg.norm(hi - lo), 1.0))


def _equalised(gray: np.ndarray) -> np.ndarray:
    """Local contrast equalised, so a dark exposure or darker skin yields as many features."""
    return _CLAHE.apply(gray)


def _feature_mask(
    shape: tuple[int, ...], exclude: Sequence[object], small: DecodedImage
) -> np.ndarray:
    mask = np.full(shape[:2], 255, dtype=np.uint8)
    for polygon in exclude:
        pts = _to_small(np.asarray(polygon, dtype=np.float64), small)
        centre = pts.mean(axis=0)
        grown = centre + (pts - centre) * 1.08  # keep features off the chart's edge too
        cv2.fillPoly(mask, [np.round(grown).astype(np.int32)], 0)
    return mask


def _feature_homography(
    gray_b: np.ndarray, gray_f: np.ndarray, mask_b: np.ndarray, mask_f: np.ndarray
) -> tuple[np.ndarray, int]:
    orb = cv2.ORB.create(nfeatures=_ORB_FEATURES, fastThreshold=10)
    kp_b, des_b = orb.detectAndCompute(_equalised(gray_b), mask_b)
    kp_f, des_f = orb.detectAndCompute(_equalised(gray_f), mask_f)
    if des_b is None or des_f is None or len(kp_b) < MIN_INLIERS or len(kp_f) < MIN_INLIERS:
        raise ImagingError("too little detail to align the photos (is one blank or blurred?)")
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(des_b, des_f, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < _RATIO * p[1].distance]
    if len(good) < MIN_INLIERS:
        raise _unrelated(len(good))
    src = np.array([kp_b[m.queryIdx].pt for m in good], dtype=np.float32)
    dst = np.array([kp_f[m.trainIdx].pt for m in good], dtype=np.float32)
    h, inlier_mask = cv2.findHomography(src, dst, cv2.RANSAC, 3.0, maxIters=3000)
    inliers = 0 if inlier_mask is None else int(inlier_mask.sum())
    if h is None or inliers < MIN_INLIERS or not _plausible(h):
        raise _unrelated(inliers)
    return h, inliers


def _unrelated(matches: int) -> ImagingError:
    return ImagingError(
        f"the follow-up does not match the baseline ({matches} consistent features): "
        "is it the same patient, site and view?"
    )


def _plausible(h: np.ndarray) -> bool:
    """A follow-up of the same view is not mirrored, squashed or wildly rescaled."""
    h = h / h[2, 2]
    singular = np.linalg.svd(h[:2, :2], compute_uv=False)
    upright = np.linalg.det(h[:2, :2]) > 0
    similar_scale = singular[1] > 0.33 and singular[0] < 3.0
    not_squashed = singular[0] / singular[1] < 2.0
    return bool(upright and similar_scale and not_squashed and np.abs(h[2, :2]).max() < 2e-3)


def _ecc_refine(
    gray_b: np.ndarray,
    gray_f: np.ndarray,
    guess: np.ndarray,
    regions: list[np.ndarray],
    followup_mask: np.ndarray,
) -> tuple[np.ndarray, float]:
    """ECC on the regions (template from the baseline); returns H and correlation.

    Both images are high-passed first, so the correlation measures whether skin detail
    (pores, pits, texture) lines up, not whether two photos share broad shading: two
    different cheeks framed alike would otherwise score well. Only the regions, slightly
    widened, count in the template; the follow-up's chart is masked out. The regions' box
    is worked at most `_ECC_SIDE` pixels wide.
    """
    x0, y0, x1, y1 = _box(regions, gray_b.shape)
    k = min(1.0, _ECC_SIDE / max(x1 - x0, y1 - y0))
    zoom = np.diag([k, k, 1.0])
    shift = np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]], dtype=np.float64)
    template = _detail(_resize(gray_b[y0:y1, x0:x1], k))
    target = _detail(_resize(gray_f, k))
    template_mask = _region_mask(regions, (x0, y0), k, template.shape)
    input_mask = _resize(followup_mask, k, cv2.INTER_NEAREST)
    warp = (zoom @ guess @ shift @ np.linalg.inv(zoom)).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, _ECC_ITERATIONS, 1e-5)
    try:
        if hasattr(cv2, "findTransformECCWithMask"):  # OpenCV >= 4.12
            rho, warp = cv2.findTransformECCWithMask(
                template,
                target,
                template_mask,
                input_mask,
                warp,
                cv2.MOTION_HOMOGRAPHY,
                criteria,
                3,
            )
        else:  # older OpenCV: no template mask, so blank the template outside the regions
            template[template_mask == 0] = 0
            rho, warp = cv2.findTransformECC(
                template, target, warp, cv2.MOTION_HOMOGRAPHY, criteria, input_mask, 3
            )
    except cv2.error as exc:
        raise ImagingError(
            "the follow-up does not line up with the baseline (alignment did not converge): "
            "is it the same patient, site and view?"
        ) from exc
    refined = np.linalg.inv(zoom) @ warp.astype(np.float64) @ zoom @ np.linalg.inv(shift)
    return refined / refined[2, 2], float(max(0.0, rho))


def _region_mask(
    regions: list[np.ndarray], origin: tuple[int, int], k: float, shape: tuple[int, ...]
) -> np.ndarray:
    mask = np.zeros(shape[:2], dtype=np.uint8)
    for region in regions:
        pts = (region - origin) * k
        centre = pts.mean(axis=0)
        grown = centre + (pts - centre) * (1 + 2 * _REGION_MARGIN)
        cv2.fillPoly(mask, [np.round(grown).astype(np.int32)], 255)
    return mask


def _resize(image: np.ndarray, k: float, interpolation: int = cv2.INTER_AREA) -> np.ndarray:
    if k >= 1.0:
        return image
    size = (max(1, round(image.shape[1] * k)), max(1, round(image.shape[0] * k)))
    return cv2.resize(image, size, interpolation=interpolation)


def _detail(gray: np.ndarray) -> np.ndarray:
    image = gray.astype(np.float32)
    return image - cv2.GaussianBlur(image, (0, 0), _DETAIL_SIGMA)


def _box(regions: list[np.ndarray], shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    everything = np.vstack(regions)
    lo, hi = everything.min(axis=0), everything.max(axis=0)
    pad = (hi - lo) * _REGION_MARGIN + 8
    x0, y0 = np.maximum(np.floor(lo - pad), 0).astype(int)
    x1, y1 = np.minimum(np.ceil(hi + pad), [shape[1], shape[0]]).astype(int)
    if x1 - x0 < 16 or y1 - y0 < 16:
        raise ImagingError("the region to align on is too small")
    return int(x0), int(y0), int(x1), int(y1)


def _scale_matrix(small: DecodedImage) -> np.ndarray:
    """Reduced-copy pixels -> full-resolution pixels (pixel centres line up)."""
    sx, sy = small.scale
    return np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1.0]])


def _to_small(points: np.ndarray, small: DecodedImage) -> np.ndarray:
    pts = points.reshape(-1, 2)
    return cv2.perspectiveTransform(pts[None], np.linalg.inv(_scale_matrix(small)))[0]
