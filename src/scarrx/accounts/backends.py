"""Signing in and permissions: Django's model backend with the role table of
`scarrx.accounts.roles` as the source of every permission."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from scarrx.accounts.roles import ROLE_PERMISSIONS, role_of


class RoleBackend(ModelBackend):
    """Django's model backend (passwords, active users), with each user's permissions
    read from ROLE_PERMISSIONS for their role, the one declaration above, instead of two
    permission queries a request. Scarrx grants nothing per user; the role groups'
    permission rows (`sync_roles`) mirror this table for anyone reading the database."""

    def get_user_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        # The role's own set, not a copy: each Perm is a str, so "app.codename" is in it.
        return ROLE_PERMISSIONS.get(role_of(user_obj) or "", set())  # type: ignore[return-value]

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        return self.get_group_permissions(user_obj, obj)
