"""Example pictures for the patient's capture guide, drawn by the project.

A schematic head (never a real person) with the colour chart held beside the cheek,
seen from the front and turned 45° either way.
"""

from __future__ import annotations

import cv2
import numpy as np

from .colorimetry import REFERENCE_LINEAR_SRGB, srgb_encode

SIZE = (640, 480)  # width, height
SKIN = (224, 178, 150)
HAIR = (70, 52, 40)
BACKDROP = (236, 238, 240)


def example_picture(view: str) -> bytes:
    """JPEG bytes: front, left_45 or right_45."""
    turn = {"front": 0.0, "left_45": -1.0, "right_45": 1.0}.get(view)
    if turn is None:
        raise ValueError(f"no example for view {view!r}")
    w, h = SIZE
    img = np.full((h, w, 3), BACKDROP, dtype=np.uint8)
    cx, cy = w // 2 + int(turn * 18), h // 2 + 20
    # shoulders, neck, hair, face
    cv2.ellipse(img, (w // 2, h + 60), (230, 150), 0, 180, 360, (90, 120, 160), -1, cv2.LINE_AA)
    cv2.rectangle(img, (w // 2 - 45, cy + 90), (w // 2 + 45, cy + 170), SKIN, -1)
    cv2.ellipse(img, (cx - int(turn * 12), cy - 40), (138, 150), 0, 0, 360, HAIR, -1, cv2.LINE_AA)
    face_w = int(120 - abs(turn) * 18)
    cv2.ellipse(img, (cx, cy), (face_w, 150), 0, 0, 360, SKIN, -1, cv2.LINE_AA)
    # eyes, brows, nose and mouth shift towards the turn, as on a real head
    shift = int(turn * 38)
    for side in (-1, 1):
        ex = cx + shift + side * int(44 - abs(turn) * (14 if side * turn > 0 else -4))
        cv2.ellipse(img, (ex, cy - 30), (16, 8), 0, 0, 360, (250, 250, 250), -1, cv2.LINE_AA)
        cv2.circle(img, (ex + int(turn * 4), cy - 30), 6, (60, 70, 90), -1, cv2.LINE_AA)
        cv2.line(img, (ex - 18, cy - 52), (ex + 18, cy - 54), HAIR, 5, cv2.LINE_AA)
    nose = np.array([[cx + shift, cy - 20], [cx + shift + int(turn * 16) + 8, cy + 30],
                     [cx + shift - 8, cy + 32]], dtype=np.int32)  # fmt: skip
    cv2.polylines(img, [nose], False, (190, 140, 115), 3, cv2.LINE_AA)
    cv2.ellipse(img, (cx + shift, cy + 75), (30, 10), 0, 0, 180, (170, 90, 90), 4, cv2.LINE_AA)
    _chart(img, (cx + (face_w + 20 if turn <= 0 else -face_w - 150), cy - 10))
    rgb = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", rgb, [cv2.IMWRITE_JPEG_QUALITY, 88])
    assert ok
    return buf.tobytes()


def _chart(img: np.ndarray, origin: tuple[int, int]) -> None:
    """The 6×4 ColorChecker, 130 px wide, at `origin` (top-left), on its black card."""
    x0, y0 = origin
    patch, gap = 19, 3
    cv2.rectangle(img, (x0 - 6, y0 - 6), (x0 + 6 * (patch + gap) + 3, y0 + 4 * (patch + gap) + 3),
                  (25, 25, 25), -1)  # fmt: skip
    colours = np.round(srgb_encode(REFERENCE_LINEAR_SRGB) * 255).astype(int)
    for k, rgb in enumerate(colours):
        r, c = divmod(k, 6)
        x, y = x0 + c * (patch + gap), y0 + r * (patch + gap)
        cv2.rectangle(img, (x, y), (x + patch, y + patch), tuple(int(v) for v in rgb), -1)
