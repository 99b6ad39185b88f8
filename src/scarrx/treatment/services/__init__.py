"""Operations of the treatment course: this package is the only writer of its models.

Each checks permission with `require` (and the patient), runs in one transaction with its
audit row where one belongs, and refuses bad input with a ValidationError naming the
field, nothing written. The arithmetic is the pure modules': `supply` (days supply,
refill dates, BUD fit) and `adherence` (PDC, the schedule, dose-level matching). Reads
(the course, the worklist, the calendar feed, the MedWatch export) are in
`scarrx.treatment.queries`.
"""

from scarrx.treatment.services.applications import (
    Logged,
    record_application,
    refresh_standing,
    refresh_standings,
    slots_around,
)
from scarrx.treatment.services.fills import (
    batch_problem,
    batch_remaining,
    dispense_fill,
    fill_label,
    refills_left,
    verify_fill,
)
from scarrx.treatment.services.prescriptions import (
    SLOT_NAMES,
    change_status,
    safety_problem,
    valid_npi,
    write_prescription,
)
from scarrx.treatment.services.reminders import (
    feed_for,
    make_calendar_feed,
    plan_reminders,
    plan_run,
    revoke_calendar_feed,
    send_due_reminders,
)
from scarrx.treatment.services.side_effects import report_side_effect, review_side_effect
