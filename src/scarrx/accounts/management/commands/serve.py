import ipaddress

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class Command(BaseCommand):
    help = "Serve the console and API with waitress (static files through WhiteNoise)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args, **opts):
        import waitress

        from scarrx.wsgi import application

        if settings.DEBUG and not _loopback(opts["host"]):
            # Debug pages show local variables (patient data): never on a network.
            raise CommandError(
                "SCARRX_DEBUG is on: debug mode serves only on this computer (127.0.0.1). "
                "Set SCARRX_DEBUG=false and SCARRX_SECRET_KEY to serve on a network."
            )
        proxy = {}
        if settings.TRUSTED_PROXY:
            proxy = {
                "trusted_proxy": settings.TRUSTED_PROXY,
                "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"},
                "clear_untrusted_proxy_headers": True,
            }
        url = f"http://{opts['host']}:{opts['port']}"
        mode = (
            "debug mode: for trying out, not for real patients" if settings.DEBUG else "production"
        )
        self.stdout.write(self.style.SUCCESS(f"scarrx is serving on {url}  ({mode})"))
        self.stdout.write("API documentation: " + url + "/api/v1/docs    Stop with Ctrl-C.")
        waitress.serve(
            application,
            host=opts["host"],
            port=opts["port"],
            threads=opts["threads"],
            ident="scarrx",
            max_request_body_size=settings.MAX_REQUEST_BYTES,
            **proxy,
        )
