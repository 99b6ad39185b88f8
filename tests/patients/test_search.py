"""Finding a patient as staff type it, on the list page and through the API: names in
the list's own format, a date of birth as the list shows it or ISO, a phone number
whatever its punctuation; a search too long is a clear refusal naming q, never a 500."""

from __future__ import annotations

from datetime import date

import pytest

from scarrx.patients.services import update_patient


def found_by_api(client, q: str) -> list[str]:
    response = client.get("/api/v1/patients", {"q": q})
    assert response.status_code == 200, response.content
    return [p["family_name"] for p in response.json()["items"]]


def found_on_the_page(client, q: str) -> list[str]:
    response = client.get("/patients/", {"q": q})
    assert response.status_code == 200
    return [p.family_name for p in response.context["page"]]


@pytest.fixture
def with_phone(patient, pharmacist):
    return update_patient(patient, actor=pharmacist, phone="+1 (555) 014-2299")


@pytest.fixture
def born_another_day(other_patient, pharmacist):
    return update_patient(other_patient, actor=pharmacist, date_of_birth=date(2001, 1, 1))


@pytest.mark.parametrize("find", [found_by_api, found_on_the_page], ids=["api", "page"])
@pytest.mark.parametrize(
    "q",
    ["Example, Ada", "17 May 2000", "17 may 2000", "2000-05-17", "Ada 17 May 2000",
     "555 014 2299", "(555) 0142-299", "5550142299"],
)  # fmt: skip
def test_a_patient_is_found_by_name_date_of_birth_or_phone(
    as_pharmacist, with_phone, born_another_day, find, q
):
    assert find(as_pharmacist, q) == ["Example"]


@pytest.mark.parametrize("q", ["18 May 2000", "2000-05-18", "555 014 2298"])
def test_a_near_miss_finds_nobody(as_pharmacist, with_phone, q):
    assert found_by_api(as_pharmacist, q) == []


def test_a_search_of_fifty_thousand_characters_is_refused_naming_q(as_pharmacist, patient):
    q = "a" * 50_000

    api = as_pharmacist.get("/api/v1/patients", {"q": q})
    page = as_pharmacist.get("/patients/", {"q": q})

    assert api.status_code == 422
    assert api.json()["errors"] == [
        {"field": "q", "message": "Search with at most 100 characters."}
    ]
    assert page.status_code == 200
    assert "Search with at most 100 characters." in page.content.decode()


def test_a_date_that_cannot_be_is_refused_naming_q(as_pharmacist, patient):
    response = as_pharmacist.get("/api/v1/patients", {"q": "31 Feb 2000"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "q"
