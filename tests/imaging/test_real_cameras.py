"""Issue 8 and 7 on the imaging side: chart models, light checks, batches, regions,
ICC profiles and the bound on heavy work."""

from __future__ import annotations

import io
import json
import threading
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image, ImageCms

from scarrx.imaging import CHARTS, DEFAULT_CHART_NAME, analyze, chart_model, heavy_work
from scarrx.imaging.calibrate import PATCH_XY, UNEVEN_REFUSE, calibrate
from scarrx.imaging.chart import PatchSamples, find_chart
from scarrx.imaging.cli import main
from scarrx.imaging.colorimetry import REFERENCE_LINEAR_SRGB
from scarrx.imaging.decode import SRGB_PROFILE, decode, prepare_upload
from scarrx.imaging.errors import ImagingError
from scarrx.imaging.light import FRAME_DIP, frame_dip
from scarrx.imaging.metrics import as_polygon
from scarrx.imaging.phantom import WARM_CAST, SceneSpec, make_scene, photograph, realistic_cases
from scarrx.imaging.work import configure_heavy_work


def test_presets_and_default_chart_are_named():
    assert {"classic", "mini", "nano", "passport"} <= set(CHARTS)
    assert chart_model(DEFAULT_CHART_NAME) is CHARTS["mini"]
    assert chart_model("ColorChecker Classic").pitch_mm == pytest.approx(46.0)
    assert not chart_model("nano").verified


@pytest.mark.parametrize(
    "spec",
    ["unknown", {"pitch_mm": "x", "patch_mm": 3}, {"pitch_mm": 10, "patch_mm": 12}, 7,
     {"pitch_mm": float("nan"), "patch_mm": 3}],
)  # fmt: skip
def test_bad_chart_models_are_refused(spec):
    with pytest.raises(ImagingError, match="^chart"):
        chart_model(spec)


@pytest.fixture(scope="module")
def classic_photo():
    """A full-size Classic would not fit the default scene: a Nano-sized custom card is
    painted instead, a geometry other than the code's default."""
    chart = chart_model({"name": "small card", "pitch_mm": 9.0, "patch_mm": 7.5})
    return photograph(make_scene(SceneSpec(seed=8, chart=chart)), WARM_CAST)


def test_chart_model_sets_the_scale_and_is_recorded(classic_photo):
    right = analyze(classic_photo.jpeg, classic_photo.roi, classic_photo.reference,
                    chart={"name": "small card", "pitch_mm": 9.0, "patch_mm": 7.5})  # fmt: skip
    assert right["px_per_mm"] == pytest.approx(classic_photo.px_per_mm, rel=0.03)
    assert right["calibration"]["chart"]["pitch_mm"] == 9.0
    wrong = analyze(classic_photo.jpeg, classic_photo.roi, classic_photo.reference)
    assert wrong["px_per_mm"] == pytest.approx(classic_photo.px_per_mm * 9.0 / 14.8, rel=0.05)


def test_skin_held_out_error_is_reported(classic_photo):
    result = analyze(classic_photo.jpeg, classic_photo.roi, classic_photo.reference,
                     chart={"pitch_mm": 9.0, "patch_mm": 7.5})  # fmt: skip
    assert 0 < result["calibration"]["heldout_skin_delta_e2000"] < 2.0


def test_shadowed_patches_are_left_out_and_a_dark_chart_refused():
    samples = np.clip(REFERENCE_LINEAR_SRGB, 1e-4, None) ** (1 / 1.1) * 0.8
    shaded = samples.copy()
    shaded[[2, 9]] *= 0.4  # two patches in a hand's shadow
    calibration = calibrate(PatchSamples(shaded, np.zeros(24, dtype=bool)))
    assert calibration.calibrated
    assert set(calibration.excluded) == {"blue sky", "purple"}
    assert "in shadow" in calibration.warnings[0] and "turn" in calibration.warnings[0]
    many = samples.copy()
    many[[1, 2, 3, 7, 9]] *= 0.4
    refused = calibrate(PatchSamples(many, np.zeros(24, dtype=bool)))
    assert not refused.calibrated  # too much of the chart is dark to trust a fit


def test_uneven_light_across_the_chart_is_corrected_and_warned():
    from scarrx.imaging.calibrate import light_field

    lit = REFERENCE_LINEAR_SRGB * light_field(np.array([0.2, 0.0]), np.arange(24))[:, None]
    calibration = calibrate(PatchSamples(lit, np.zeros(24, dtype=bool)))
    assert calibration.calibrated and calibration.heldout_delta_e2000 < 0.5
    assert calibration.light_unevenness == pytest.approx(np.exp(0.4), rel=0.05)
    assert any("uneven" in w for w in calibration.warnings)


