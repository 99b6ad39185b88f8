from django.core.management.base import BaseCommand, CommandError

from scarrx.accounts.models import User
from scarrx.accounts.services import issue_api_token, revoke_api_token


class Command(BaseCommand):
    help = (
        "API bearer tokens: scarrx token create USERNAME [--name NAME] | "
        "scarrx token revoke PREFIX (the first 8 characters, srx_....)"
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "revoke"])
        parser.add_argument("username", help="USERNAME to create for, or PREFIX to revoke")
        parser.add_argument("--name", default="command line")

    def handle(self, *args, **opts):
        if opts["action"] == "revoke":
            count = revoke_api_token(prefix=opts["username"])
            if not count:
                raise CommandError(f"prefix: no live token starts {opts['username']!r}")
            self.stdout.write(f"Revoked {count} token(s).")
            return
        user = User.objects.filter(username=opts["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"username: no active user {opts['username']!r}")
        raw = issue_api_token(user=user, name=opts["name"])
        self.stdout.write(raw)
