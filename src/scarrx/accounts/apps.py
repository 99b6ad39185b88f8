from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "scarrx.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from scarrx.accounts.roles import sync_roles

        # Groups and their permissions are declared in code and re-applied after every
        # migrate, so a role means the same on every installation.
        post_migrate.connect(sync_roles, dispatch_uid="scarrx.sync_roles")
