"""Verification and release with the BUD, lot states, recalls, and the label template."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from scarrx.access import require
from scarrx.accounts.roles import Perm
from scarrx.audit.services import record_change
from scarrx.patients.models import Patient
from scarrx.pharmacy import bud as usp
from scarrx.pharmacy import queries
from scarrx.pharmacy.models import (
    Batch,
    BatchStatus,
    IngredientLot,
    LabelTemplate,
    Recall,
)
from scarrx.pharmacy.services.bench import _locked, _patient, _state, bench_problems
from scarrx.pharmacy.services.common import (
    _inputs,
    _text,
    current_settings,
    today,
)

# --- verification, BUD, states -----------------------------------------------------------


def beyond_use(batch: Batch, *, shorten_to: date | None = None, reason: str = ""):
    """The batch's BUD by USP <795> from its MFR and the lots actually weighed."""
    lots = []
    for w in batch.weighings.filter(is_current=True).select_related(
        "lot", "source_batch", "component__ingredient"
    ):
        if w.lot_id:
            lots.append(
                usp.ComponentLot(w.component.ingredient.name, w.lot.lot_number, w.lot.expiry_date)
            )
        else:
            src = w.source_batch
            lots.append(usp.ComponentLot(w.component.ingredient.name, src.label, src.bud))
    mfr = batch.formulation
    water = batch.preparation.water_activity if batch.preparation_id else mfr.water_activity
    preserved = batch.preparation.preserved if batch.preparation_id else mfr.preserved
    with _inputs():
        return usp.beyond_use_date(
            water_activity=usp.WaterActivity(water),
            preserved=preserved,
            compounded_on=batch.compounded_on,
            lots=lots,
            stability_limit_days=mfr.stability_limit_days,
            stability_source=mfr.bud_source if mfr.stability_limit_days else None,
            pharmacist_limit=shorten_to,
            pharmacist_reason=reason or None if shorten_to else None,
            day_counting=usp.DayCounting(current_settings().day_counting),
        )


def _next_lot_number(on: date) -> str:
    prefix = f"C{on:%y%m%d}-"
    taken = Batch.objects.filter(lot_number__startswith=prefix).count()
    return f"{prefix}{taken + 1:03d}"


@transaction.atomic
def verify_batch(batch: Batch, *, actor, shorten_to: date | None = None, reason: str = "") -> Batch:
    """A pharmacist who neither compounded nor weighed the batch verifies and releases
    it: the BUD is fixed (shortened with a reason if asked, never lengthened), the lot
    number given, the current label template pinned."""
    require(actor, Perm.VERIFY_BATCH, _patient(batch))
    batch = _locked(batch)
    if batch.status != BatchStatus.READY_FOR_REVIEW:
        raise ValidationError({"__all__": "Only a batch ready for review can be verified."})
    hands = {batch.compounded_by_id, *batch.weighings.values_list("weighed_by_id", flat=True)}
    if actor.pk in hands:
        raise ValidationError(
            {"__all__": "You compounded this batch: another pharmacist must verify it."}
        )
    problems = bench_problems(batch)
    if problems:
        raise ValidationError({"__all__": problems})
    if reason and not shorten_to:
        raise ValidationError({"shorten_to": "Give the shorter BUD the reason is for."})
    result = beyond_use(batch, shorten_to=shorten_to, reason=reason)
    batch.bud, batch.bud_days, batch.storage = result.date, result.days, result.storage.value
    batch.bud_explanation = result.explanation
    if result.limited_by == usp.BudLimit.PHARMACIST:
        batch.bud_shortened_to, batch.bud_reason = result.date, reason.strip()
    batch.verified_by, batch.verified_at = actor, timezone.now()
    batch.lot_number = _next_lot_number(batch.compounded_on)
    batch.label_template = current_label_template()
    batch.save()
    _state(batch, BatchStatus.RELEASED, actor, reason=reason.strip())
    record_change(
        actor=actor,
        action="batch.released",
        obj=batch,
        patient=_patient(batch),
        summary=f"Released as lot {batch.lot_number}; BUD {batch.bud} ({batch.storage})",
        data={"lot_number": batch.lot_number, "bud": batch.bud, "explanation": result.explanation},
        reason=reason.strip(),
    )
    return batch


def _transition(batch, *, actor, perm, allowed, state, action, summary, reason, **extra):
    require(actor, perm, _patient(batch))
    reason = _text(reason, "reason")
    batch = _locked(batch)
    if batch.status not in allowed:
        raise ValidationError(
            {
                "__all__": f"A batch that is {batch.get_status_display().lower()} cannot be "
                f"{BatchStatus(state).label.lower()}."
            }
        )
    _state(batch, state, actor, reason=reason, **extra)
    record_change(
        actor=actor,
        action=action,
        obj=batch,
        patient=_patient(batch),
        summary=summary,
        reason=reason,
        data=dict(extra),
    )
    return batch


