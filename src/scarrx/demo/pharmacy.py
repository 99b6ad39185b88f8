"""Demo pharmacy: a formulary of ten ingredients with lots (some close to expiry), a
balance, three approved MFRs (one per USP <795> class the programme uses), and patient
preparations with batches at every stage, the reference case's released.

Made through the pharmacy's services, like real records: a second pharmacist approves
the formulas the first wrote and verifies the batches the technician compounded.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal as D

from django.utils import timezone
from PIL import Image, ImageDraw

from scarrx.accounts.services import create_user
from scarrx.pharmacy import services
from scarrx.pharmacy.models import Batch, BatchState, Ingredient, StepDone, Weighing
from scarrx.pharmacy.queries import usable_lots
from scarrx.pharmacy.services import ComponentLine, StepLine
from scarrx.pharmacy.services.release import _next_lot_number

SECOND_PHARMACIST = ("pharmacist2", "Sam", "Adeyemi-Demo")

INGREDIENTS = [
    # key, name, role, facts
    ("silicone", "Silicone gel base (anhydrous)", "base", {}),
    (
        "preserved",
        "Aqueous gel base, preserved",
        "base",
        {"contains_water": True, "preserves": True},
    ),
    ("unpreserved", "Aqueous gel base, unpreserved", "base", {"contains_water": True}),
    ("Pentoxifylline", "Pentoxifylline", "active", {"max_strength_percent": D(1)}),
    ("Caffeine", "Caffeine", "active", {"max_strength_percent": D(2)}),
    ("Tranexamic acid", "Tranexamic acid", "active", {"max_strength_percent": D(5)}),
    ("Niacinamide", "Niacinamide", "active", {"max_strength_percent": D(5)}),
    (
        "Tretinoin",
        "Tretinoin",
        "active",
        {"max_strength_percent": D("0.1"), "pregnancy_caution": True, "allergen_group": "retinoid"},
    ),
    (
        "Hyaluronic acid",
        "Hyaluronic acid (sodium hyaluronate)",
        "active",
        {"max_strength_percent": D(1)},
    ),
    (
        "Vitamin E",
        "Vitamin E (tocopheryl acetate)",
        "active",
        {"max_strength_percent": D(5), "contact_sensitiser": True, "allergen_group": "tocopherol"},
    ),
    (
        "Phenoxyethanol",
        "Phenoxyethanol",
        "preservative",
        {"preserves": True, "max_strength_percent": D(1)},
    ),
]
# Days until each lot expires; two are close, so the bench and reports show FEFO at work.
LOTS = {
    "Pentoxifylline": [25, 400],
    "Caffeine": [18, 300],
    "Niacinamide": [45, 500],
}

STEPS = [
    StepLine("Check the preparation, the patient and the MFR version against the order."),
    StepLine("Weigh each component on a calibrated balance from the lot shown."),
    StepLine("Levigate the actives with a little base, then incorporate the rest."),
    StepLine("Mix until smooth and uniform; check for grit under light.", pharmacist_only=True),
    StepLine("Fill the container, cap it, wipe it clean."),
    StepLine("Photograph the finished preparation in its container.", photo=True),
]


@dataclass
class PharmacyDemo:
    mfrs: dict = field(default_factory=dict)
    batches: list[Batch] = field(default_factory=list)


def _jar_photo(seed: int) -> bytes:
    """A plain drawing of a jar of gel: no person, no patient."""
    rng = random.Random(seed)
    picture = Image.new("RGB", (480, 360), (236, 236, 230))
    draw = ImageDraw.Draw(picture)
    tint = (220 + rng.randint(0, 20), 225, 215 + rng.randint(0, 25))
    draw.rounded_rectangle((150, 90, 330, 300), radius=20, fill=tint, outline=(120, 120, 120))
    draw.rectangle((140, 70, 340, 110), fill=(90, 90, 100))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


def _formulary(today: date, pharmacist, technician) -> dict[str, Ingredient]:
    made = {
        key: services.add_ingredient(actor=pharmacist, name=name, role=role, **facts)
        for key, name, role, facts in INGREDIENTS
    }
    for key, ingredient in made.items():
        for n, days in enumerate(LOTS.get(key, [365])):
            services.receive_lot(
                ingredient,
                actor=technician,
                supplier="Example Chemicals Ltd",
                lot_number=f"{key[:3].upper()}-{today:%y}{n + 1:02d}",
                expiry_date=today + timedelta(days=days),
                received_on=today - timedelta(days=30),
                received_g=D(250) if ingredient.role == "active" else D(5000),
                coa_reference=f"CoA {key[:3].upper()}-{n + 1}",
            )
    return made


def _mfr(pharmacist, approver, code: str, name: str, components, **extra):
    draft = services.draft_formulation(
        actor=pharmacist,
        code=code,
        name=name,
        components=components,
        steps=STEPS,
        container_closure=extra.pop("container", "30 g airless pump, polypropylene"),
        equipment="Analytical balance, ointment slab, stainless spatulas, electric mortar",
        description=extra.pop("description", "Smooth, uniform, translucent gel"),
        qc_specification="Smooth and uniform, no grit or separation; final weight within "
        "5 % of the batch",
        label_text=extra.pop(
            "label_text", "For external use on healed scars only. Not for open wounds."
        ),
        **extra,
    )
    return services.approve_formulation(draft, actor=approver)


def _mfrs(i: dict, pharmacist, approver) -> dict:
    return {
        "silicone": _mfr(
            pharmacist,
            approver,
            "SIL-PTX",
            "Pentoxifylline 1 % + caffeine 1 % silicone scar gel",
            [
                ComponentLine(i["Pentoxifylline"], D(1), "active: raised scars"),
                ComponentLine(i["Caffeine"], D(1), "active"),
                ComponentLine(i["silicone"], None, "vehicle, occlusive"),
            ],
            calculations="Actives % w/w of the batch; base quantum sufficit.",
        ),
        "preserved": _mfr(
            pharmacist,
            approver,
            "AQP-TRT",
            "Tretinoin 0.025 % + tranexamic acid 3 % + niacinamide 4 % gel (preserved)",
            [
                ComponentLine(i["Tretinoin"], D("0.025"), "active: atrophic scars"),
                ComponentLine(i["Tranexamic acid"], D(3), "active: redness, pigment"),
                ComponentLine(i["Niacinamide"], D(4), "active: redness, pigment"),
                ComponentLine(i["preserved"], None, "vehicle, preserved"),
            ],
            ph_min=D("5.0"),
            ph_max=D("6.5"),
            label_text="For external use on healed scars only. Not for open wounds. "
            "Use sun protection daily.",
        ),
        "unpreserved": _mfr(
            pharmacist,
            approver,
            "AQU-NIA",
            "Niacinamide 4 % + hyaluronic acid 0.5 % gel (unpreserved)",
            [
                ComponentLine(i["Niacinamide"], D(4), "active"),
                ComponentLine(i["Hyaluronic acid"], D("0.5"), "hydration"),
                ComponentLine(i["unpreserved"], None, "vehicle"),
            ],
            container="30 g amber jar, polypropylene, lined cap",
            description="Clear, colourless, slightly viscous gel",
        ),
    }


def _bench(batch, technician, pharmacist, balance, rng, *, through: str) -> Batch:
    """Work a batch at the bench up to `through`: weighed, submitted, or released."""
    for component in batch.components.select_related("ingredient"):
        lot = usable_lots(component.ingredient).first()
        drift = D(1) + D(rng.randint(-15, 15)) / D(1000)  # within ±1.5 %
        services.record_weighing(
            batch,
            actor=technician,
            component=component,
            balance=balance,
            actual_g=(component.shown_g * drift).quantize(D("0.001")),
            lot=lot,
        )
    if through == "weighed":
        return batch
    for step in batch.formulation.steps.filter(photo=False):
        services.complete_step(
            batch, actor=pharmacist if step.pharmacist_only else technician, step=step
        )
    services.attach_photo(batch, actor=technician, data=_jar_photo(batch.pk))
    mfr = batch.formulation
    services.record_qc(
        batch,
        actor=technician,
        appearance="Smooth, uniform, translucent; no grit",
        appearance_ok=True,
        final_weight_g=(batch.batch_g * D("0.985")).quantize(D("0.001")),
        ph=(mfr.ph_min + mfr.ph_max) / 2 if mfr.ph_min is not None else None,
    )
    services.submit_batch(batch, actor=technician)
    if through == "submitted":
        return batch
    return services.verify_batch(batch, actor=pharmacist)


def made_on(batch: Batch, day: date) -> Batch:
    """Date a released demo batch to the day it was made (a demo loaded today tells a
    story of weeks): started at 10:00, weighed and worked through the morning, released
    at 14:00, its lot number of that day and its BUD worked out again for that day by
    USP <795> (capped by the lots weighed, as at verification)."""
    at = datetime.combine(day, time(10), tzinfo=timezone.get_current_timezone())
    released = at + timedelta(hours=4)
    same_day = batch.lot_number.startswith(f"C{day:%y%m%d}-")
    Batch.objects.filter(pk=batch.pk).update(
        compounded_on=day,
        started_at=at,
        verified_at=released,
        lot_number=batch.lot_number if same_day else _next_lot_number(day),
    )
    Weighing.objects.filter(batch=batch).update(weighed_at=at + timedelta(minutes=20))
    StepDone.objects.filter(batch=batch).update(at=at + timedelta(hours=1))
    BatchState.objects.filter(batch=batch).update(at=released)
    BatchState.objects.filter(batch=batch, state="in_progress").update(at=at)
    batch.refresh_from_db()
    bud = services.beyond_use(batch)
    Batch.objects.filter(pk=batch.pk).update(
        bud=bud.date, bud_days=bud.days, bud_explanation=bud.explanation
    )
    batch.refresh_from_db()
    return batch


def make_batch(
    preparation, grams, day: date, *, technician, verifier, balance, rng, through="released"
) -> Batch:
    """A batch of the preparation through the bench up to `through`; a released one is
    dated to `day` (`made_on`). The pharmacy demo and the course demo both make theirs so."""
    batch = services.start_batch(actor=technician, preparation=preparation, dispensed_g=grams)
    batch = _bench(batch, technician, verifier, balance, rng, through=through)
    return made_on(batch, day) if through == "released" else batch


# Days ago each released demo batch was made (the reference case's first, then the rest).
MADE_DAYS_AGO = [26, 19, 6]


def add_pharmacy(
    *, today: date, users: dict, password: str, reference, patients: list
) -> PharmacyDemo:
    """The demo pharmacy. `patients` are fictional patients besides the reference case."""
    pharmacist, technician = users["pharmacist"], users["technician"]
    username, first, last = SECOND_PHARMACIST
    approver = create_user(
        username=username,
        role="pharmacist",
        password=password,
        first_name=first,
        last_name=last,
        email=f"{username}@example.org",
        check_password=False,
    )
    rng = random.Random(795)
    i = _formulary(today, pharmacist, technician)
    balance = services.add_balance(
        actor=pharmacist,
        name="Analytical balance A (0.1 mg)",
        readability_g=D("0.0001"),
        minimum_weight_g=D("0.020"),
        last_calibrated_on=today - timedelta(days=40),
    )
    services.add_balance(
        actor=pharmacist,
        name="Top-loading balance B (10 mg)",
        readability_g=D("0.01"),
        minimum_weight_g=D("0.500"),
        last_calibrated_on=today - timedelta(days=40),
    )
    demo = PharmacyDemo(mfrs=_mfrs(i, pharmacist, approver))

    # The reference case: atrophic scars and redness after severe acne. Her prescriber
    # asks for the preserved tretinoin gel at 0.05 % instead of the MFR's 0.025 %; 60 g,
    # so that the tretinoin (0.030 g) is above the balance's minimum weight.
    nora = services.derive_preparation(
        actor=users["prescriber"],
        patient=reference,
        formulation=demo.mfrs["preserved"],
        strengths={i["Tretinoin"]: D("0.05")},
    )
    made = iter(today - timedelta(days=n) for n in MADE_DAYS_AGO)
    bench = {"technician": technician, "balance": balance, "rng": rng}
    demo.batches.append(make_batch(nora, D(60), next(made), verifier=approver, **bench))

    stages = ["released", "released", "submitted", "weighed"]
    recipes = [
        ("silicone", {}, {}),
        ("unpreserved", {}, {}),
        ("silicone", {"Pentoxifylline": D("0.5")}, {}),
        ("silicone", {}, {"Vitamin E": D(2)}),
    ]
    for patient, stage, (mfr_key, strengths, added) in zip(patients, stages, recipes, strict=False):
        preparation = services.derive_preparation(
            actor=pharmacist,
            patient=patient,
            formulation=demo.mfrs[mfr_key],
            strengths={i[name]: value for name, value in strengths.items()},
            added={i[name]: value for name, value in added.items()},
        )
        for warning in services.open_warnings(preparation):
            services.override_warning(
                warning,
                actor=approver,
                reason="Discussed with the patient: stop and call us if the skin reacts.",
            )
        verifier = approver if stage == "released" else pharmacist
        day = next(made) if stage == "released" else today  # the rest are at the bench now
        batch = make_batch(preparation, D(30), day, verifier=verifier, through=stage, **bench)
        demo.batches.append(batch)
    return demo
