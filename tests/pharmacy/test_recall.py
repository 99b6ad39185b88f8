"""Recall and traceability: a component lot → every batch made from it, including
batches made from those batches → every patient reached; further use blocked."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from scarrx.pharmacy import services
from scarrx.pharmacy.models import BatchStatus, Recall
from scarrx.pharmacy.queries import trace
from tests.pharmacy.conftest import finish_bench


@pytest.fixture
def from_stock(
    stock, preparation, other_patient, mfr, pharmacist, technician, second_pharmacist, formulary
):
    """Two patients' batches whose base came from the stock batch."""
    other = services.derive_preparation(actor=pharmacist, patient=other_patient, formulation=mfr)
    made = []
    for prep in (preparation, other):
        batch = services.start_batch(actor=technician, preparation=prep, dispensed_g=D(30))
        finish_bench(
            batch, technician, pharmacist, formulary["balance"], {"Silicone gel base": None}
        )
        made.append(batch)
    return made


def test_a_lot_traces_through_a_stock_batch_to_every_patient(
    stock, formulary, technician, pharmacist, preparation, other_patient, mfr
):
    other = services.derive_preparation(actor=pharmacist, patient=other_patient, formulation=mfr)
    batches = []
    for prep in (preparation, other):
        batch = services.start_batch(actor=technician, preparation=prep, dispensed_g=D(30))
        for c in batch.components.all():
            services.record_weighing(
                batch,
                actor=technician,
                component=c,
                balance=formulary["balance"],
                actual_g=c.shown_g,
                **(
                    {"lot": formulary["lots"]["ptx"]}
                    if c.strength_percent
                    else {"source_batch": stock}
                ),
            )
        batches.append(batch)
    dimethicone_lot = stock.weighings.get().lot
    reach = trace(lot=dimethicone_lot)
    assert reach.batch_ids == sorted([stock.pk, *(b.pk for b in batches)])
    assert reach.patient_ids == sorted([preparation.patient.pk, other_patient.pk])
    assert trace(lot=formulary["lots"]["ptx_early"]).batch_ids == []


def test_recalling_a_lot_blocks_every_batch_it_reached(
    stock, batch, formulary, technician, pharmacist
):
    base = batch.components.get(strength_percent__isnull=True)
    services.record_weighing(
        batch,
        actor=technician,
        component=base,
        balance=formulary["balance"],
        actual_g=base.shown_g,
        source_batch=stock,
    )
    lot = stock.weighings.get().lot
    recall = services.recall(actor=pharmacist, lot=lot, reason="Supplier recall notice 2026-14")
    stock.refresh_from_db()
    batch.refresh_from_db()
    assert stock.status == batch.status == BatchStatus.RECALLED
    assert list(recall.patients_reached.all()) == [batch.preparation.patient]
    assert batch.states.last().reason.startswith("Recall of lot DIM-1")
    # further use is blocked: the stock batch is no longer offered, nor accepted
    with pytest.raises(ValidationError):
        services.record_weighing(
            batch,
            actor=technician,
            component=base,
            balance=formulary["balance"],
            actual_g=base.shown_g,
            source_batch=stock,
        )


def test_recalling_a_batch_reaches_its_patient(released, pharmacist):
    recall = services.recall(actor=pharmacist, batch=released, reason="Failed stability check")
    released.refresh_from_db()
    assert released.status == BatchStatus.RECALLED
    assert list(recall.batches_reached.all()) == [released]
    assert list(recall.patients_reached.all()) == [released.preparation.patient]


def test_a_technician_cannot_recall(released, technician):
    with pytest.raises(PermissionDenied):
        services.recall(actor=technician, batch=released, reason="x")
    assert not Recall.objects.exists()


def test_a_recall_needs_a_reason_and_one_target(released, pharmacist, formulary):
    with pytest.raises(ValidationError):
        services.recall(actor=pharmacist, batch=released, reason=" ")
    with pytest.raises(ValidationError):
        services.recall(
            actor=pharmacist, batch=released, lot=formulary["lots"]["ptx"], reason="Both"
        )
    assert not Recall.objects.exists()


def test_trace_is_one_query(released, django_assert_num_queries, formulary):
    with django_assert_num_queries(1):
        trace(lot=formulary["lots"]["ptx_early"])
