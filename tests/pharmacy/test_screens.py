"""Safety screens (clinical.md §7), each on plain values."""

from decimal import Decimal as D

from scarrx.pharmacy.screens import ComponentFacts, PatientFacts, allergy_terms, screen

TRETINOIN = ComponentFacts(
    "Tretinoin", D("0.05"), pregnancy_caution=True, max_strength_percent=D("0.1")
)
VITAMIN_E = ComponentFacts("Vitamin E", D(2), contact_sensitiser=True, allergen_group="tocopherol")
BASE = ComponentFacts("Silicone gel base", None)
WELL = PatientFacts("not_pregnant", "None known")


def codes(findings):
    return [(f.code, f.subject) for f in findings]


def test_a_retinoid_for_a_pregnant_patient_is_flagged():
    found = screen(PatientFacts("pregnant", ""), [TRETINOIN, BASE])
    assert codes(found) == [("pregnancy", "tretinoin")]
    assert "pregnancy and breastfeeding" in found[0].message


def test_breastfeeding_and_planning_are_flagged_too():
    for status in ("breastfeeding", "planning"):
        assert codes(screen(PatientFacts(status, ""), [TRETINOIN])) == [("pregnancy", "tretinoin")]


def test_a_patient_not_pregnant_gets_no_warning_for_a_retinoid():
    assert screen(WELL, [TRETINOIN, BASE]) == []


def test_an_allergy_matches_the_component_or_its_allergen_group():
    assert codes(screen(PatientFacts("not_pregnant", "Tocopherol"), [BASE])) == []
    by_group = screen(PatientFacts("not_pregnant", "penicillin; tocopherol"), [VITAMIN_E])
    assert ("allergy", "vitamin e") in codes(by_group)
    by_name = screen(PatientFacts("not_pregnant", "vitamin E"), [VITAMIN_E])
    assert ("allergy", "vitamin e") in codes(by_name)


def test_no_known_allergies_is_no_allergy():
    assert allergy_terms("None known") == []
    assert allergy_terms("Penicillin, fragrance mix and nickel") == [
        "penicillin",
        "fragrance mix",
        "nickel",
    ]


def test_a_strength_above_the_formulary_maximum_is_flagged():
    strong = ComponentFacts("Tretinoin", D("0.15"), max_strength_percent=D("0.1"))
    found = screen(WELL, [strong])
    assert codes(found) == [("strength", "tretinoin")]
    assert "0.15 %" in found[0].message and "0.1 %" in found[0].message


def test_a_hazardous_drug_is_flagged():
    found = screen(WELL, [ComponentFacts("Fluorouracil", D(1), hazardous=True)])
    assert codes(found) == [("hazardous", "fluorouracil")]


def test_vitamin_e_carries_its_contact_dermatitis_warning():
    assert codes(screen(WELL, [VITAMIN_E])) == [("sensitiser", "vitamin e")]


def test_a_recent_surgical_scar_asks_whether_the_wound_has_healed():
    found = screen(PatientFacts("not_pregnant", "", ("Neck",)), [BASE])
    assert codes(found) == [("open_wound", "neck")]
    assert "Not for open wounds" in found[0].message


def test_a_retinoid_asks_for_the_pregnancy_status_when_it_is_not_recorded():
    found = screen(PatientFacts("unknown", "", pregnancy_unknown=True), [TRETINOIN])
    assert codes(found) == [("pregnancy", "tretinoin")]
    assert "not recorded" in found[0].message
