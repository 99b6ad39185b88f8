from django.core.management.base import BaseCommand

from scarrx.demo.loader import DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = "Load the deterministic demo data (fictional patients) and print the demo logins."

    def handle(self, *args, **opts):
        summary = load_demo()
        if summary.already_loaded:
            self.stdout.write("Demo data already loaded.")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Loaded demo data: {summary.patients} fictional patients, "
                    f"{summary.assessments} assessments, "
                    f"{summary.photo_pairs} before/after photo pairs (synthetic phantoms), "
                    f"{summary.mfrs} approved MFRs, {summary.batches} compounded batches."
                )
            )
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
        for username, role in summary.users:
            self.stdout.write(f"  {role:<11} {username}")
        self.stdout.write("")
