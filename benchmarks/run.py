"""`make bench`: how fast and how accurate the photo measurement is. Figures, not pass/fail.

In one run:

1. Speed on a 12-megapixel phantom JPEG with fine detail (skin texture, pores, sensor
   noise, JPEG at quality 92): decoding alone (the floor), full analysis, alignment of a
   follow-up to its baseline, analysis with a baseline. Each measurement runs in its
   own subprocess (so its peak memory, the process's high-water resident set size,
   belongs to it alone), warms up once, then is timed `--repeat` times.
2. A researcher's batch (issue 8, part 6): `scarrx photo analyze` on 20 of those 12 MP
   photos in one process, timed from the outside (interpreter start-up and imports
   included, so amortised over the batch), against a plain decode of the same photo:
   OpenCV's and Pillow's, warm, in a process of their own, whichever is faster. Wall
   time with the default two photos in hand and with one, and the CPU time the batch
   used per photo (which parallelism cannot hide).
3. An upload of a 7000 x 7000 PNG of about 160 KB (issue 7, item 7): the peak memory of
   `prepare_upload` alone, and of six such uploads arriving at once through
   `heavy_work()` (two at a time).
4. Accuracy on the 12 MP phantom pair (truth known exactly), and on the phantoms that
   behave like real cameras (`phantom.realistic_cases`: phone tone curve and
   saturation, sensor cross-talk, vignetting, light gradient, a hand's shadow, small
   and other-sized charts, a machine-vision camera), three seeds each: held-out
   ΔE2000 over all patches and the skin patches, px/mm error, and the error of the
   scar-minus-reference a*; and that error again with the same camera under even light
   (no vignetting, no gradient across the frame). Light that falls on the scar and the
   reference otherwise than on the chart survives any chart fit (it scales a* by about
   the cube root of its ratio), so the first error mixes the light with the colour
   fit's own error, which can cancel; the even-light one is the fit's alone.

The machine is shared (2 cores): read the best-of figures as the capability and the
medians as typical.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

ALIGNMENT_TARGET_S = 1.5
MEMORY_TARGET_MB = 1536
BATCH_SIZE = 20
BATCH_TARGET = 1.3  # whole-process time per photo / plain decode (issue 8)
MEASUREMENTS = ("decode", "analysis", "alignment", "analysis_with_baseline", "plain_decode")
SEEDS = (0, 1, 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="write the phantom photos here and keep them")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        return _child(args.measure, args.dir, args.repeat)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return _parent(args.keep, args.repeat)
    with tempfile.TemporaryDirectory(prefix="scarrx-bench-") as tmp:
        return _parent(Path(tmp), args.repeat)


# --- parent: render, measure in subprocesses, print ----------------------------------


def _parent(workdir: Path, repeat: int) -> int:
    print("Rendering the 12 MP phantom pair and a 49 MP PNG (not timed)...", flush=True)
    truth = _render(workdir)
    results = {name: _run_child(name, workdir, repeat) for name in MEASUREMENTS}
    _print_speed(results, truth, repeat)
    _print_batch(workdir, truth, results["plain_decode"])
    _print_upload(workdir)
    _print_accuracy(workdir, truth)
    _print_realistic()
    return 0


def _render(workdir: Path) -> dict:
    import numpy as np
    from PIL import Image

    from scarrx.imaging.phantom import benchmark_pair

    baseline, follow_up = benchmark_pair()
    (workdir / "baseline.jpg").write_bytes(baseline.jpeg)
    (workdir / "followup.jpg").write_bytes(follow_up.jpeg)
    batch = workdir / "batch"
    batch.mkdir(exist_ok=True)
    for k in range(BATCH_SIZE):  # the two photos alternately: 20 files, 20 decodes
        (batch / f"photo{k:02d}.jpg").write_bytes((baseline if k % 2 else follow_up).jpeg)
    # Issue 7's upload: 49 MP that compress to almost nothing.
    pixels = np.full((7000, 7000, 3), 236, dtype=np.uint8)
    pixels[::64] = (40, 60, 200)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG", optimize=True)
    (workdir / "big.png").write_bytes(buf.getvalue())

    def a_star_difference(photo) -> float:
        scene = photo.scene
        return float(scene.true_lab(scene.roi_mm)[1] - scene.true_lab(scene.spec.reference_mm)[1])

    truth = {
        "roi": baseline.roi,
        "reference": baseline.reference,
        "size": [baseline.camera.width, baseline.camera.height],
        "jpeg_mb": [len(baseline.jpeg) / 1e6, len(follow_up.jpeg) / 1e6],
        "px_per_mm": baseline.px_per_mm,
        "reference_lab": baseline.scene.true_lab(baseline.scene.spec.reference_mm).tolist(),
        "a_star_change": a_star_difference(follow_up) - a_star_difference(baseline),
        "pits": len(baseline.scene.pits),
        "pit_area_mm2": sum(p.area_mm2 for p in baseline.scene.pits),
        "mapped_roi": follow_up.to_image(baseline.scene.roi_mm),
        "png_kb": len(buf.getvalue()) / 1e3,
    }
    (workdir / "truth.json").write_text(json.dumps(truth))
    return truth


def _run_child(name: str, workdir: Path, repeat: int) -> dict:
    cmd = [sys.executable, __file__, "--measure", name, "--dir", str(workdir)]
    done = subprocess.run([*cmd, "--repeat", str(repeat)], capture_output=True, text=True)
    if done.returncode != 0:
        print(f"{name}: failed\n{done.stderr}", file=sys.stderr)
        return {"times": [float("nan")], "maxrss_mb": float("nan")}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _print_speed(results: dict, truth: dict, repeat: int) -> None:
    decode = statistics.median(results["decode"]["times"])
    decode_best = min(results["decode"]["times"])
    width, height = truth["size"]
    print(
        f"\nSpeed on a {width}x{height} ({width * height / 1e6:.1f} MP) JPEG of "
        f"{truth['jpeg_mb'][0]:.1f} MB; median and best of {repeat} runs\n"
    )
    header = f"{'measurement':<34}{'median':>9}{'best':>9}  {'target':<28}{'peak RSS':>9}"
    print(header)
    print("-" * len(header))
    rows = [
        ("decode alone (the floor)", "decode", "-"),
        ("full analysis", "analysis", f"<= 2 x decode ({2 * decode * 1000:.0f} ms)"),
        ("alignment to baseline", "alignment", f"<= {ALIGNMENT_TARGET_S * 1000:.0f} ms"),
        ("analysis with baseline (info)", "analysis_with_baseline", "-"),
    ]
    for label, key, target in rows:
        times = results[key]["times"]
        print(
            f"{label:<34}{_ms(statistics.median(times)):>9}{_ms(min(times)):>9}  "
            f"{target:<28}{results[key]['maxrss_mb']:>6.0f} MB"
        )
    analysis = results["analysis"]["times"]
    alignment = statistics.median(results["alignment"]["times"])
    peak = max(r["maxrss_mb"] for r in results.values())
    print()
    print(
        _verdict("full analysis / decode (median)", statistics.median(analysis) / decode, 2.0, "x")
    )
    print(_verdict("full analysis / decode (best)", min(analysis) / decode_best, 2.0, "x"))
    print(_verdict("alignment (median)", alignment, ALIGNMENT_TARGET_S, " s"))
    print(_verdict("peak memory, any measurement", peak, MEMORY_TARGET_MB, " MB"))


def _print_batch(workdir: Path, truth: dict, plain: dict) -> None:
    files = sorted(str(p) for p in (workdir / "batch").glob("*.jpg"))
    scarrx = Path(sys.executable).with_name("scarrx")
    command = [str(scarrx)] if scarrx.exists() else [sys.executable, "-m", "scarrx"]
    command += ["photo", "analyze", *files, "--roi", _points(truth["roi"])]
    command += ["--reference", _points(truth["reference"])]
    floors = {kind: statistics.median(times) for kind, times in plain["kinds"].items()}
    floor_kind = min(floors, key=floors.get)
    floor = floors[floor_kind]
    print(
        f"\nA batch of {len(files)} 12 MP photos, `scarrx photo analyze` in one process "
        "(start-up included), 3 runs each\n"
    )
    print(
        "plain decode of the same photo, warm: "
        + ", ".join(f"{kind} {_ms(value)}" for kind, value in floors.items())
        + f" (the floor: {floor_kind})\n"
    )
    header = f"{'batch':<30}{'wall/photo':>11}{'best':>9}{'CPU/photo':>11}{'ratio':>8}  target"
    print(header)
    print("-" * len(header))
    for label, jobs in (("two photos in hand (default)", 2), ("one at a time (--jobs 1)", 1)):
        walls, cpus = [], []
        for _ in range(3):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run([*command, "--jobs", str(jobs)], capture_output=True, text=True)
            walls.append((time.perf_counter() - start) / len(files))
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            cpus.append(cpu / len(files))
            if done.returncode != 0 or done.stdout.count("\n") != len(files):
                print(f"  batch failed: {done.stderr.strip()[:300]}")
                return
        wall = statistics.median(walls)
        ratio = wall / floor
        verdict = "meets" if ratio <= BATCH_TARGET else "MISSES"
        print(
            f"{label:<30}{_ms(wall):>11}{_ms(min(walls)):>9}{_ms(statistics.median(cpus)):>11}"
            f"{ratio:>7.2f}x  <= {BATCH_TARGET}x: {verdict} (best {min(walls) / floor:.2f}x)"
        )
    print(
        f"{'CPU time per photo / floor':<30}{'':>11}{'':>9}"
        f"{statistics.median(cpus) / floor:>10.2f}x  (one at a time: what the work costs)"
    )


def _print_upload(workdir: Path) -> None:
    done = subprocess.run(
        [sys.executable, __file__, "--measure", "upload", "--dir", str(workdir)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        print(f"upload: failed\n{done.stderr}", file=sys.stderr)
        return
    r = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"\nUpload of a 7000x7000 PNG of {r['png_kb']:.0f} KB (one RGB array: "
        f"{r['array_mb']:.0f} MB)\n"
    )
    print(f"{'prepare_upload, one upload':<44}peak RSS +{r['one_mb']:.0f} MB, {_ms(r['one_s'])}")
    print(
        f"{'six at once, heavy_work() two at a time':<44}peak RSS +{r['six_mb']:.0f} MB "
        f"(before this work: +480 MB for one upload alone)"
    )


def _print_accuracy(workdir: Path, truth: dict) -> None:
    import numpy as np

    from scarrx.imaging import analyze
    from scarrx.imaging.colorimetry import delta_e2000

    baseline, follow_up = workdir / "baseline.jpg", workdir / "followup.jpg"
    before = analyze(baseline, truth["roi"], truth["reference"])
    after = analyze(follow_up, truth["roi"], truth["reference"], baseline=baseline)
    change = after["difference"]["a_star"] - before["difference"]["a_star"]
    ref_error = delta_e2000(np.array(before["reference"]["lab"]), np.array(truth["reference_lab"]))
    h = np.array(after["alignment"]["homography"])
    roi = np.column_stack([np.array(truth["roi"]), np.ones(len(truth["roi"]))]) @ h.T
    mapped_error = np.abs(roi[:, :2] / roi[:, 2:] - np.array(truth["mapped_roi"])).max()
    cal = before["calibration"]
    print("\nAccuracy on the 12 MP phantom pair (truth known exactly)\n")
    lines = [
        ("chart, uncorrected ΔE2000 (mean)", f"{cal['uncorrected_delta_e2000']:.2f}"),
        ("chart, held-out ΔE2000 (leave-one-out)", f"{cal['heldout_delta_e2000']:.2f}"),
        ("reference skin, ΔE2000 to truth", f"{float(ref_error):.2f}  (target <= 2)"),
        (
            "change in scar-minus-reference a*",
            f"{change:+.2f} measured vs {truth['a_star_change']:+.2f} true (target ±1)",
        ),
        (
            "px/mm",
            f"{before['px_per_mm']:.3f} vs {truth['px_per_mm']:.3f} true "
            f"({(before['px_per_mm'] / truth['px_per_mm'] - 1) * 100:+.2f} %)",
        ),
        (
            "alignment quality / ROI mapping error",
            f"{after['alignment']['quality']:.3f} / {mapped_error:.2f} px",
        ),
        (
            "pits (exploratory): count, area mm²",
            f"{before['exploratory']['pit_count']} vs {truth['pits']} true, "
            f"{before['exploratory']['pit_area_mm2']:.1f} vs {truth['pit_area_mm2']:.1f}",
        ),
    ]
    for label, value in lines:
        print(f"{label:<42}{value}")


def _print_realistic() -> None:
    from dataclasses import replace

    import numpy as np

    from scarrx.imaging import analyze
    from scarrx.imaging.phantom import make_scene, photograph, realistic_cases

    print(
        f"\nPhantoms that behave like real cameras (phantom.realistic_cases), "
        f"medians over seeds {', '.join(map(str, SEEDS))}\n"
    )
    header = (
        f"{'case':<36}{'chart px':>9}{'ΔE all':>8}{'ΔE skin':>9}{'px/mm err':>11}"
        f"{'Δa* err':>9}{'even':>7}  result"
    )
    print(header)
    print("-" * len(header))
    every: dict[str, list[float]] = {"all": [], "skin": [], "ppm": [], "da": [], "even": []}
    for name, (spec, camera) in realistic_cases().items():
        rows, even = [], []
        for seed in SEEDS:
            scene = make_scene(replace(spec, seed=spec.seed + 100 * seed))
            photo = photograph(scene, replace(camera, seed=camera.seed + 100 * seed))
            result = analyze(photo.jpeg, photo.roi, photo.reference, chart=spec.chart)
            rows.append((photo, result))
            flat = photograph(
                scene,
                replace(
                    camera, seed=camera.seed + 100 * seed, vignetting=0.0, light_gradient=(0.0, 0.0)
                ),
            )
            flat_result = analyze(flat.jpeg, flat.roi, flat.reference, chart=spec.chart)
            if "difference" in flat_result:
                even.append(flat_result["difference"]["a_star"] - _true_a_star_difference(flat))
        found = [(p, r) for p, r in rows if r["px_per_mm"] is not None]
        side = max(np.ptp(rows[0][0].chart_corners, axis=0))
        if not found:
            print(f"{name:<36}{side:>9.0f}  chart not found")
            continue
        cal = [r["calibration"] for _, r in found]
        all_ = statistics.median(c["heldout_delta_e2000"] for c in cal)
        skin = statistics.median(c["heldout_skin_delta_e2000"] for c in cal)
        ppm = statistics.median(100 * (r["px_per_mm"] / p.px_per_mm - 1) for p, r in found)
        da = [
            r["difference"]["a_star"] - _true_a_star_difference(p)
            for p, r in found
            if "difference" in r
        ]
        every["all"].append(all_)
        every["skin"].append(skin)
        every["ppm"].append(abs(ppm))
        calibrated = sum(r["calibrated"] for _, r in rows)
        warned = {_short(w) for c in cal for w in c.get("warnings", [])}
        result = f"calibrated {calibrated}/{len(rows)}"
        if len(found) < len(rows):
            result += f", found {len(found)}/{len(rows)}"
        if warned:
            result += "; warns: " + "; ".join(sorted(warned))
        da_text = f"{statistics.median(da):+.2f}" if da else "-"
        if da:
            every["da"].append(abs(statistics.median(da)))
        even_text = f"{statistics.median(even):+.2f}" if even else "-"
        if even:
            every["even"].append(abs(statistics.median(even)))
        print(
            f"{name[:35]:<36}{side:>9.0f}{all_:>8.2f}{skin:>9.2f}{ppm:>+10.2f}%{da_text:>9}"
            f"{even_text:>7}  {result}"
        )
    print(
        f"\n{'median over the cases':<36}{'':>9}{statistics.median(every['all']):>8.2f}"
        f"{statistics.median(every['skin']):>9.2f}{statistics.median(every['ppm']):>10.2f}%"
        f"{statistics.median(every['da']):>9.2f}{statistics.median(every['even']):>7.2f}"
        "  (|px/mm err|, |Δa* err|)"
    )
    print(
        "targets on real photos (issue 8): skin <= 2.0, all <= 3.0; "
        "benchmarks/real_photos.py measures those"
    )


def _short(warning: str) -> str:
    if warning.startswith("chart:"):
        return "chart's size not verified"
    return warning.split(" (")[0].split(":")[0]


def _true_a_star_difference(photo) -> float:
    scene = photo.scene
    return float(scene.true_lab(scene.roi_mm)[1] - scene.true_lab(scene.spec.reference_mm)[1])


def _points(points: list) -> str:
    return " ".join(f"{x:.2f},{y:.2f}" for x, y in points)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _verdict(label: str, value: float, target: float, unit: str) -> str:
    outcome = "meets" if value <= target else "MISSES"
    return f"{label:<34}{value:>8.2f}{unit:<4} target <= {target:g}{unit}: {outcome}"


# --- child: one measurement ------------------------------------------------------------


def _child(name: str, workdir: Path, repeat: int) -> int:
    if name == "upload":
        print(json.dumps(_upload(workdir)))
        return 0
    if name == "plain_decode":
        kinds = {kind: _timed(task, repeat) for kind, task in _plain_decoders(workdir).items()}
        print(json.dumps({"kinds": kinds, "times": kinds["OpenCV"], "maxrss_mb": _peak_mb()}))
        return 0
    print(json.dumps({"times": _timed(_task(name, workdir), repeat), "maxrss_mb": _peak_mb()}))
    return 0


def _timed(task, repeat: int) -> list[float]:
    task()  # warm-up: first-call costs (lazy imports, OpenCV's thread pool) are not ours
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        task()
        times.append(time.perf_counter() - start)
    return times


def _plain_decoders(workdir: Path) -> dict:
    import cv2
    import numpy as np
    from PIL import Image

    data = (workdir / "baseline.jpg").read_bytes()

    def pillow() -> None:  # pixels in Pillow's own buffer, not yet an array
        Image.open(io.BytesIO(data)).load()

    return {
        "OpenCV": lambda: cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR_RGB),
        "Pillow": pillow,
    }


def _upload(workdir: Path) -> dict:
    import threading

    from scarrx.imaging.decode import prepare_upload
    from scarrx.imaging.work import configure_heavy_work, heavy_work

    data = (workdir / "big.png").read_bytes()
    configure_heavy_work(2)
    base = _rss_kb()
    start = time.perf_counter()
    with heavy_work():
        prepare_upload(data)
    one_s = time.perf_counter() - start
    one = _peak_kb() - base
    _reset_peak()
    base = _rss_kb()

    def upload() -> None:
        with heavy_work(timeout=None):
            prepare_upload(data)

    threads = [threading.Thread(target=upload) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    six = _peak_kb() - base
    return {
        "png_kb": len(data) / 1e3,
        "array_mb": 7000 * 7000 * 3 / 2**20,
        "one_mb": one / 1024,
        "one_s": one_s,
        "six_mb": six / 1024,
    }


def _status(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _rss_kb() -> int:
    return _status("VmRSS") or 0


def _peak_kb() -> int:
    """This process's peak resident set size, in kB.

    Linux keeps ru_maxrss across exec, so a child started by a parent that once held
    the rendered phantoms would report the parent's peak; VmHWM belongs to this image.
    """
    return _status("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak() -> None:
    """Reset VmHWM to the current RSS (Linux: write 5 to /proc/self/clear_refs)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mb() -> float:
    return _peak_kb() / 1024


def _task(name: str, workdir: Path):
    from scarrx.imaging import analyze
    from scarrx.imaging.align import align
    from scarrx.imaging.chart import find_chart
    from scarrx.imaging.decode import decode, decode_reduced

    truth = json.loads((workdir / "truth.json").read_text())
    roi, reference = truth["roi"], truth["reference"]
    baseline = (workdir / "baseline.jpg").read_bytes()
    follow_up = (workdir / "followup.jpg").read_bytes()

    def alignment() -> None:
        b, f = decode_reduced(baseline), decode_reduced(follow_up)
        charts_b, charts_f = find_chart(b), find_chart(f)
        align(
            b,
            f,
            regions=[roi, reference],
            exclude_baseline=[] if charts_b is None else [charts_b.corners],
            exclude_followup=[] if charts_f is None else [charts_f.corners],
        )

    return {
        "decode": lambda: decode(baseline),
        "analysis": lambda: analyze(baseline, roi, reference),
        "alignment": alignment,
        "analysis_with_baseline": lambda: analyze(follow_up, roi, reference, baseline=baseline),
    }[name]


if __name__ == "__main__":
    sys.exit(main())
