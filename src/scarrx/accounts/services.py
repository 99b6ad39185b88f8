"""Operations on accounts: the only place that writes users, roles and tokens."""

from __future__ import annotations

import secrets
import unicodedata
from datetime import timedelta

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


# "Last used" to the minute: a token's every request would otherwise be a write (and a
# commit) even when it only reads.
LAST_USED_GRAIN = timedelta(minutes=1)


def user_for_token(raw: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=ApiToken.digest_of(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRAIN:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# Failed sign-ins are counted per account (against guessing one password) and per
# address across all accounts (against trying one password on many accounts).
IP_ATTEMPTS_FACTOR = 4


def _account(username: str) -> str:
    """The account a typed username reaches: the login form strips and NFKC-normalises
    it and usernames match case-insensitively, so variants must share one counter."""
    return unicodedata.normalize("NFKC", username or "").strip().casefold()


def _throttle_keys(username: str, ip: str) -> tuple[str, str]:
    return f"login-fail:user:{_account(username)}", f"login-fail:ip:{ip}"


def login_blocked(username: str, ip: str) -> bool:
    limit = settings.LOGIN_ATTEMPTS_PER_15_MINUTES
    user_key, ip_key = _throttle_keys(username, ip)
    return cache.get(user_key, 0) >= limit or cache.get(ip_key, 0) >= limit * IP_ATTEMPTS_FACTOR


def note_failed_login(username: str, ip: str) -> None:
    for key in _throttle_keys(username, ip):
        cache.add(key, 0, THROTTLE_WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, THROTTLE_WINDOW_SECONDS)


def clear_failed_logins(username: str, ip: str) -> None:
    cache.delete(_throttle_keys(username, ip)[0])


@transaction.atomic
def revoke_api_token(*, prefix: str, actor=None) -> int:
    """Revoke the live tokens whose shown prefix matches; returns how many."""
    tokens = ApiToken.objects.select_for_update().filter(prefix=prefix, revoked_at__isnull=True)
    count = 0
    for token in tokens:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_change(actor=actor, action="account.token_revoked", obj=token.user,
                      data={"name": token.name, "prefix": prefix})  # fmt: skip
        count += 1
    return count
