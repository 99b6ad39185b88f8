"""Fills: dispensing from a released batch, the supply and refill dates, pharmacist
verification, the prescription label."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from scarrx.access import require
from scarrx.accounts.roles import Perm
from scarrx.audit.services import record_change
from scarrx.pharmacy.models import Batch, BatchStatus, Stage
from scarrx.pharmacy.services import current_label_template, screen_again
from scarrx.pharmacy.services.common import _grams, _inputs, today
from scarrx.problems import Problems
from scarrx.treatment import supply
from scarrx.treatment.models import CourseStatus, Fill, Prescription
from scarrx.treatment.services.prescriptions import safety_problem
from scarrx.values import grams_text


def daily_amount(prescription: Prescription) -> dict:
    """The keyword arguments the supply module takes for this prescription's amount."""
    return {
        "applications_per_day": prescription.applications_per_day,
        "area": prescription.area or None,
        "grams_per_application": prescription.grams_per_application,
    }


def supply_fills(fills) -> list[supply.Fill]:
    return [supply.Fill(f.filled_on, f.days_supply) for f in fills]


def batch_problem(batch: Batch, prescription: Prescription, on: date | None) -> str:
    """Why this batch cannot be dispensed for this prescription on `on` ("" if it can;
    with no day, as yet unknown, its BUD is not judged)."""
    if batch.status == BatchStatus.RECALLED:
        return f"Batch {batch.label} is recalled: it cannot be dispensed."
    if batch.status == BatchStatus.QUARANTINED:
        return f"Batch {batch.label} is in quarantine: it cannot be dispensed."
    if batch.status != BatchStatus.RELEASED:
        return f"Batch {batch.label} is not released: a pharmacist must verify it first."
    if batch.preparation_id != prescription.preparation_id:
        return f"Batch {batch.label} was not made for this prescription's preparation."
    if on is not None and (batch.bud is None or batch.bud < on):
        return f"Batch {batch.label} is past its BUD ({batch.bud})."
    return ""


def batch_remaining(batch: Batch) -> Decimal:
    """Grams of the batch not yet dispensed."""
    used = batch.fills.aggregate(total=Sum("quantity_g"))["total"] or Decimal(0)
    return batch.dispensed_g - used


def _lead_days() -> int:
    return settings.REFILL_LEAD_DAYS


def refill_due_after(prescription: Prescription, fills: list[supply.Fill]) -> date | None:
    """When the next refill is due, or None when the supply covers the rest of the course
    (or the course is not active)."""
    if not fills or prescription.status != CourseStatus.ACTIVE:
        return None
    if supply.runs_out_on(fills) > prescription.last_day:
        return None
    return supply.refill_due(fills, lead_days=_lead_days())


def refresh_refill_due(prescription: Prescription) -> None:
    fills = supply_fills(prescription.fills.order_by("number"))
    prescription.next_refill_due = refill_due_after(prescription, fills)
    prescription.save(update_fields=["next_refill_due"])


def reassessment_due(prescription: Prescription, on: date):
    """The first follow-up due by `on` without its assessment, if the prescription asks
    for a reassessment before each refill."""
    if not prescription.reassessment_before_refill:
        return None
    from scarrx.treatment.queries import follow_ups_with_state

    for follow_up in follow_ups_with_state(prescription.follow_ups.filter(due_on__lte=on)):
        if not follow_up.done:
            return follow_up
    return None


def _filled_on(value, prescription: Prescription, latest: Fill | None) -> date:
    filled_on = value or today()
    if not isinstance(filled_on, date):
        raise ValidationError({"filled_on": "Enter a date."})
    if filled_on > today():
        raise ValidationError({"filled_on": "A fill cannot be dated in the future."})
    if filled_on < prescription.written_on:
        raise ValidationError({"filled_on": "A fill cannot be before the prescription."})
    if latest is not None and filled_on < latest.filled_on:
        raise ValidationError(
            {"filled_on": f"The last fill was on {latest.filled_on}: fills go in order."}
        )
    return filled_on


def dispense_fill(
    prescription: Prescription,
    *,
    actor,
    batch: Batch,
    quantity_g,
    filled_on: date | None = None,
) -> Fill:
    """Dispense a quantity of a released batch for this prescription: the original fill,
    or a refill while refills remain. Refused when the batch is not released (recalled,
    quarantined, unverified), is another patient's, is short, when the supply would
    outlast its BUD (with the quantity that fits), or when the preparation's safety
    screens, run again first on the patient's record as it is now, hold a warning no
    pharmacist has overridden (a new one is kept in its own transaction)."""
    require(actor, Perm.DISPENSE, prescription.patient)
    screen_again(prescription.preparation, actor=actor, stage=Stage.DISPENSING)
    return _dispense_fill(
        prescription, actor=actor, batch=batch, quantity_g=quantity_g, filled_on=filled_on
    )


