"""Phantom photos shared by the imaging tests (rendered once per session: they are the
slow part)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from scarrx.imaging.phantom import (
    COOL_CAST,
    WARM_CAST,
    PhantomPhoto,
    SceneSpec,
    make_scene,
    photograph,
    realistic_cases,
    realistic_photo,
)

# The follow-up camera: moved, rotated, zoomed, other light, lower JPEG quality.
FOLLOW_UP_CAMERA = replace(
    COOL_CAST, rotation_deg=-8.0, scale=1.07, shift_px=(35.0, -20.0), jpeg_quality=80, seed=9
)


@pytest.fixture(scope="session")
def warm_photo() -> PhantomPhoto:
    """A scar photographed under a strong warm cast with a tone-curve error."""
    return photograph(make_scene(SceneSpec(seed=1)), WARM_CAST)


@pytest.fixture(scope="session")
def cool_photo() -> PhantomPhoto:
    """The same skin under a strong cool cast, rotated and further away."""
    camera = replace(COOL_CAST, rotation_deg=-11.0, scale=0.9, shift_px=(-30.0, 25.0), seed=4)
    return photograph(make_scene(SceneSpec(seed=1)), camera)


@pytest.fixture(scope="session")
def baseline_and_follow_up() -> tuple[PhantomPhoto, PhantomPhoto]:
    """Baseline, and a follow-up whose scar a* is 5 units lower, with the chart held
    elsewhere, the camera moved and the light changed."""
    spec = SceneSpec(seed=2, scar_delta_a=13.0)
    baseline = photograph(make_scene(spec), WARM_CAST)
    later = replace(spec, scar_delta_a=8.0, chart_origin_mm=(22.0, 13.0))
    return baseline, photograph(make_scene(later), FOLLOW_UP_CAMERA)


@pytest.fixture(scope="session")
def unrelated_photo() -> PhantomPhoto:
    """Someone else's skin: another texture, the scar and pits elsewhere."""
    spec = SceneSpec(seed=40, scar_centre_mm=(60.0, 90.0), scar_axes_mm=(30.0, 12.0))
    return photograph(make_scene(spec), COOL_CAST)


@pytest.fixture(scope="session")
def realistic_photos() -> dict[str, PhantomPhoto]:
    """The phantoms that behave like real cameras (phantom.realistic_cases), by name."""
    return {name: realistic_photo(name) for name in realistic_cases()}
