"""The pharmacy: formulary, master formulation records, patient preparations, compounding
records (batches) with their weighings, states, checks and recalls. USP <795>: records are
kept, never deleted; a state change is a row with who, when and why.

Written only by `scarrx.pharmacy.services`. Ingredients, lots, balances, MFRs, label
templates and settings are the pharmacy's own records (staff permission, no patient);
preparations and batches reach their patient through `patient_path` (a stock batch, made
to be used in other batches, has no patient).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from scarrx.patients.models import Patient
from scarrx.pharmacy.bud import BudClass, DayCounting, Storage, WaterActivity
from scarrx.records import NeverDeleted

USER = settings.AUTH_USER_MODEL
GRAMS = {"max_digits": 16, "decimal_places": 9}  # carried to 1 ng, as the engine does
PERCENT = {"max_digits": 9, "decimal_places": 6}


WORDS = {
    WaterActivity.AQUEOUS: "aqueous (aw ≥ 0.60)",
    WaterActivity.NON_AQUEOUS: "non-aqueous (aw < 0.60)",
}


def choices(enum) -> list[tuple[str, str]]:
    return [(m.value, WORDS.get(m, m.value.replace("_", " "))) for m in enum]


class Role(models.TextChoices):
    ACTIVE = "active", "Active"
    BASE = "base", "Base"
    EXCIPIENT = "excipient", "Excipient"
    PRESERVATIVE = "preservative", "Preservative"


class Ingredient(NeverDeleted):
    """A formulary entry. Its facts feed the calculations and the safety screens."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120, unique=True)
    role = models.CharField(max_length=15, choices=Role.choices)
    contains_water = models.BooleanField(default=False)
    preserves = models.BooleanField(default=False)  # a preservative system
    hazardous = models.BooleanField(default=False)  # USP <800>
    pregnancy_caution = models.BooleanField(default=False)
    contact_sensitiser = models.BooleanField(default=False)
    max_strength_percent = models.DecimalField(**PERCENT, null=True, blank=True)
    allergen_group = models.CharField(max_length=80, blank=True)
    assay_percent = models.DecimalField(**PERCENT, default=100)
    salt_factor = models.DecimalField(max_digits=12, decimal_places=6, default=1)
    density_g_per_ml = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class IngredientLot(NeverDeleted):
    """A supplier's lot as received. `on_hand_g` falls with every weighing from it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    ingredient = models.ForeignKey(Ingredient, on_delete=models.PROTECT, related_name="lots")
    supplier = models.CharField(max_length=120)
    lot_number = models.CharField(max_length=20)
    expiry_date = models.DateField()  # the last day it may be used
    received_on = models.DateField()
    received_g = models.DecimalField(**GRAMS)
    on_hand_g = models.DecimalField(**GRAMS)
    coa_reference = models.CharField("certificate of analysis", max_length=120, blank=True)
    received_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recalled_at = models.DateTimeField(null=True, blank=True)  # set with its Recall row

    class Meta:
        ordering = ["expiry_date", "received_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["ingredient", "supplier", "lot_number"], name="one_lot_per_supplier"
            )
        ]
        indexes = [models.Index(fields=["expiry_date"])]

    def __str__(self) -> str:
        return f"{self.ingredient} lot {self.lot_number}"


class Balance(NeverDeleted):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=80, unique=True)
    readability_g = models.DecimalField(**GRAMS)
    minimum_weight_g = models.DecimalField(**GRAMS)
    last_calibrated_on = models.DateField()
    retired = models.BooleanField(default=False)  # out of service: not offered at the bench
    retired_on = models.DateField(null=True, blank=True)
    retired_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Calibration(NeverDeleted):
    """A balance's calibration check, as a row."""

    balance = models.ForeignKey(Balance, on_delete=models.PROTECT, related_name="calibrations")
    on = models.DateField()
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=200, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)


class PharmacySettings(NeverDeleted):
    """The pharmacy's settings: every change a new row, with who and why."""

    mfr_approvals = models.PositiveSmallIntegerField(default=1)
    day_counting = models.CharField(
        max_length=40, choices=choices(DayCounting), default=DayCounting.COMPOUNDING_DAY_IS_DAY_1
    )
    calibration_days = models.PositiveSmallIntegerField(default=365)
    changed_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "pharmacy settings"


class MfrStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    SUPERSEDED = "superseded", "Superseded"


class Formulation(NeverDeleted):
    """A master formulation record (MFR), one version. Immutable once approved: a change
    is a new version; batches pin the version they used."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(max_length=30)
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=160)
    dosage_form = models.CharField(max_length=60, default="gel")
    route = models.CharField(max_length=40, default="topical")
    water_activity = models.CharField(max_length=15, choices=choices(WaterActivity))
    preserved = models.BooleanField()
    container_closure = models.CharField(max_length=200)
    equipment = models.TextField()
    description = models.TextField("physical description")
    bud_source = models.CharField(max_length=200, default="USP <795> table")
    stability_limit_days = models.PositiveSmallIntegerField(null=True, blank=True)
    calculations = models.TextField(blank=True)
    qc_specification = models.TextField()
    ph_min = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    ph_max = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    tolerance_percent = models.DecimalField(**PERCENT, default=5)
    label_text = models.CharField(max_length=300, blank=True)
    # A stock preparation made to be used in other batches yields this ingredient.
    produces = models.ForeignKey(
        Ingredient, null=True, blank=True, on_delete=models.PROTECT, related_name="made_by"
    )
    status = models.CharField(max_length=12, choices=MfrStatus.choices, default=MfrStatus.DRAFT)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    change_reason = models.CharField(max_length=300, blank=True)
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="one_mfr_version"),
        ]
        permissions = [("approve_formulation", "Approve a master formulation record")]

    def __str__(self) -> str:
        return f"{self.name} (MFR {self.code} v{self.version})"

    @property
    def bud_class(self) -> BudClass:
        from scarrx.pharmacy.bud import bud_class

        return bud_class(WaterActivity(self.water_activity), preserved=self.preserved)

    @property
    def storage(self) -> Storage:
        from scarrx.pharmacy.bud import USP_795_TABLE

        return USP_795_TABLE[self.bud_class].storage


class FormulationComponent(NeverDeleted):
    formulation = models.ForeignKey(
        Formulation, on_delete=models.PROTECT, related_name="components"
    )
    ingredient = models.ForeignKey(Ingredient, on_delete=models.PROTECT, related_name="+")
    strength_percent = models.DecimalField(**PERCENT, null=True, blank=True)  # None: the base
    function = models.CharField(max_length=80, blank=True)
    characteristics = models.CharField(max_length=200, blank=True)  # salt form, purity, size
    order = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["order"]

    @property
    def is_base(self) -> bool:
        return self.strength_percent is None


class FormulationStep(NeverDeleted):
    formulation = models.ForeignKey(Formulation, on_delete=models.PROTECT, related_name="steps")
    order = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=300)
    required = models.BooleanField(default=True)
    pharmacist_only = models.BooleanField(default=False)
    photo = models.BooleanField(default=False)  # done by a photo of the finished preparation

    class Meta:
        ordering = ["order"]


class Approval(NeverDeleted):
    """A pharmacist's approval of an MFR version (never the author's own)."""

    formulation = models.ForeignKey(Formulation, on_delete=models.PROTECT, related_name="approvals")
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["formulation", "by"], name="one_approval_each")
        ]


class Preparation(NeverDeleted):
    """A patient's customised preparation, derived from an approved MFR version."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="preparations")
    formulation = models.ForeignKey(Formulation, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    water_activity = models.CharField(max_length=15, choices=choices(WaterActivity))
    preserved = models.BooleanField()
    differences = models.TextField(blank=True)  # what differs from the MFR, in words
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name


class PreparationComponent(NeverDeleted):
    patient_path = "preparation__patient"
    view_permission = "pharmacy.view_preparation"

    preparation = models.ForeignKey(
        Preparation, on_delete=models.PROTECT, related_name="components"
    )
    ingredient = models.ForeignKey(Ingredient, on_delete=models.PROTECT, related_name="+")
    strength_percent = models.DecimalField(**PERCENT, null=True, blank=True)
    mfr_strength_percent = models.DecimalField(**PERCENT, null=True, blank=True)
    added = models.BooleanField(default=False)  # not in the MFR
    order = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["order"]

    @property
    def is_base(self) -> bool:
        return self.strength_percent is None


class BatchStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    READY_FOR_REVIEW = "ready_for_review", "Ready for review"
    RELEASED = "released", "Released"
    QUARANTINED = "quarantined", "Quarantined"
    SCRAPPED = "scrapped", "Scrapped"
    REWORKED = "reworked", "Sent back for rework"
    RECALLED = "recalled", "Recalled"


AT_THE_BENCH = (BatchStatus.IN_PROGRESS, BatchStatus.REWORKED)


class Batch(NeverDeleted):
    """A compounding record (CR): one batch of a preparation (or of a stock MFR)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    preparation = models.ForeignKey(
        Preparation, null=True, blank=True, on_delete=models.PROTECT, related_name="batches"
    )
    # The preparation's patient, written once at the start: the record names its patient,
    # and a recall's reach reads it from one index (none for a stock batch).
    patient = models.ForeignKey(
        Patient,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="batches",
        db_index=False,
    )
    formulation = models.ForeignKey(Formulation, on_delete=models.PROTECT, related_name="batches")
    lot_number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    dispensed_g = models.DecimalField(**GRAMS)
    wastage_percent = models.DecimalField(**PERCENT, default=0)
    batch_g = models.DecimalField(**GRAMS)
    calculation = models.TextField()
    weighing_warnings = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=20, choices=BatchStatus.choices, default=BatchStatus.IN_PROGRESS
    )
    compounded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    compounded_on = models.DateField()
    # QC
    appearance = models.CharField(max_length=200, blank=True)
    appearance_ok = models.BooleanField(null=True)
    ph = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    final_weight_g = models.DecimalField(**GRAMS, null=True, blank=True)
    yield_percent = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    yield_calculation = models.CharField(max_length=200, blank=True)
    qc_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    # Verification and BUD
    verified_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField(null=True, blank=True)
    bud = models.DateField(null=True, blank=True)
    bud_days = models.PositiveSmallIntegerField(null=True, blank=True)
    storage = models.CharField(max_length=40, choices=choices(Storage), blank=True)
    bud_explanation = models.TextField(blank=True)
    bud_shortened_to = models.DateField(null=True, blank=True)
    bud_reason = models.CharField(max_length=300, blank=True)
    label_template = models.ForeignKey(
        "LabelTemplate", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    photo = models.CharField(max_length=200, blank=True)  # private storage name

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "-started_at"]),
            models.Index(fields=["compounded_on"]),
            models.Index(fields=["patient", "-started_at"], name="batch_patient"),
            # A recall's reach finds each batch's patient from the index alone (PostgreSQL).
            models.Index(fields=["id"], include=["patient"], name="batch_patient_of"),
        ]
        permissions = [
            ("verify_batch", "Verify, release, quarantine-release, scrap or rework a batch"),
            ("quarantine_batch", "Quarantine a batch"),
        ]

    def __str__(self) -> str:
        return f"Batch {self.lot_number or str(self.public_id)[:8]}"

    @property
    def label(self) -> str:
        return self.lot_number or f"CR-{str(self.public_id)[:8]}"

    @property
    def at_the_bench(self) -> bool:
        return self.status in AT_THE_BENCH


class BatchState(NeverDeleted):
    patient_path = "batch__patient"
    view_permission = "pharmacy.view_batch"

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="states")
    state = models.CharField(max_length=20, choices=BatchStatus.choices)
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=300, blank=True)
    expected_release = models.DateField(null=True, blank=True)  # for a quarantine

    class Meta:
        ordering = ["at", "pk"]


class BatchComponent(NeverDeleted):
    """What the calculation engine says to weigh for one component of a batch."""

    patient_path = "batch__patient"
    view_permission = "pharmacy.view_batch"

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="components")
    ingredient = models.ForeignKey(Ingredient, on_delete=models.PROTECT, related_name="+")
    strength_percent = models.DecimalField(**PERCENT, null=True, blank=True)
    target_g = models.DecimalField(**GRAMS)
    shown_g = models.DecimalField(max_digits=14, decimal_places=3)
    calculation = models.CharField(max_length=300)
    order = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["order"]

    @property
    def is_base(self) -> bool:
        return self.strength_percent is None


class Weighing(NeverDeleted):
    """An actual weight of a component from a lot (or from a released stock batch). A
    re-weighing is a new row; the one it replaces stops being current."""

    patient_path = "batch__patient"
    view_permission = "pharmacy.view_batch"

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="weighings")
    component = models.ForeignKey(
        BatchComponent, on_delete=models.PROTECT, related_name="weighings"
    )
    # Indexed with the batch below (the genealogy), not on their own.
    lot = models.ForeignKey(
        IngredientLot,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="weighings",
        db_index=False,
    )
    source_batch = models.ForeignKey(
        Batch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="used_in",
        db_index=False,
    )
    balance = models.ForeignKey(Balance, on_delete=models.PROTECT, related_name="+")
    balance_minimum_g = models.DecimalField(**GRAMS)
    balance_calibrated_on = models.DateField()
    actual_g = models.DecimalField(**GRAMS)
    deviation_percent = models.DecimalField(max_digits=12, decimal_places=3)
    within_tolerance = models.BooleanField()
    check_text = models.CharField(max_length=200)
    is_current = models.BooleanField(default=True)
    weighed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    weighed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["component__order", "-weighed_at"]
        indexes = [
            # The genealogy: a lot's batches, and the batches made from a batch.
            models.Index(fields=["lot", "batch"], name="weighing_lot_batch"),
            models.Index(
                fields=["source_batch", "batch"],
                name="weighing_source_batch",
                condition=models.Q(source_batch__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lot__isnull=False, source_batch__isnull=True)
                | models.Q(lot__isnull=True, source_batch__isnull=False),
                name="weighing_from_a_lot_or_a_batch",
            )
        ]

    @property
    def source_label(self) -> str:
        if self.lot_id:
            return f"lot {self.lot.lot_number} ({self.lot.supplier}, exp {self.lot.expiry_date})"
        return f"batch {self.source_batch.label} (BUD {self.source_batch.bud})"


class StepDone(NeverDeleted):
    patient_path = "batch__patient"
    view_permission = "pharmacy.view_batch"

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="steps_done")
    step = models.ForeignKey(FormulationStep, on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["step__order"]
        constraints = [models.UniqueConstraint(fields=["batch", "step"], name="step_done_once")]


class Deviation(NeverDeleted):
    patient_path = "batch__patient"
    view_permission = "pharmacy.view_batch"

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="deviations")
    text = models.CharField(max_length=500)
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]


class Stage(models.TextChoices):
    ASSIGNMENT = "assignment", "At assignment"
    COMPOUNDING = "compounding", "At compounding"
    PRESCRIBING = "prescribing", "At prescribing"
    DISPENSING = "dispensing", "At dispensing"
    RECORD = "record", "After a record change"


class SafetyWarning(NeverDeleted):
    """A safety screen's finding; it blocks until a pharmacist overrides it."""

    patient_path = "preparation__patient"
    view_permission = "pharmacy.view_preparation"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    preparation = models.ForeignKey(Preparation, on_delete=models.PROTECT, related_name="warnings")
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="warnings"
    )
    stage = models.CharField(max_length=12, choices=Stage.choices)
    code = models.CharField(max_length=20)
    subject = models.CharField(max_length=120)
    message = models.CharField(max_length=400)
    found_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["found_at", "pk"]


class SafetyOverride(NeverDeleted):
    patient_path = "warning__preparation__patient"
    view_permission = "pharmacy.view_preparation"

    warning = models.OneToOneField(SafetyWarning, on_delete=models.PROTECT, related_name="override")
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=500)


class LabelTemplate(NeverDeleted):
    """The label's HTML, locked: a change is a new version by a pharmacist, with a reason."""

    version = models.PositiveIntegerField(unique=True)
    body = models.TextField()
    reason = models.CharField(max_length=300)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]


class Recall(NeverDeleted):
    """A recall of a component lot or of a batch, with everything it reached when made."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    lot = models.ForeignKey(
        IngredientLot, null=True, blank=True, on_delete=models.PROTECT, related_name="recalls"
    )
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="recalls"
    )
    reason = models.CharField(max_length=500)
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    batches_reached = models.ManyToManyField(Batch, related_name="reached_by_recalls")
    patients_reached = models.ManyToManyField(Patient, related_name="+")

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        what = self.lot or self.batch
        return f"Recall of {what}"