@transaction.atomic
def _dispense_fill(
    prescription: Prescription, *, actor, batch: Batch, quantity_g, filled_on: date | None
) -> Fill:
    prescription = Prescription.objects.select_for_update().get(pk=prescription.pk)
    problems = Problems()  # every problem at once, the course's and each field's
    problem = safety_problem(prescription.preparation)
    if problem:
        problems.add({"__all__": [problem]})
    if prescription.status != CourseStatus.ACTIVE:
        problems.add(
            {"__all__": [f"The course is {prescription.get_status_display().lower()}: no fill."]}
        )
    fills = list(prescription.fills.order_by("number"))
    number = len(fills)
    if number > prescription.refills_authorised:
        problems.add(
            {
                "__all__": [
                    f"All {prescription.refills_authorised} refills authorised are "
                    "used: the prescriber must write a new prescription."
                ]
            }
        )
    on = problems.check(_filled_on, filled_on, prescription, fills[-1] if fills else None)
    quantity = problems.check(_grams, quantity_g, "quantity_g")
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    if problem := batch_problem(batch, prescription, on):
        problems.add({"batch": [problem]})
    left = batch_remaining(batch)
    if quantity is not None and quantity > left:
        problems.add(
            {"quantity_g": [f"Batch {batch.label} has {grams_text(left)} left to dispense."]}
        )
    if number > 0 and on is not None:
        waiting = reassessment_due(prescription, on)
        if waiting is not None:
            problems.add(
                {
                    "__all__": [
                        f"The week {waiting.week} follow-up assessment is due: "
                        "record it before this refill."
                    ]
                }
            )
    problems.refuse()
    amount = daily_amount(prescription)
    earlier = supply_fills(fills)
    with _inputs():
        days = supply.days_supply(quantity, **amount)
        span = supply.supply_timeline([*earlier, supply.Fill(on, days)])[-1]
        fit = supply.fit_within_bud(
            quantity, **amount, filled_on=on, bud=batch.bud, starts_on=span.first_day
        )
    if not fit.fits:
        raise ValidationError(
            {"quantity_g": f"{fit.message[0].upper()}{fit.message[1:]}."},
        )
    everything = [*earlier, supply.Fill(on, days)]
    fill = Fill.objects.create(
        prescription=prescription,
        patient=prescription.patient,
        batch=batch,
        number=number,
        quantity_g=quantity,
        filled_on=on,
        days_supply=days,
        supply_starts_on=span.first_day,
        runs_out_on=supply.runs_out_on(everything),
        refill_due_on=refill_due_after(prescription, everything),
        dispensed_by=actor,
    )
    prescription.next_refill_due = fill.refill_due_on
    prescription.save(update_fields=["next_refill_due"])
    what = "Refill" if number else "Original fill"
    record_change(
        actor=actor,
        action="fill.dispensed",
        obj=fill,
        summary=f"{what} {number} of {prescription.rx_number}: {grams_text(quantity)} of lot "
        f"{batch.lot_number}, {days} days supply"
        + (f", carried forward {span.carried_days} days" if span.carried_days else ""),
        data={
            "batch": batch.lot_number,
            "quantity_g": quantity,
            "days_supply": days,
            "supply_starts_on": span.first_day,
            "refill_due_on": fill.refill_due_on,
        },
    )
    return fill


@transaction.atomic
def verify_fill(fill: Fill, *, actor) -> Fill:
    """A pharmacist checks the fill against the prescription before it is handed over:
    someone other than whoever dispensed it."""
    require(actor, Perm.VERIFY_FILL, fill.patient)
    fill = Fill.objects.select_for_update().get(pk=fill.pk)
    if fill.verified_at is not None:
        raise ValidationError({"__all__": "This fill is verified already."})
    if fill.dispensed_by_id == actor.pk:
        raise ValidationError(
            {"__all__": "You dispensed this fill: another pharmacist must verify it."}
        )
    fill.verified_by, fill.verified_at = actor, timezone.now()
    fill.save(update_fields=["verified_by", "verified_at"])
    record_change(
        actor=actor,
        action="fill.verified",
        obj=fill,
        summary=f"Fill {fill.number} of {fill.rx_number} verified",
    )
    return fill


def fill_label(fill: Fill) -> bytes:
    """The prescription label: the batch's locked label, with the quantity of this fill,
    the patient, the directions, the prescriber, the fill date and the Rx number."""
    from scarrx.pharmacy import labels

    if not fill.verified:
        raise ValidationError({"__all__": "A pharmacist verifies the fill before its label."})
    prescription = fill.prescription
    batch = fill.batch
    context = labels.label_context(
        batch,
        {
            "rx_number": prescription.rx_number,
            "fill_date": f"{fill.filled_on:%d %b %Y}",
            "prescriber": f"{prescription.prescriber_name} (NPI {prescription.prescriber_npi})",
            "directions": prescription.directions,
            "refills": refills_left(prescription, after=fill),
        },
    )
    context["quantity"] = grams_text(fill.quantity_g)
    context["patient"] = prescription.patient.full_name
    template = batch.label_template or current_label_template()
    return labels.render_pdf(labels.render_html(template.body, context))


def refills_left(
    prescription: Prescription, after: Fill | None = None, made: int | None = None
) -> int:
    """Refills still authorised (after a given fill, or now; `made`: the fills made so
    far, when the caller has counted them already)."""
    if made is None:
        made = prescription.fills.count()
    used = after.number if after is not None else made - 1
    return max(prescription.refills_authorised - max(used, 0), 0)
