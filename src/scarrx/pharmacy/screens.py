"""Safety screens for a preparation and the patient it is for.

Pure functions of plain values: no Django. Source: the project's clinical.md §7 (screen:
pregnancy or breastfeeding with retinoids, hydroquinone or 5-fluorouracil; an allergy to
any component; a strength above the formulary maximum; hazardous drugs, USP <800>; not for
open wounds or unhealed incisions; vitamin E's contact dermatitis in about a third of users
in one study). Every finding blocks until a pharmacist overrides it with a reason; the
caller stores the findings and the overrides.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from scarrx.values import number_text

__all__ = [
    "PREGNANCY_FLAGGED",
    "ComponentFacts",
    "Finding",
    "PatientFacts",
    "allergy_terms",
    "screen",
]

PREGNANCY_FLAGGED = {"pregnant", "breastfeeding", "planning"}
NO_ALLERGY = {"none", "none known", "nka", "nkda", "no known allergies", "no known drug allergies"}


@dataclass(frozen=True)
class ComponentFacts:
    name: str
    strength_percent: Decimal | None  # None for the base
    pregnancy_caution: bool = False  # retinoids, hydroquinone, 5-fluorouracil
    hazardous: bool = False  # USP <800> list
    contact_sensitiser: bool = False  # e.g. vitamin E
    max_strength_percent: Decimal | None = None  # the formulary maximum
    allergen_group: str = ""  # e.g. "tocopherol", "paraben"


@dataclass(frozen=True)
class PatientFacts:
    pregnancy_status: str  # scarrx.patients.models.Pregnancy values
    allergies: str  # as recorded at intake, free text
    recent_wound_sites: tuple[str, ...] = ()  # surgical or trauma scars under a year old
    pregnancy_unknown: bool = False  # could be pregnant, and the record does not say


@dataclass(frozen=True)
class Finding:
    code: str  # pregnancy, allergy, strength, hazardous, sensitiser, open_wound
    subject: str  # what it is about, lower case: the ingredient, or the site
    message: str


def allergy_terms(text: str) -> list[str]:
    """The allergies in an intake's free text, lower case: "Penicillin; fragrance mix" →
    ["penicillin", "fragrance mix"]. "None known" and its like are no allergy."""
    parts = re.split(r"[,;/\n]| and ", text.lower())
    terms = [p.strip(" .") for p in parts]
    return [t for t in terms if t and t not in NO_ALLERGY]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9-]+", text.lower()))


def _matches(allergy: str, component: ComponentFacts) -> bool:
    """An allergy names the component or its group: every word of one is in the other."""
    wanted = _words(allergy)
    for name in (component.name, component.allergen_group):
        have = _words(name)
        if have and wanted and (wanted <= have or have <= wanted):
            return True
    return False


def screen(patient: PatientFacts, components: Sequence[ComponentFacts]) -> list[Finding]:
    """Every finding for this patient and these components, in a fixed order."""
    findings: list[Finding] = []
    pregnancy = patient.pregnancy_status in PREGNANCY_FLAGGED
    allergies = allergy_terms(patient.allergies)
    for c in components:
        subject = c.name.lower()
        if pregnancy and c.pregnancy_caution:
            findings.append(
                Finding(
                    "pregnancy",
                    subject,
                    f"{c.name} is to be avoided in pregnancy and breastfeeding; the patient "
                    f"is recorded as {patient.pregnancy_status}.",
                )
            )
        elif patient.pregnancy_unknown and c.pregnancy_caution:
            findings.append(
                Finding(
                    "pregnancy",
                    subject,
                    f"{c.name} is to be avoided in pregnancy and breastfeeding, and the "
                    "patient's pregnancy status is not recorded: ask, and record it.",
                )
            )
        for allergy in allergies:
            if _matches(allergy, c):
                findings.append(
                    Finding(
                        "allergy",
                        subject,
                        f"The patient reports an allergy to {allergy}, which matches {c.name}.",
                    )
                )
        maximum = c.max_strength_percent
        if maximum is not None and c.strength_percent is not None and c.strength_percent > maximum:
            findings.append(
                Finding(
                    "strength",
                    subject,
                    f"{c.name} at {number_text(c.strength_percent)} % is above the formulary "
                    f"maximum of {number_text(maximum)} %.",
                )
            )
        if c.hazardous:
            findings.append(
                Finding(
                    "hazardous",
                    subject,
                    f"{c.name} is a hazardous drug (USP <800>): handle with its precautions.",
                )
            )
        if c.contact_sensitiser:
            findings.append(
                Finding(
                    "sensitiser",
                    subject,
                    f"{c.name} often causes contact dermatitis: tell the patient what to "
                    "watch for.",
                )
            )
    for site in patient.recent_wound_sites:
        findings.append(
            Finding(
                "open_wound",
                site.lower(),
                f"Not for open wounds or unhealed incisions: the {site.lower()} scar is under "
                "a year old; confirm it has healed.",
            )
        )
    return findings
