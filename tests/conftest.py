"""The fixed cast every test module shares: pharmacist, technician, prescriber, two
patients (one with a portal login), and an outsider with no role at all."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest
from django.db import transaction
from django.test import Client, override_settings

from scarrx.accounts.roles import sync_roles
from scarrx.accounts.services import create_user
from scarrx.patients.services import register_patient

PASSWORD = "correct-horse-battery-7"


def fast_and_private(private_dir) -> dict:
    """Settings for tests: a fast password hasher, private files in a throwaway folder."""
    from django.conf import settings

    return {
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        "MEDIA_ROOT": private_dir,
        "STORAGES": {
            **settings.STORAGES,
            "default": {**settings.STORAGES["default"], "OPTIONS": {"location": private_dir}},
        },
    }


@pytest.fixture(autouse=True)
def _fast_and_private(settings, tmp_path):
    for name, value in fast_and_private(tmp_path / "private").items():
        setattr(settings, name, value)


@contextmanager
def module_data(django_db_blocker, private_dir):
    """Rows made once for a whole test module (Django's setUpTestData, for pytest): made
    in a transaction rolled back when the module is done. Each test still runs in its own
    savepoint inside it, so tests cannot see each other's changes. Private files go to
    `private_dir`; a test that reads them points its storage there too."""
    with (
        django_db_blocker.unblock(),
        override_settings(**fast_and_private(private_dir)),
        transaction.atomic(),
    ):
        yield
        transaction.set_rollback(True)


def make_user(username: str, role: str | None, **extra):
    if role is None:
        from scarrx.accounts.models import User

        return User.objects.create_user(username=username, password=PASSWORD)
    return create_user(
        username=username, role=role, password=PASSWORD, check_password=False, **extra
    )


@pytest.fixture
def roles(db):
    sync_roles()


@pytest.fixture
def pharmacist(roles):
    return make_user("phil", "pharmacist", first_name="Phil", last_name="Pharm")


@pytest.fixture
def technician(roles):
    return make_user("tess", "technician", first_name="Tess", last_name="Tech")


@pytest.fixture
def prescriber(roles):
    return make_user("drew", "prescriber", first_name="Drew", last_name="Doctor")


@pytest.fixture
def other_prescriber(roles):
    return make_user("dora", "prescriber", first_name="Dora", last_name="Doctor")


@pytest.fixture
def outsider(db):
    return make_user("olly", None)


def patient_fields(**overrides) -> dict:
    fields = {
        "given_name": "Ada",
        "family_name": "Example",
        "date_of_birth": date(2000, 5, 17),
        "sex": "female",
        "fitzpatrick": 3,
    }
    return fields | overrides


@pytest.fixture
def patient(pharmacist, prescriber):
    """A patient of `prescriber`, with a portal login."""
    p = register_patient(actor=pharmacist, prescriber=prescriber, **patient_fields())
    portal = make_user("ada", "patient")
    type(p).objects.filter(pk=p.pk).update(user=portal)
    p.refresh_from_db()
    return p


@pytest.fixture
def other_patient(pharmacist):
    p = register_patient(
        actor=pharmacist, **patient_fields(given_name="Ben", family_name="Sample", sex="male")
    )
    portal = make_user("ben", "patient")
    type(p).objects.filter(pk=p.pk).update(user=portal)
    p.refresh_from_db()
    return p


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def as_pharmacist(pharmacist):
    return client_for(pharmacist)


BASELINE = {
    "assessed_on": date(2026, 1, 10),
    "timepoint": "baseline",
    "classification": "atrophic",
    "morphology": ["boxcar", "rolling"],
    "sites": [{"site": "cheeks", "cause": "acne", "scar_age_years": 4}],
    "gb_qualitative": 3,
    "gb_counts": {"A1": 8, "A2": 15, "B2": 5},
    "ecca_inputs": {"V": {"count": 12}, "U": {"count": 3}},
    "scar_s": {"face": 3},
    "bother": 7,
}


@pytest.fixture
def photo_consent(patient, pharmacist):
    """The patient's consent to photographs, granted today."""
    from django.utils import timezone

    from scarrx.patients.services import record_consent

    return record_consent(
        patient=patient,
        actor=pharmacist,
        kind="photographs",
        granted=True,
        given_on=timezone.localdate(),
    )


@pytest.fixture
def baseline(patient, pharmacist):
    from scarrx.assessments.services import record_assessment

    return record_assessment(patient=patient, actor=pharmacist, **BASELINE)
