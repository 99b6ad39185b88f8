"""Demo progress photos: synthetic phantoms (skin, scar, pits, a colour chart) taken by
a camera that is wrong in known ways, uploaded, measured and aligned like real ones.

Nothing here is a picture of a person. For the reference case the follow-up scar is
rendered 6 a* units less red than at baseline, under different light, moved and turned,
so the demo shows a measured fall in redness that survives the change of light.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time

from django.utils import timezone

from scarrx.photos.services import carry_over, measure_photo, upload_photo


def _at(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(9, 30)))


def add_photo_pair(
    *, patient, actor, baseline_on, followup_on, seed, delta_a, improvement, site="cheeks"
):
    """Upload, measure and align a baseline/follow-up pair; returns the follow-up measurement."""
    from scarrx.imaging import phantom as ph

    spec = ph.SceneSpec(seed=seed, scar_delta_a=delta_a)
    before = ph.photograph(ph.make_scene(spec), replace(ph.WARM_CAST, seed=seed))
    after_scene = ph.make_scene(replace(spec, scar_delta_a=delta_a - improvement))
    moved = replace(
        ph.COOL_CAST, rotation_deg=3.0, shift_px=(25.0, -15.0), scale=1.02, seed=seed + 1
    )
    after = ph.photograph(after_scene, moved)
    base_photo = upload_photo(
        patient=patient, actor=actor, data=before.jpeg, site=site, view="front",
        taken_at=_at(baseline_on),
    )  # fmt: skip
    measure_photo(
        base_photo, actor=actor, roi=[list(p) for p in before.roi],
        reference=[list(p) for p in before.reference],
    )  # fmt: skip
    follow_photo = upload_photo(
        patient=patient, actor=actor, data=after.jpeg, site=site, view="front",
        taken_at=_at(followup_on),
    )  # fmt: skip
    return carry_over(follow_photo, actor=actor)