@transaction.atomic
def quarantine_batch(batch: Batch, *, actor, reason: str, expected_release: date | None = None):
    if expected_release is not None and expected_release < today():
        raise ValidationError({"expected_release": "The expected release cannot be past."})
    return _transition(
        batch,
        actor=actor,
        perm=Perm.QUARANTINE_BATCH,
        allowed=(
            BatchStatus.IN_PROGRESS,
            BatchStatus.READY_FOR_REVIEW,
            BatchStatus.RELEASED,
            BatchStatus.REWORKED,
        ),
        state=BatchStatus.QUARANTINED,
        action="batch.quarantined",
        summary="Quarantined" + (f" until {expected_release}" if expected_release else ""),
        reason=reason,
        expected_release=expected_release,
    )


@transaction.atomic
def release_quarantine(batch: Batch, *, actor, reason: str):
    """Back to released if it had been verified, else back to review."""
    state = BatchStatus.RELEASED if batch.verified_by_id else BatchStatus.READY_FOR_REVIEW
    return _transition(
        batch,
        actor=actor,
        perm=Perm.VERIFY_BATCH,
        allowed=(BatchStatus.QUARANTINED,),
        state=state,
        action="batch.quarantine_released",
        summary=f"Released from quarantine: {BatchStatus(state).label.lower()}",
        reason=reason,
    )


@transaction.atomic
def scrap_batch(batch: Batch, *, actor, reason: str):
    return _transition(
        batch,
        actor=actor,
        perm=Perm.VERIFY_BATCH,
        allowed=(
            BatchStatus.IN_PROGRESS,
            BatchStatus.READY_FOR_REVIEW,
            BatchStatus.RELEASED,
            BatchStatus.QUARANTINED,
            BatchStatus.REWORKED,
        ),
        state=BatchStatus.SCRAPPED,
        action="batch.scrapped",
        summary="Scrapped",
        reason=reason,
    )


@transaction.atomic
def rework_batch(batch: Batch, *, actor, reason: str):
    """Back to the bench before release (re-mix, re-weigh, QC again)."""
    if batch.verified_by_id:
        raise ValidationError(
            {"__all__": "A released batch is not reworked: quarantine or scrap it."}
        )
    return _transition(
        batch,
        actor=actor,
        perm=Perm.VERIFY_BATCH,
        allowed=(BatchStatus.READY_FOR_REVIEW, BatchStatus.QUARANTINED),
        state=BatchStatus.REWORKED,
        action="batch.reworked",
        summary="Sent back for rework",
        reason=reason,
    )


# --- recall --------------------------------------------------------------------------


@transaction.atomic
def recall(
    *, actor, reason: str, lot: IngredientLot | None = None, batch: Batch | None = None
) -> Recall:
    """Recall a component lot or a batch: every batch it reached (through batches made
    from batches) is marked recalled and can no longer be used or dispensed; the
    patients reached are listed on the recall."""
    require(actor, Perm.RECALL)
    reason = _text(reason, "reason", limit=500)
    if (lot is None) == (batch is None):
        raise ValidationError({"lot": "Recall either a component lot or a batch."})
    reach = queries.trace(lot=lot, batch=batch)
    what = f"lot {lot.lot_number} of {lot.ingredient}" if lot else f"batch {batch.label}"
    row = Recall.objects.create(lot=lot, batch=batch, reason=reason, by=actor)
    if lot is not None:
        IngredientLot.objects.filter(pk=lot.pk, recalled_at__isnull=True).update(
            recalled_at=timezone.now()
        )
    batches = Batch.objects.filter(pk__in=reach.batch_ids).exclude(
        status__in=(BatchStatus.SCRAPPED, BatchStatus.RECALLED)
    )
    for reached in batches.select_for_update():
        _state(reached, BatchStatus.RECALLED, actor, reason=f"Recall of {what}: {reason}"[:300])
    row.batches_reached.set(reach.batch_ids)
    row.patients_reached.set(reach.patient_ids)
    record_change(
        actor=actor,
        action="recall.made",
        obj=row,
        summary=f"Recall of {what}: {len(reach.batch_ids)} batches, "
        f"{len(reach.patient_ids)} patients reached",
        data={"batches": len(reach.batch_ids), "patients": len(reach.patient_ids)},
        reason=reason,
    )
    for patient in Patient.objects.filter(pk__in=reach.patient_ids):
        record_change(
            actor=actor,
            action="recall.made",
            obj=row,
            patient=patient,
            summary=f"Recall of {what} reached this patient's preparation",
            reason=reason,
        )
    return row


# --- label template ------------------------------------------------------------------


def current_label_template() -> LabelTemplate:
    from scarrx.pharmacy.labels import current_template

    return current_template()


@transaction.atomic
def change_label_template(*, actor, body: str, reason: str) -> LabelTemplate:
    """A new locked version of the label; batches keep the version they were released
    with. The body must render, and keep every mandatory element."""
    from scarrx.pharmacy.labels import check_template

    require(actor, Perm.CHANGE_LABEL_TEMPLATE)
    reason = _text(reason, "reason")
    body = (body or "").strip()
    problem = check_template(body)
    if problem:
        raise ValidationError({"body": problem})
    latest = LabelTemplate.objects.select_for_update().first()
    template = LabelTemplate.objects.create(
        version=(latest.version if latest else 0) + 1, body=body, reason=reason, created_by=actor
    )
    record_change(
        actor=actor,
        action="label.template_changed",
        obj=template,
        summary=f"Label template version {template.version}",
        reason=reason,
    )
    return template
