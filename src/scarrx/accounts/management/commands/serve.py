from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the console and API with waitress (static files through WhiteNoise)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args, **opts):
        import waitress

        from scarrx.wsgi import application

        url = f"http://{opts['host']}:{opts['port']}"
        mode = "debug" if settings.DEBUG else "production"
        self.stdout.write(self.style.SUCCESS(f"scarrx is serving on {url}  ({mode} mode)"))
        self.stdout.write("API documentation: " + url + "/api/v1/docs    Stop with Ctrl-C.")
        waitress.serve(
            application,
            host=opts["host"],
            port=opts["port"],
            threads=opts["threads"],
            ident="scarrx",
        )