def test_cli_takes_a_batch_and_a_chart(tmp_path, capsys, classic_photo):
    paths = []
    for name in ("a.jpg", "b.jpg"):
        (tmp_path / name).write_bytes(classic_photo.jpeg)
        paths.append(str(tmp_path / name))
    (tmp_path / "c.txt").write_text("not a photo")
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in classic_photo.reference)
    status = main(["analyze", *paths, str(tmp_path / "c.txt"), "--roi", pts,
                   "--reference", pts, "--chart-mm", "9,7.5"])  # fmt: skip
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 2 and len(lines) == 3
    assert lines[0]["file"] == paths[0] and lines[0]["calibration"]["chart"]["pitch_mm"] == 9
    assert "not an image" in lines[2]["error"]


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([(100, 100), (200, 100), (300, 100)], "^roi region encloses no area"),
        ([(10, 10), (60, 60), (60, 10), (10, 60)], "^roi region crosses itself"),
        ([(10, 10), (13, 10), (13, 13), (10, 13)], "^roi region is too small"),
        ([(1, 1)] * 2001, "^roi region has more than"),
    ],
)
def test_degenerate_regions_are_refused_naming_them(points, message):
    with pytest.raises(ImagingError, match=message):
        as_polygon(points, 400, 300, "roi")


def test_straight_line_region_gives_a_refusal_not_a_crash(classic_photo):
    with pytest.raises(ImagingError, match="^reference"):
        analyze(classic_photo.jpeg, classic_photo.roi, [(100, 100), (200, 100), (300, 100)])


def _jpeg_with_icc(icc: bytes) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 90)).save(buf, "JPEG", icc_profile=icc)
    return buf.getvalue()


def test_junk_icc_profile_is_not_copied_into_the_stored_image():
    upload = prepare_upload(_jpeg_with_icc(b"\x00junk" * 100_000))
    stored = Image.open(io.BytesIO(upload.jpeg)).info["icc_profile"]
    assert stored == SRGB_PROFILE and len(stored) < 2000


def test_non_srgb_profile_is_converted_to_srgb():
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB"))
    wide = ImageCms.createProfile("XYZ")
    del lab
    data = _jpeg_with_icc(ImageCms.ImageCmsProfile(wide).tobytes())
    image = decode(data)
    assert image.icc_profile == SRGB_PROFILE
    assert not np.array_equal(image.rgb[0, 0], [200, 120, 90])  # the pixels were converted


def test_heavy_work_lets_no_more_than_the_limit_run_at_once():
    configure_heavy_work(2)
    running, peak, lock = [0], [0], threading.Lock()
    gate = threading.Event()

    def job():
        with heavy_work():
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            gate.wait(0.2)
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=job) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2
    with heavy_work(), heavy_work(), pytest.raises(ImagingError, match="busy"):  # noqa: SIM117
        with heavy_work(timeout=0.01):
            pass
    assert replace  # dataclasses.replace kept for fixtures above


# --- phantoms that behave like real cameras (phantom.realistic_cases) ------------------


@pytest.mark.parametrize("name", list(realistic_cases()))
def test_realistic_phantom_is_found_calibrated_and_measured(realistic_photos, name):
    photo = realistic_photos[name]
    scene = photo.scene
    result = analyze(photo.jpeg, photo.roi, photo.reference, chart=scene.spec.chart)
    corners = np.array(result["calibration"]["chart_corners"])
    assert np.abs(corners - photo.chart_corners).max() < 2.0
    assert result["px_per_mm"] == pytest.approx(photo.px_per_mm, rel=0.01)
    assert result["calibrated"], result.get("reason")
    assert result["calibration"]["heldout_skin_delta_e2000"] <= 2.0
    assert result["calibration"]["heldout_delta_e2000"] <= 3.0
    # The scar-minus-reference difference keeps most of the truth. Most of what it misses
    # here is light: the scar and the reference are lit otherwise than the chart, which no
    # chart fit can undo (a camera that renders colour exactly, under the phone cases' light,
    # reports Δa* 0.9-3.0 too high); the phone's S-curve and saturation, which a low-order
    # correction undoes only in part, make it lower (the test below), and the two cancel
    # in part.
    truth = scene.true_lab(scene.roi_mm)[1] - scene.true_lab(scene.spec.reference_mm)[1]
    assert result["difference"]["a_star"] == pytest.approx(truth, abs=1.5)


