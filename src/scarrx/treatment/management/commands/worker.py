"""`scarrx worker`: runs the background tasks (django-tasks' database worker) and plans the
reminder run every ten minutes. Any number may run: each period's run is enqueued once
(a unique row), and each reminder is claimed before it is sent."""

from __future__ import annotations

import threading

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from scarrx.treatment.services.reminders import RUN_EVERY, plan_run


class Command(BaseCommand):
    help = "Run background tasks: reminders and the daily course standings."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="Plan this period's run, do it, and exit."
        )

    def handle(self, *args, once: bool = False, **options):
        plan_run()
        if once:
            call_command("db_worker", batch=True, reload=False, startup_delay=False)
            return
        stop = threading.Event()

        def planner():
            while not stop.wait(RUN_EVERY.total_seconds() / 2):
                close_old_connections()
                plan_run()

        threading.Thread(target=planner, name="reminder-planner", daemon=True).start()
        try:
            call_command("db_worker", reload=False, interval=5)
        finally:
            stop.set()
