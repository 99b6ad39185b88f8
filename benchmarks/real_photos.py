"""Measure scarrx.imaging on real photos of a real 24-patch ColorChecker.

    .venv/bin/python benchmarks/real_photos.py FOLDER [--chart mini] [--manifest FILE]

For every JPEG/PNG in FOLDER: is the chart found, its size in pixels, the held-out
(leave-one-out) ΔE2000 over all usable patches and over the skin patches, the method
picked, warnings and refusals, and px/mm. With `--manifest` (JSON: file name -> {"chart":
NAME, "ruler": ...}), each photo is read with its own chart model, and where a photo
carries a ruler the px/mm is checked against it. The one ruler understood so far is
"arcu-a3" / "arcu-a4": the printed sheets of github.com/JTvD/arcu_colorchecker, four
ArUco markers (DICT_4X4_50, ids 0-3) of 100 pt (A3) or 50 pt (A4) with their inner
corners on a 210 × 300 mm (A3) or 70 × 115 mm (A4) rectangle.

`benchmarks/real_photos.json` is the manifest of the photos measured for issue 8, with
where each came from and its licence; the photos themselves are not in this
repository (see that file for how to get them).

Figures, not pass/fail: the summary gives medians over the photos found.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

SUFFIXES = {".jpg", ".jpeg", ".png", ".heic"}
ARUCO_LAYOUTS = {
    "arcu-a3": (210.0, 300.0, 100 * 25.4 / 72),
    "arcu-a4": (70.0, 115.0, 50 * 25.4 / 72),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--chart", default=None, help="chart model for every photo")
    parser.add_argument("--manifest", type=Path, help="JSON: file name -> chart, ruler")
    args = parser.parse_args()
    manifest = json.loads(args.manifest.read_text())["photos"] if args.manifest else {}
    files = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in SUFFIXES)
    rows = [_measure(path, manifest.get(path.name, {}), args.chart) for path in files]
    _print(rows)
    return 0


def _measure(path: Path, facts: dict, chart_name: str | None) -> dict:
    import numpy as np

    from scarrx.imaging.calibrate import calibrate
    from scarrx.imaging.chart import find_chart, sample_patches
    from scarrx.imaging.charts import chart_model
    from scarrx.imaging.decode import decode, read_input

    chart = chart_model(chart_name or facts.get("chart") or "mini")
    image = decode(read_input(path))
    location = find_chart(image, chart)
    row: dict = {"photo": path.name, "chart": chart.name, "found": location is not None}
    if location is None:
        return row
    calibration = calibrate(sample_patches(image.rgb, location))
    side = float(np.linalg.norm(location.corners[1] - location.corners[0]))
    row.update(
        long_side_px=round(
            max(side, float(np.linalg.norm(location.corners[3] - location.corners[0])))
        ),
        heldout_all=calibration.heldout_delta_e2000,
        heldout_skin=calibration.heldout_skin_delta_e2000,
        method=calibration.method,
        calibrated=calibration.calibrated,
        reason=calibration.reason,
        warnings=list(calibration.warnings),
        px_per_mm=location.px_per_mm,
    )
    ruler = facts.get("ruler")
    if ruler in ARUCO_LAYOUTS:
        truth = _aruco_px_per_mm(image.rgb, location, ARUCO_LAYOUTS[ruler])
        if truth is not None:
            row["ruler_px_per_mm"] = truth
            row["px_per_mm_error_pct"] = 100 * (location.px_per_mm / truth - 1)
    return row


def _aruco_px_per_mm(rgb, location, layout) -> float | None:
    """px/mm of the sheet at the chart's centre, from the four markers' 16 corners."""
    import cv2
    import numpy as np

    width, height, marker = layout
    detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50))
    corners, ids, _ = detector.detectMarkers(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    if ids is None or len(ids) < 4:
        return None
    # Marker k's top-left corner on the sheet, mm, y down; the rectangle's corner is its
    # inner corner. Ids 0-3: top-left, top-right, bottom-left, bottom-right.
    origin = {0: (-marker, -marker), 1: (width, -marker), 2: (-marker, height), 3: (width, height)}
    sheet, pixels = [], []
    for k, quad in zip(ids.ravel().tolist(), corners, strict=True):
        if k in origin:
            x, y = origin[k]
            sheet += [[x, y], [x + marker, y], [x + marker, y + marker], [x, y + marker]]
            pixels += quad.reshape(4, 2).tolist()
    if len(sheet) < 16:
        return None
    h, _ = cv2.findHomography(np.array(sheet), np.array(pixels))
    centre_px = location.corners.mean(axis=0)
    centre_mm = cv2.perspectiveTransform(centre_px[None, None], np.linalg.inv(h))[0, 0]
    # Local scale: pixels spanned by a 10 mm cross about the centre, both axes.
    probe = centre_mm + np.array([[-5, 0], [5, 0], [0, -5], [0, 5]])
    p = cv2.perspectiveTransform(probe[None], h)[0]
    return float((np.linalg.norm(p[1] - p[0]) + np.linalg.norm(p[3] - p[2])) / 20)


def _print(rows: list[dict]) -> None:
    header = (
        f"{'photo':<44}{'chart':<14}{'px':>6}{'ΔE all':>8}{'ΔE skin':>9}"
        f"{'px/mm':>8}{'ruler':>8}{'err %':>7}  result"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        if not r["found"]:
            print(f"{r['photo'][:43]:<44}{r['chart'][-13:]:<14}  chart not found")
            continue
        verdict = "calibrated" if r["calibrated"] else f"refused: {r['reason']}"
        if r["warnings"]:
            verdict += " | warns: " + "; ".join(w.split(":")[0] for w in r["warnings"])
        ruler = (
            f"{r['ruler_px_per_mm']:8.2f}{r['px_per_mm_error_pct']:+7.1f}"
            if "ruler_px_per_mm" in r
            else " " * 15
        )
        print(
            f"{r['photo'][:43]:<44}{r['chart'][-13:]:<14}{r['long_side_px']:>6}"
            f"{r['heldout_all']:8.2f}{_f(r['heldout_skin']):>9}{r['px_per_mm']:8.2f}"
            f"{ruler}  {verdict}"
        )
    found = [r for r in rows if r["found"]]
    print(f"\nchart found in {len(found)} of {len(rows)} photos")
    if found:
        alls = [r["heldout_all"] for r in found]
        skins = [r["heldout_skin"] for r in found if r["heldout_skin"] is not None]
        print(f"held-out ΔE2000, all patches: median {statistics.median(alls):.2f} (target <= 3)")
        if skins:
            print(
                f"held-out ΔE2000, skin patches: median {statistics.median(skins):.2f} "
                "(target <= 2)"
            )
        errors = [abs(r["px_per_mm_error_pct"]) for r in found if "px_per_mm_error_pct" in r]
        if errors:
            print(
                f"px/mm against the ruler: median |error| {statistics.median(errors):.2f} % "
                f"over {len(errors)} photos"
            )


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


if __name__ == "__main__":
    sys.exit(main())
