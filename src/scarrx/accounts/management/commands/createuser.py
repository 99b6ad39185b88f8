import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from scarrx.accounts.roles import ROLES
from scarrx.accounts.services import create_user


class Command(BaseCommand):
    help = "Create a user with a role: scarrx createuser --role pharmacist USERNAME"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--email", default="")
        parser.add_argument("--licence-number", default="")
        parser.add_argument(
            "--password", help="omit to be asked; the password is never echoed", default=None
        )

    def handle(self, *args, **opts):
        password = opts["password"] or getpass.getpass("Password: ")
        try:
            user = create_user(
                username=opts["username"],
                role=opts["role"],
                password=password,
                first_name=opts["first_name"],
                last_name=opts["last_name"],
                email=opts["email"],
                licence_number=opts["licence_number"],
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{f}: {' '.join(m)}" for f, m in exc.message_dict.items())
            ) from None
        self.stdout.write(self.style.SUCCESS(f"Created {user.username} ({opts['role']})."))
