"""`scarrx photo analyze`: the researchers' and scripts' way in.

    scarrx photo analyze FILE [FILE ...] --roi "X,Y X,Y X,Y ..." --reference "X,Y ..."
                              [--corners "X,Y X,Y X,Y X,Y"] [--baseline FILE]
                              [--chart NAME | --chart-mm PITCH,PATCH] [--jobs N]

`main` receives the arguments after the word "photo" (e.g. ["analyze", "a.jpg", ...]).
One file: prints one JSON object and returns 0, or prints one line to stderr and
returns 2. Several files (a researcher's batch, one process so the imports are paid
once): one JSON line per file, in order, each with "file" first; a file that fails gives
{"file": ..., "error": "..."} and the exit status is 2 if any failed. A batch keeps
`--jobs` photos in hand at once (default: two, or one on a one-core machine): while one
is being analysed the next is decoded, so a batch costs little more per photo than
decoding it (`make bench` measures it; OpenCV then runs one thread per photo).

Only what a measurement uses is imported, and only when there is work to do: no Django,
no colour-science, no scikit-image (`scarrx.__main__` sends "photo" here directly).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from .errors import ImagingError

USAGE_ERROR = 2


class _Refused(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse would print usage and exit; the contract is one line and a status.
        raise _Refused(message)


def parse_points(text: str, option: str) -> list[tuple[float, float]]:
    """ "X,Y X,Y ..." -> [(x, y), ...]; a clear message naming the option otherwise."""
    points = []
    for pair in text.replace(";", " ").split():
        parts = pair.split(",")
        try:
            if len(parts) != 2:
                raise ValueError
            points.append((float(parts[0]), float(parts[1])))
        except ValueError:
            message = f"{option}: expected X,Y pairs separated by spaces, got {pair!r}"
            raise _Refused(message) from None
    return points


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
        if args.command != "analyze":
            raise _Refused(f"unknown photo command {args.command!r}")
        options = _options(args)
        if len(args.file) > 1:
            return _batch(args, options)
        from .analysis import analyze  # heavy imports only when there is work to do

        result = analyze(args.file[0], **options)
    except (_Refused, ImagingError) as exc:
        print(f"scarrx photo: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    print(json.dumps(result, allow_nan=False))
    return 0


def _batch(args: argparse.Namespace, options: dict[str, Any]) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from .analysis import analyze

    def one(path: str) -> dict[str, Any]:
        try:
            return {"file": path, **analyze(path, **options)}
        except ImagingError as exc:
            return {"file": path, "error": str(exc)}

    import cv2

    jobs = args.jobs or min(2, os.cpu_count() or 1)
    threads = cv2.getNumThreads()
    if jobs > 1:
        cv2.setNumThreads(1)  # the photos in hand share the cores, not each call
    status = 0
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for line in pool.map(one, args.file):  # in order, whichever finishes first
                status = USAGE_ERROR if "error" in line else status
                print(json.dumps(line, allow_nan=False), flush=True)
    finally:
        cv2.setNumThreads(threads)
    return status


def _options(args: argparse.Namespace) -> dict[str, Any]:
    from .charts import DEFAULT_CHART, chart_model

    roi = parse_points(args.roi, "--roi")
    reference = parse_points(args.reference, "--reference")
    corners = None if args.corners is None else parse_points(args.corners, "--corners")
    if corners is not None and len(corners) != 4:
        raise _Refused(f"--corners: give exactly four X,Y points, got {len(corners)}")
    chart: object = DEFAULT_CHART if args.chart is None else chart_model(args.chart)
    if args.chart_mm is not None:
        parts = args.chart_mm.replace(" ", "").split(",")
        if len(parts) != 2:
            raise _Refused("--chart-mm: expected PITCH,PATCH in millimetres, e.g. 14.8,11.7")
        chart = chart_model({"name": "custom", "pitch_mm": parts[0], "patch_mm": parts[1]})
    return {
        "roi": roi,
        "reference": reference,
        "corners": corners,
        "baseline": args.baseline,
        "chart": chart,
    }


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="scarrx photo", description="Measure progress photos.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    analyze = commands.add_parser(
        "analyze", help="calibrate a photo on its colour chart and measure two regions"
    )
    analyze.add_argument("file", nargs="+", help="JPEG, PNG or HEIC photo(s)")
    analyze.add_argument("--roi", required=True, help='scar region: "X,Y X,Y X,Y ..."')
    analyze.add_argument("--reference", required=True, help="unaffected skin, same format")
    analyze.add_argument(
        "--corners",
        help="chart's four corner-patch outer corners, when detection should "
        'be skipped: "X,Y X,Y X,Y X,Y"',
    )
    analyze.add_argument(
        "--baseline", help="baseline photo: align FILE to it; regions are drawn on it"
    )
    analyze.add_argument(
        "--jobs", type=_positive, help="photos analysed at once in a batch (default 2)"
    )
    which = analyze.add_mutually_exclusive_group()
    which.add_argument(
        "--chart", help="chart in the photo: classic, mini (default), nano or passport"
    )
    which.add_argument(
        "--chart-mm", help="a chart of another size: PITCH,PATCH in mm (centre-to-centre, side)"
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
