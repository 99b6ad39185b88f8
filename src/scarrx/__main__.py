"""The `scarrx` command: Django management with scarrx settings.

scarrx demo                      load the deterministic demo data
scarrx serve [--port 8000]       serve the console and API
scarrx createuser --role pharmacist NAME
scarrx <any Django command>      migrate, check --deploy, shell, ...
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "scarrx"
    if argv[1:2] == ["photo"]:
        # Pure imaging: no Django (0.34 s to start) for a researcher's batch of photos.
        from scarrx.imaging.cli import main as photo

        sys.exit(photo(argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scarrx.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(argv)
    except ImproperlyConfigured as exc:
        # A bad environment variable: say which, without a traceback.
        sys.exit(f"scarrx: configuration error: {exc}")


if __name__ == "__main__":
    main()
