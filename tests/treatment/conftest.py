"""The course's cast on top of the shared one: a second pharmacist (MFR approvals, batch
verification), the approved silicone scar gel, the patient's preparation, a released
120 g batch and a twice-daily 180-day prescription written by their prescriber.

Everything happens on a fixed day in the pharmacy's zone (America/New_York), 10 March
2026 at 12:00, two days after the clocks went forward, so dates are stable."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from scarrx.pharmacy import services as pharmacy
from tests.conftest import make_user
from tests.treatment.course import prescribe, released_batch, silicone_gel

NOON = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # 12:00 in New York (EDT)


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def approver(roles):
    return make_user("pia", "pharmacist", first_name="Pia", last_name="Second")


@pytest.fixture
def gel(clock, pharmacist, technician, approver):
    return silicone_gel(pharmacist, technician, approver)


@pytest.fixture
def preparation(gel, patient, pharmacist):
    return pharmacy.derive_preparation(actor=pharmacist, patient=patient, formulation=gel["mfr"])


@pytest.fixture
def make_batch(preparation, technician, pharmacist, approver, gel):
    def make(grams=Decimal(120), prep=None):
        return released_batch(
            prep or preparation,
            technician=technician,
            pharmacist=pharmacist,
            verifier=approver,
            balance=gel["balance"],
            grams=grams,
        )

    return make


@pytest.fixture
def batch(make_batch):
    return make_batch()


@pytest.fixture
def rx(patient, preparation, prescriber):
    return prescribe(patient, preparation, prescriber)
