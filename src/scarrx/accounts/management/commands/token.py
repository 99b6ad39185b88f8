from django.core.management.base import BaseCommand, CommandError

from scarrx.accounts.models import User
from scarrx.accounts.services import issue_api_token


class Command(BaseCommand):
    help = "Issue an API bearer token: scarrx token create USERNAME [--name NAME]"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create"])
        parser.add_argument("username")
        parser.add_argument("--name", default="command line")

    def handle(self, *args, **opts):
        user = User.objects.filter(username=opts["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"username: no active user {opts['username']!r}")
        raw = issue_api_token(user=user, name=opts["name"])
        self.stdout.write(raw)