@pytest.mark.parametrize("name", list(realistic_cases()))
def test_realistic_camera_under_even_light_keeps_the_scar_difference_within_one(name):
    # The colour fit's own error on the difference: the same camera, no vignetting and no
    # gradient across the frame (light that survives the fit, above). 0.15-0.75 low on
    # the cases and seeds of `make bench`.
    spec, camera = realistic_cases()[name]
    photo = photograph(make_scene(spec), replace(camera, vignetting=0.0, light_gradient=(0.0, 0.0)))
    scene = photo.scene
    result = analyze(photo.jpeg, photo.roi, photo.reference, chart=spec.chart)
    assert result["calibrated"], result.get("reason")
    truth = scene.true_lab(scene.roi_mm)[1] - scene.true_lab(scene.spec.reference_mm)[1]
    assert result["difference"]["a_star"] == pytest.approx(truth, abs=1.0)


def test_hand_shadow_on_the_chart_is_left_out_and_named(realistic_photos):
    photo = realistic_photos["phone, hand's shadow on the chart"]
    result = analyze(photo.jpeg, photo.roi, photo.reference)
    warnings = " ".join(result["calibration"]["warnings"])
    assert "in shadow" in warnings and "turn so the light falls evenly" in warnings
    assert set(result["calibration"]["excluded_patches"]) <= {
        "orange yellow", "bluish green", "yellow green", "blue flower", "orange", "cyan"
    }  # fmt: skip


def test_cli_batch_gives_the_same_lines_in_order_whatever_the_jobs(tmp_path, capsys, classic_photo):
    paths = []
    for k in range(3):
        (tmp_path / f"{k}.jpg").write_bytes(classic_photo.jpeg)
        paths.append(str(tmp_path / f"{k}.jpg"))
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in classic_photo.reference)
    outputs = []
    for jobs in ("1", "3"):
        assert main(["analyze", *paths, "--roi", pts, "--reference", pts, "--jobs", jobs]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    assert [json.loads(line)["file"] for line in outputs[0].splitlines()] == paths
    assert main(["analyze", *paths, "--roi", pts, "--reference", pts, "--jobs", "0"]) == 2
    assert "--jobs" in capsys.readouterr().err


# --- light on the chart (issue 8, part 3) ------------------------------------------------


def true_unevenness(photo) -> float:
    """Brightest over darkest corner of exp(a·x + b·y) fitted to the light the phantom's
    camera put on the patch centres: the figure calibration reports."""
    spec = photo.scene.spec
    light = photo.light_at(spec.chart.patch_centres_mm() + spec.chart_origin_mm)
    design = np.column_stack([np.ones(24), PATCH_XY])
    coef, *_ = np.linalg.lstsq(design, np.log(light), rcond=None)
    return float(np.exp(2 * np.abs(coef[1:]).sum()))


def test_uneven_light_on_the_chart_is_measured_and_warned(realistic_photos):
    photo = realistic_photos["phone, warm lamp to one side"]
    calibration = analyze(photo.jpeg, photo.roi, photo.reference)["calibration"]
    assert calibration["light_unevenness"] == pytest.approx(true_unevenness(photo), rel=0.1)
    assert any("light is uneven" in w for w in calibration["warnings"])


def test_light_far_stronger_on_one_side_is_refused_with_what_to_do(realistic_photos):
    photo = realistic_photos["phone, daylight"]
    lamp = photograph(photo.scene, replace(photo.camera, light_gradient=(1.2, 0.0)))
    result = analyze(lamp.jpeg, lamp.roi, lamp.reference)
    assert true_unevenness(lamp) > UNEVEN_REFUSE
    assert not result["calibrated"]
    assert "light falls very unevenly" in result["reason"]
    assert "turn so the light falls evenly on it" in result["reason"]


def test_dark_band_on_the_frame_is_a_shadow_even_between_patches(realistic_photos):
    photo = realistic_photos["phone, daylight"]
    chart, (ox, _) = photo.scene.spec.chart, photo.scene.spec.chart_origin_mm
    # A strap's shadow along the gap between the third and fourth columns: it misses
    # the sampled middle of every patch.
    x = ox + chart.patch_mm + 2 * chart.pitch_mm + (chart.pitch_mm - chart.patch_mm) / 2
    strap = ((x - 1.2, 0.0), (x + 1.2, 0.0), (x + 1.2, 120.0), (x - 1.2, 120.0))
    camera = replace(photo.camera, shadow_mm=strap, shadow_light=0.3, shadow_edge_mm=0.5)
    shaded = photograph(photo.scene, camera)
    image = decode(shaded.jpeg)
    location = find_chart(image)
    assert (
        frame_dip(image.rgb, location)
        < FRAME_DIP
        < frame_dip(decode(photo.jpeg).rgb, find_chart(decode(photo.jpeg)))
    )
    result = analyze(shaded.jpeg, shaded.roi, shaded.reference)
    assert any("black frame is darker" in w for w in result["calibration"]["warnings"])
