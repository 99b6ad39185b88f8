"""Measure scarrx.imaging on real photos of a real 24-patch ColorChecker.

    .venv/bin/python benchmarks/real_photos.py FOLDER [--chart mini] [--manifest FILE]
                                                [--method METHOD]

For every JPEG/PNG in FOLDER (a file repeating another's bytes counts once): is the
chart found, its size in pixels, the held-out (leave-one-out) ΔE2000 over all usable
patches and over the skin patches, warnings and refusals, px/mm, and how clearly the
patch order was recognised (the true order's score against the best other order's,
`lattice.assignment_residual`). With `--manifest` (JSON: file name -> {"chart": NAME,
"ruler": ..., "group": ...}), each photo is read with its own chart model, where a photo
carries a ruler the px/mm is checked against it, and the summary is given per group
(camera and setting) as well as over all photos. `--method` picks the correction.
The one ruler understood so far is "arcu-a3" / "arcu-a4": the printed sheets of
github.com/JTvD/arcu_colorchecker, four ArUco markers (DICT_4X4_50, ids 0-3) of
100 pt (A3) or 50 pt (A4) with their inner corners on a 210 × 300 mm (A3) or
70 × 115 mm (A4) rectangle.

`benchmarks/real_photos.json` is the manifest of the photos measured for issue 8, with
where each came from and its licence; the photos themselves are not in this
repository (see that file for how to get them: each repository named there, e.g. with
`git clone`, then the file copied under its key).

Figures, not pass/fail: the summary gives medians over the photos found.
"""

from __future__ import annotations

import argparse
import hashlib
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
    parser.add_argument("--manifest", type=Path, help="JSON: file name -> chart, ruler, group")
    parser.add_argument("--method", default=None, help="correction method (default: scarrx's)")
    args = parser.parse_args()
    manifest = json.loads(args.manifest.read_text())["photos"] if args.manifest else {}
    files, seen = [], set()
    for path in sorted(p for p in args.folder.iterdir() if p.suffix.lower() in SUFFIXES):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            files.append(path)
    rows = [_measure(path, manifest.get(path.name, {}), args.chart, args.method) for path in files]
    _print(rows)
    return 0


def _measure(path: Path, facts: dict, chart_name: str | None, method: str | None) -> dict:
    import numpy as np

    from scarrx.imaging.calibrate import DEFAULT_METHOD, calibrate
    from scarrx.imaging.chart import sample_patches, search_chart
    from scarrx.imaging.charts import chart_model
    from scarrx.imaging.decode import decode, read_input
    from scarrx.imaging.light import frame_dip

    chart = chart_model(chart_name or facts.get("chart") or "mini")
    image = decode(read_input(path))
    search = search_chart(image, chart)
    location = search.location
    row: dict = {
        "photo": path.name,
        "chart": chart.name,
        "group": facts.get("group", "all"),
        "found": location is not None,
    }
    if location is None:
        row["too_small_px"] = search.too_small_px
        return row
    calibration = calibrate(
        sample_patches(image.rgb, location),
        method=method or DEFAULT_METHOD,
        frame_dip=frame_dip(image.rgb, location),
    )
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
        order=_order_scores(image, location),
    )
    ruler = facts.get("ruler")
    if ruler in ARUCO_LAYOUTS:
        truth = _aruco_px_per_mm(image.rgb, location, ARUCO_LAYOUTS[ruler])
        if truth is not None:
            row["ruler_px_per_mm"] = truth
            row["px_per_mm_error_pct"] = 100 * (location.px_per_mm / truth - 1)
    return row


def _order_scores(image, location) -> tuple[float, float]:
    """(the found order's score, the best other order's) on the search copy: how clearly
    the patch order was told (scarrx.imaging.lattice; internals, read only)."""
    import numpy as np

    from scarrx.imaging import lattice
    from scarrx.imaging.decode import reduce

    small = reduce(image, fast=True)
    pixels = small.rgb.shape[0] * small.rgb.shape[1]
    squares = lattice.flat_squares(small.rgb, max(lattice.MIN_SQUARE_AREA, pixels * 1e-4))
    sx, sy = small.scale
    truth = lattice.apply_h(location.homography, location.geometry.patch_centres_mm())
    truth = (truth + 0.5) / np.array([sx, sy]) - 0.5
    found, other = np.inf, np.inf
    for ij, centres in lattice.lattices(squares):
        for score, h, _ in lattice.candidates(small.rgb, ij, centres):
            cells = np.stack(np.divmod(np.arange(24), 6)[::-1], axis=1).astype(np.float64)
            error = np.abs(lattice.apply_h(h, cells) - truth).max()
            if error < 2.0:
                found = min(found, score)
            else:
                other = min(other, score)
    return found, other


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
        f"{'px/mm':>8}{'ruler':>8}{'err %':>7}{'order':>12}  result"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        if not r["found"]:
            small = r.get("too_small_px")
            what = f"chart too small ({small:.0f} px)" if small else "chart not found"
            print(f"{r['photo'][:43]:<44}{r['chart'][-13:]:<14}  {what}")
            continue
        verdict = "calibrated" if r["calibrated"] else f"refused: {r['reason']}"
        if r["warnings"]:
            verdict += " | warns: " + "; ".join(w.split(":")[0] for w in r["warnings"])
        ruler = (
            f"{r['ruler_px_per_mm']:8.2f}{r['px_per_mm_error_pct']:+7.1f}"
            if "ruler_px_per_mm" in r
            else " " * 15
        )
        order = f"{r['order'][0]:.2f}/{r['order'][1]:.2f}"
        print(
            f"{r['photo'][:43]:<44}{r['chart'][-13:]:<14}{r['long_side_px']:>6}"
            f"{r['heldout_all']:8.2f}{_f(r['heldout_skin']):>9}{r['px_per_mm']:8.2f}"
            f"{ruler}{order:>12}  {verdict}"
        )
    print("\n(order: the found patch order's score / the best other order's)")
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["group"], []).append(r)
    if len(groups) > 1:
        groups = {"all photos": rows, **groups}
    print(
        f"\n{'group':<54}{'found':>7}{'ΔE all':>8}{'ΔE skin':>9}{'calib.':>8}"
        f"{'|px/mm err|':>13}{'order margin':>14}"
    )
    for name, members in groups.items():
        print(_summary(name, members))
    print("medians over each group's photos; targets (issue 8): skin <= 2.0, all <= 3.0")


def _summary(name: str, rows: list[dict]) -> str:
    found = [r for r in rows if r["found"]]
    alls = [r["heldout_all"] for r in found if r["heldout_all"] is not None]
    skins = [r["heldout_skin"] for r in found if r["heldout_skin"] is not None]
    errors = [abs(r["px_per_mm_error_pct"]) for r in found if "px_per_mm_error_pct" in r]
    margins = [r["order"][1] / r["order"][0] for r in found if r["order"][0] > 0]
    ppm = f"{statistics.median(errors):.2f} % ({len(errors)})" if errors else "-"
    return (
        f"{name[:53]:<54}{len(found):>3}/{len(rows):<3}"
        f"{_med(alls):>8}{_med(skins):>9}{sum(r['calibrated'] for r in found):>5}/{len(found):<2}"
        f"{ppm:>13}{(f'{min(margins):.1f}x' if margins else '-'):>14}"
    )


def _med(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}" if values else "-"


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


if __name__ == "__main__":
    sys.exit(main())
