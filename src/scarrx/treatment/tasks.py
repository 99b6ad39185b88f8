"""Background work on django-tasks (database backend), run by `scarrx worker`."""

from __future__ import annotations

import os
import socket

from django_tasks import task


@task()
def reminders_task() -> dict:
    """One run: recount the course standings if a new day has begun, plan the reminders
    due soon, and send those due, each once."""
    from scarrx.treatment.services import plan_reminders, refresh_standings, send_due_reminders

    worker = f"{socket.gethostname()}:{os.getpid()}"
    return {
        "standings": refresh_standings(),
        "planned": plan_reminders(),
        "sent": send_due_reminders(worker),
    }
