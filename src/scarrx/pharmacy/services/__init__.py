"""Operations of the pharmacy: this package is the only writer of its models.

Each is one transaction with its audit row, checks permission with `require` (and the
patient, for a patient's records), and refuses bad input with a ValidationError naming
the field, nothing written. The arithmetic is the pure modules': `calculations` (what to
weigh), `bud` (USP <795> beyond-use date), `screens` (safety), `gs1` (scanned lots).
Reads (the lot picker, the genealogy, reports) are in `scarrx.pharmacy.queries`.
"""

from scarrx.pharmacy.services.bench import (
    attach_photo,
    bench_problems,
    complete_step,
    plan,
    qc_problems,
    record_deviation,
    record_qc,
    record_weighing,
    resolve_source,
    start_batch,
    submit_batch,
)
from scarrx.pharmacy.services.common import (
    current_settings,
    today,
)
from scarrx.pharmacy.services.formulary import (
    IMMUTABLE,
    INGREDIENT_FIELDS,
    MFR_FIELDS,
    REQUIRED_MFR_TEXT,
    ComponentLine,
    StepLine,
    add_balance,
    add_ingredient,
    approve_formulation,
    calibrate_balance,
    change_settings,
    check_formula,
    draft_formulation,
    edit_formulation,
    formula_words,
    new_version,
    receive_lot,
    retire_balance,
    update_ingredient,
)
from scarrx.pharmacy.services.preparations import (
    component_facts,
    derive_preparation,
    in_use,
    open_warnings,
    override_warning,
    patient_facts,
    screen_again,
    screen_patient_again,
    screen_users_again,
)
from scarrx.pharmacy.services.release import (
    beyond_use,
    change_label_template,
    current_label_template,
    quarantine_batch,
    recall,
    release_quarantine,
    rework_batch,
    scrap_batch,
    verify_batch,
)
