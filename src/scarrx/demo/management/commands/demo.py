from django.core.management.base import BaseCommand

from scarrx.demo.loader import DEMO_PASSWORD, REFERENCE_CASE, load_demo


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
                    f"{summary.photo_pairs} before/after photo pairs (synthetic phantoms)."
                )
            )
        self.stdout.write(f"\nDemo logins, all with the password {DEMO_PASSWORD}:\n")
        rows = [("username", "role", "who (fictional)"), *summary.users]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for i, row in enumerate(rows):
            cells = (v.ljust(w) for v, w in zip(row, widths, strict=True))
            self.stdout.write(("  " + "  ".join(cells)).rstrip())
            if i == 0:
                self.stdout.write("  " + "  ".join("-" * w for w in widths))
        self.stdout.write(
            f"\nThe reference case is {REFERENCE_CASE} (SRX-000001): search for "
            '"Lindqvist" on the Patients page. The patient login is hers (the portal is not '
            "built yet: it shows a notice).\n"
        )
