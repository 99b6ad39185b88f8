"""`scarrx photo analyze FILE --roi ... --reference ... [--corners ...] [--baseline FILE]`.

For researchers and scripts: runs the pure scarrx.imaging analysis on files, prints one
JSON object, touches no database. Bad input exits non-zero with a one-line message.
"""

import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Analyse photo files: scarrx photo analyze FILE --roi 'X,Y X,Y X,Y' --reference '...'"

    def run_from_argv(self, argv):
        # argv is ["scarrx", "photo", ...]: the imaging CLI parses the rest itself.
        from scarrx.imaging.cli import main

        sys.exit(main(argv[2:]))

    def handle(self, *args, **options):  # pragma: no cover - run_from_argv handles it
        raise SystemExit(2)
