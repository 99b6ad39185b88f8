"""Scoring for the built-in scar scales and patient-reported ratings.

Pure functions of plain values: no Django, no database. Models, forms and the API store the
raw inputs together with the scale's version constant and call these functions to compute
totals. Source for every scale: the project's clinical.md §2 (clinician scales) and §3
(patient-reported outcomes), which names the papers.

Out-of-range input raises ``ScaleError``; nothing is ever clamped or rounded into range.
Whole-number inputs must be real ``int`` values: ``True``, ``3.0`` and ``"3"`` are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

__all__ = [
    "D2_AREA_BANDS",
    "ECCA_GRADES",
    "ECCA_ITEMS",
    "ECCA_VERSION",
    "GB_QUALITATIVE_GRADES",
    "GB_QUALITATIVE_QUESTIONS",
    "GB_QUALITATIVE_VERSION",
    "GB_QUANTITATIVE_VERSION",
    "GB_QUANT_TYPES",
    "GLOBAL_IMPRESSION",
    "SCAR_S_CATEGORIES",
    "SCAR_S_REGIONS",
    "SCAR_S_VERSION",
    "VSS_ITEMS",
    "VSS_VERSION",
    "ScaleError",
    "bother_rating",
    "ecca",
    "ecca_grade_from_count",
    "gb_count_band",
    "gb_qualitative",
    "gb_qualitative_suggest",
    "gb_quantitative",
    "gb_quantitative_breakdown",
    "global_impression",
    "scar_s",
    "scar_s_clinically_relevant",
    "scar_s_sum",
    "vancouver",
]


class ScaleError(ValueError):
    """Bad input to a scale.

    ``field`` names the offending input (e.g. ``"gb_quantitative.B1"``) so a form or the API
    can attach the error to it; ``message`` is plain English for the assessor.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# Versions, stored with each assessment. Change the string when a table changes.
GB_QUALITATIVE_VERSION = "goodman-baron-qualitative-2006"
GB_QUANTITATIVE_VERSION = "goodman-baron-quantitative-2006"
ECCA_VERSION = "ecca-2007"
SCAR_S_VERSION = "scar-s-2010"
VSS_VERSION = "vancouver-1990"


