"""Operations on accounts: the only place that writes users, roles and tokens."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from scarrx.accounts.models import ApiToken, User
from scarrx.accounts.roles import ROLES, sync_roles
from scarrx.audit.services import record_change

THROTTLE_WINDOW_SECONDS = 15 * 60


@transaction.atomic
def create_user(
    *,
    username: str,
    role: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    licence_number: str = "",
    actor: User | None = None,
    check_password: bool = True,
) -> User:
    if role not in ROLES:
        raise ValidationError({"role": f"Unknown role {role!r}; choose one of {', '.join(ROLES)}."})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": f"The username {username!r} is taken."})
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        licence_number=licence_number,
    )
    if check_password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    if not Group.objects.filter(name=role).exists():
        sync_roles()
    user.groups.add(Group.objects.get(name=role))
    record_change(
        actor=actor, action="account.created", obj=user, data={"username": username, "role": role}
    )
    return user


@transaction.atomic
def issue_api_token(*, user: User, name: str, actor: User | None = None) -> str:
    """Create a token and return the raw value, which is shown once and never stored."""
    raw = "srx_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, digest=ApiToken.digest_of(raw), prefix=raw[:8])
    record_change(actor=actor, action="account.token_issued", obj=user, data={"name": name})
    return raw


def user_for_token(raw: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=ApiToken.digest_of(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


def _throttle_key(username: str, ip: str) -> str:
    return f"login-fail:{username.lower()}:{ip}"


def login_blocked(username: str, ip: str) -> bool:
    return cache.get(_throttle_key(username, ip), 0) >= settings.LOGIN_ATTEMPTS_PER_15_MINUTES


def note_failed_login(username: str, ip: str) -> None:
    key = _throttle_key(username, ip)
    cache.add(key, 0, THROTTLE_WINDOW_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, THROTTLE_WINDOW_SECONDS)


def clear_failed_logins(username: str, ip: str) -> None:
    cache.delete(_throttle_key(username, ip))