def _whole(value: object, field: str, low: int, high: int | None = None) -> int:
    """Return ``value`` if it is an int (not a bool) within low..high, else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScaleError(field, f"must be a whole number, not {value!r}")
    if value < low or (high is not None and value > high):
        allowed = f"{low} or more" if high is None else f"from {low} to {high}"
        raise ScaleError(field, f"must be {allowed}; got {value}")
    return value


def _yes_no(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise ScaleError(field, f"must be yes or no (True/False), not {value!r}")
    return value


# --- Goodman & Baron qualitative -------------------------------------------------------

GB_QUALITATIVE_GRADES: dict[int, str] = {1: "macular", 2: "mild", 3: "moderate", 4: "severe"}

# (answer name in gb_qualitative_suggest, question in our own words)
GB_QUALITATIVE_QUESTIONS: list[tuple[str, str]] = [
    ("any_scarring", "Is there any scarring or scar mark at all?"),
    (
        "contour_change",
        "Do any scars change the skin's surface (sunken or raised), not only its colour?",
    ),
    ("visible_at_50cm", "Are the scars obvious at ordinary social distance (50 cm or more)?"),
    ("easily_covered", "Would make-up, beard shadow or body hair easily hide them?"),
    (
        "flattens_on_stretch",
        "Do the sunken scars even out when the skin is stretched? (Yes if none are sunken.)",
    ),
    ("severe_raised", "Are there severe raised scars or keloids?"),
]


def gb_qualitative_suggest(
    *,
    any_scarring: bool,
    contour_change: bool,
    visible_at_50cm: bool,
    easily_covered: bool,
    flattens_on_stretch: bool,
    severe_raised: bool,
) -> int | None:
    """Suggest a Goodman & Baron qualitative grade from the decision-aid answers.

    Source: Goodman & Baron, Dermatol Surg 2006;32:1458; clinical.md §2.1. Returns None for
    "no scarring" (a separate state, not grade 0). Mixed features take the highest grade
    (our convention, §2.1): a scar that is either obvious at 50 cm or not easily covered
    counts as moderate or worse. Answers that contradict each other are refused, naming
    one of them, rather than suggested from: severe raised scars or keloids (grade 4) are
    raised, obvious at 50 cm and not easily covered. Only a suggestion; the assessor
    chooses the grade.
    """
    answers = {
        "any_scarring": any_scarring,
        "contour_change": contour_change,
        "visible_at_50cm": visible_at_50cm,
        "easily_covered": easily_covered,
        "flattens_on_stretch": flattens_on_stretch,
        "severe_raised": severe_raised,
    }
    for name, answer in answers.items():
        _yes_no(answer, f"gb_qualitative.{name}")
    if not any_scarring:
        # Refuse rather than silently drop a finding the assessor recorded.
        if contour_change or visible_at_50cm or severe_raised:
            raise ScaleError(
                "gb_qualitative.any_scarring",
                "answered 'no scarring' but other answers describe scars",
            )
        return None
    if severe_raised:
        for name, contradicts, says in (
            ("contour_change", not contour_change, "they change the skin's surface"),
            ("visible_at_50cm", not visible_at_50cm, "they are obvious at 50 cm"),
            ("easily_covered", easily_covered, "they are not easily covered"),
        ):
            if contradicts:
                raise ScaleError(
                    f"gb_qualitative.{name}",
                    f"severe raised scars or keloids were answered, but {says}: "
                    "check these two answers",
                )
        return 4
    if not contour_change:
        return 1
    if not visible_at_50cm and easily_covered:
        return 2
    return 3 if flattens_on_stretch else 4


def gb_qualitative(grade: int) -> int:
    """Validate a Goodman & Baron qualitative grade, 1 (macular) to 4 (severe).

    Source: Goodman & Baron, Dermatol Surg 2006;32:1458; clinical.md §2.1. "No scarring"
    is not grade 0: store it as the absence of a grade.
    """
    return _whole(grade, "gb_qualitative", 1, 4)


# --- Goodman & Baron quantitative ------------------------------------------------------

GB_QUANT_TYPES: dict[str, tuple[str, int]] = {
    "A1": ("flat red or brown marks (macular)", 1),
    "A2": ("slightly sunken, saucer-like scars", 1),
    "B1": ("moderately sunken scars", 2),
    "B2": ("small (< 5 mm) punched-out scars with a shallow base", 2),
    "B3": ("broad, shallow sunken areas", 2),
    "C1": ("small (< 5 mm) punched-out scars, deep, with a normal-looking base", 3),
    "C2": ("small (< 5 mm) punched-out scars, deep, with an abnormal base", 3),
    "C3": ("linear or trough-like scarring in the dermis", 3),
    "C4": ("broad, deep sunken areas", 3),
    "D1": ("small raised (papular) scars", 2),
}

# D2 (hypertrophic or keloid) is scored by total area, not by count. Per §2.2 "5–20 cm²
# → 12", both 5 cm² and 20 cm² exactly score 12; only above 20 scores 18.
D2_AREA_BANDS: dict[str, int] = {
    "under 5 cm²": 6,
    "5 to 20 cm², both ends included": 12,
    "over 20 cm²": 18,
}


def gb_count_band(count: int, *, field: str = "gb_quantitative.count") -> int:
    """Count band for one Goodman & Baron quantitative type: 0 none, 1 for 1–10 lesions,
    2 for 11–20, 3 for more than 20.

    Source: Goodman & Baron, J Cosmet Dermatol 2006;5:48; clinical.md §2.2.
    """
    count = _whole(count, field, 0)
    if count == 0:
        return 0
    if count <= 10:
        return 1
    if count <= 20:
        return 2
    return 3


def _d2_points(area_cm2: Decimal | float | None) -> int:
    field = "gb_quantitative.D2"
    if area_cm2 is None:
        return 0
    if isinstance(area_cm2, bool) or not isinstance(area_cm2, Decimal | float | int):
        raise ScaleError(field, f"area must be a number of cm², not {area_cm2!r}")
    area = Decimal(area_cm2)  # exact for floats too, so 5.0 is exactly 5
    if not area.is_finite() or area < 0:
        raise ScaleError(field, f"area must be 0 cm² or more; got {area_cm2!r}")
    if area == 0:  # no raised scars: same as not entering an area
        return 0
    if area < 5:
        return 6
    if area <= 20:
        return 12
    return 18


def gb_quantitative_breakdown(
    counts: Mapping[str, int], d2_area_cm2: Decimal | float | None = None
) -> dict[str, int]:
    """Points per scar type (A1…D1 and D2, in table order), for display.

    Source: Goodman & Baron, J Cosmet Dermatol 2006;5:48; clinical.md §2.2. Each type
    scores base points × count band; D2 scores by area. Types not counted score 0.
    """
    for key in counts:
        if key == "D2":
            raise ScaleError("gb_quantitative.D2", "D2 is scored by area, not by count")
        if key not in GB_QUANT_TYPES:
            raise ScaleError(f"gb_quantitative.{key}", "is not a Goodman & Baron scar type")
    points = {
        key: base * gb_count_band(counts.get(key, 0), field=f"gb_quantitative.{key}")
        for key, (_, base) in GB_QUANT_TYPES.items()
    }
    points["D2"] = _d2_points(d2_area_cm2)
    return points


def gb_quantitative(counts: Mapping[str, int], d2_area_cm2: Decimal | float | None = None) -> int:
    """Goodman & Baron quantitative score, 0 to 84.

    Source: Goodman & Baron, J Cosmet Dermatol 2006;5:48; clinical.md §2.2 [usual].
    ``counts`` maps type ids A1…D1 to lesion counts; ``d2_area_cm2`` is the total area of
    hypertrophic or keloid scarring (None or 0 when there is none).
    """
    return sum(gb_quantitative_breakdown(counts, d2_area_cm2).values())


# --- ECCA ------------------------------------------------------------------------------

ECCA_ITEMS: dict[str, tuple[str, int]] = {
    "V": ("V-shaped sunken scars, under 2 mm across", 15),
    "U": ("U-shaped sunken scars, 2 to 4 mm across", 20),
    "M": ("M-shaped sunken scars, over 4 mm across", 25),
    "elastolysis": ("superficial elastolysis", 30),
    "hypertrophic_recent": ("raised inflammatory scars under 2 years old", 40),
    "keloid_or_old_hypertrophic": ("keloids, or raised scars over 2 years old", 50),
}

# The items graded from a count; superficial elastolysis is graded directly (§2.3).
ECCA_COUNTED: tuple[str, ...] = tuple(k for k in ECCA_ITEMS if k != "elastolysis")
ECCA_GRADES: dict[int, str] = {0: "none", 1: "fewer than 5", 2: "5 to 20", 3: "more than 20"}


def ecca_grade_from_count(count: int, *, field: str = "ecca.count") -> int:
    """ECCA frequency grade from a lesion count: 0 none, 1 fewer than 5, 2 from 5 to 20
    (both included), 3 more than 20.

    Source: Dréno et al., Dermatology 2007;214:46; clinical.md §2.3.
    """
    count = _whole(count, field, 0)
    if count == 0:
        return 0
    if count < 5:
        return 1
    if count <= 20:
        return 2
    return 3


def ecca(grades: Mapping[str, int]) -> int:
    """ECCA score, 0 to 540: the sum of item weight × frequency grade (0–3).

    Source: Dréno et al., Dermatology 2007;214:46; clinical.md §2.3 [usual]. Items left out
    count as grade 0. Derive counted items' grades with ``ecca_grade_from_count``; the
    assessor enters the elastolysis grade directly.
    """
    for key in grades:
        if key not in ECCA_ITEMS:
            raise ScaleError(f"ecca.{key}", "is not an ECCA item")
    return sum(
        weight * _whole(grades.get(key, 0), f"ecca.{key}", 0, 3)
        for key, (_, weight) in ECCA_ITEMS.items()
    )


# --- SCAR-S ----------------------------------------------------------------------------

SCAR_S_REGIONS = ("face", "chest", "back")

SCAR_S_CATEGORIES: dict[int, str] = {
    0: "clear",
    1: "almost clear: hardly visible from 2.5 m",
    2: "mild: easily seen, over less than half the region",
    3: "moderate: over more than half the region",
    4: "severe: over the whole region",
    5: "very severe: over the whole region, with marked sunken or raised scars",
}


def scar_s(regions: Mapping[str, int]) -> dict[str, int]:
    """Validate SCAR-S grades (0–5) per region and return them in region order.

    Source: Tan et al., J Cutan Med Surg 2010;14:156; clinical.md §2.4. SCAR-S is a
    per-region scale: store these grades, not a total. Regions not examined may be left
    out, but at least one region must be graded.
    """
    if not regions:
        raise ScaleError("scar_s", "grade at least one region")
    for key in regions:
        if key not in SCAR_S_REGIONS:
            raise ScaleError(f"scar_s.{key}", "is not a SCAR-S region (face, chest, back)")
    return {
        region: _whole(regions[region], f"scar_s.{region}", 0, 5)
        for region in SCAR_S_REGIONS
        if region in regions
    }


def scar_s_sum(regions: Mapping[str, int]) -> int:
    """Overall SCAR-S sum over face, chest and back, 0 to 15.

    Source: Tan et al., J Cutan Med Surg 2010;14:156; clinical.md §2.4 ("an overall sum
    only under an explicit name"). All three regions are required: a missing region would
    make the sum look better than it is.
    """
    graded = scar_s(regions)
    for region in SCAR_S_REGIONS:
        if region not in graded:
            raise ScaleError(f"scar_s.{region}", "is needed for the overall sum")
    return sum(graded.values())


def scar_s_clinically_relevant(grade: int) -> bool:
    """True when a SCAR-S region grade is mild (2) or worse.

    Source: Tan et al., J Cutan Med Surg 2010;14:156; clinical.md §2.4.
    """
    return _whole(grade, "scar_s", 0, 5) >= 2


# --- Vancouver Scar Scale --------------------------------------------------------------

VSS_ITEMS: dict[str, dict[int, str]] = {
    "pigmentation": {0: "normal", 1: "paler than normal skin", 2: "darker than normal skin"},
    "vascularity": {0: "normal", 1: "pink", 2: "red", 3: "purple"},
    "pliability": {
        0: "normal",
        1: "supple",
        2: "yielding",
        3: "firm",
        4: "banding",
        5: "contracture",
    },
    "height": {0: "flat", 1: "under 2 mm", 2: "from 2 to 5 mm", 3: "over 5 mm"},
}


def vancouver(*, pigmentation: int, vascularity: int, pliability: int, height: int) -> int:
    """Vancouver Scar Scale total, 0 to 13 (original 1990 form; modified forms are separate
    scales and must not be mixed in).

    Source: Sullivan et al., J Burn Care Rehabil 1990; clinical.md §2.5.
    """
    given = {
        "pigmentation": pigmentation,
        "vascularity": vascularity,
        "pliability": pliability,
        "height": height,
    }
    return sum(
        _whole(given[item], f"vancouver.{item}", 0, max(levels))
        for item, levels in VSS_ITEMS.items()
    )


# --- Patient-reported ratings ----------------------------------------------------------


def bother_rating(value: int) -> int:
    """Validate the patient's 0–10 answer to "how much do your scars bother you?"
    (0 not at all, 10 extremely).

    Source: clinical.md §3 (built-in rating, our own wording, free to ship).
    """
    return _whole(value, "bother_rating", 0, 10)


GLOBAL_IMPRESSION: dict[int, str] = {
    1: "very much better",
    2: "much better",
    3: "a little better",
    4: "no change",
    5: "a little worse",
    6: "much worse",
    7: "very much worse",
}


def global_impression(value: int) -> int:
    """Validate a 7-point global impression of change, 1 (very much better) to 7 (very much
    worse), asked at follow-ups.

    Source: clinical.md §3 (built-in rating, free to ship).
    """
    return _whole(value, "global_impression", 1, 7)
