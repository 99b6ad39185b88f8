"""Accounts and roles: signing in (with the throttle), changing a password, creating users
from the command line, roles declared in code, and settings read loudly from the
environment."""

from __future__ import annotations

import runpy
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import CommandError, call_command
from django.core.management.sql import emit_post_migrate_signal
from django.test import Client
from django.utils import timezone

from scarrx import settings as scarrx_settings
from scarrx.accounts.models import User
from scarrx.accounts.roles import ROLE_PERMISSIONS, ROLES, role_of, sync_roles
from scarrx.accounts.services import create_user
from scarrx.audit.models import ChangeRecord
from scarrx.settings import database_from_url, envbool, envint
from tests.conftest import PASSWORD, client_for

NEW_PASSWORD = "a-Longer-gel-formula-91"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()  # the throttle counts in the (per-process, locmem) cache
    yield
    cache.clear()


def sign_in(client: Client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- Signing in ---------------------------------------------------------------------------


def test_pharmacist_signs_in_and_lands_on_the_worklist(pharmacist):
    client = Client()

    response = sign_in(client, "phil", PASSWORD)

    assert response.status_code == 302
    assert signed_in(client)
    assert client.get("/").url == "/worklist/"


def test_sign_in_returns_to_the_page_asked_for(pharmacist):
    client = Client()

    response = client.post(
        "/login/", {"username": "phil", "password": PASSWORD, "next": "/patients/?q=ada"}
    )

    assert response.url == "/patients/?q=ada"


def test_a_patient_signing_in_is_sent_to_the_portal(patient):
    client = Client()
    sign_in(client, "ada", PASSWORD)

    assert client.get("/").url == "/portal/"


def test_wrong_password_is_refused_with_a_message(pharmacist):
    client = Client()

    response = sign_in(client, "phil", "not-the-password")

    assert response.status_code == 200
    assert not signed_in(client)
    assert response.context["form"].non_field_errors()


def test_sixth_attempt_after_five_failures_is_refused_even_with_the_right_password(pharmacist):
    client = Client()
    for _ in range(5):
        assert sign_in(client, "phil", "not-the-password").status_code == 200

    response = sign_in(client, "phil", PASSWORD)

    assert response.status_code == 429
    assert not signed_in(client)
    assert (
        "Too many failed sign-in attempts. Wait 15 minutes, then try again."
        in response.content.decode()
    )


def test_the_throttle_counts_the_username_whatever_its_case(pharmacist):
    client = Client()
    for name in ["phil", "PHIL", "Phil", "pHil", "phiL"]:
        sign_in(client, name, "not-the-password")

    assert sign_in(client, "phil", PASSWORD).status_code == 429


def test_the_throttle_lifts_after_15_minutes(pharmacist):
    client = Client()
    for _ in range(5):
        sign_in(client, "phil", "not-the-password")

    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        response = sign_in(client, "phil", PASSWORD)

    assert response.status_code == 302
    assert signed_in(client)


def test_a_success_clears_the_count_of_failures(pharmacist):
    for _ in range(4):
        sign_in(Client(), "phil", "not-the-password")
    sign_in(Client(), "phil", PASSWORD)
    for _ in range(4):
        sign_in(Client(), "phil", "not-the-password")

    assert sign_in(Client(), "phil", PASSWORD).status_code == 302


def test_one_users_failures_do_not_lock_out_another(pharmacist, technician):
    for _ in range(6):
        sign_in(Client(), "phil", "not-the-password")

    assert sign_in(Client(), "tess", PASSWORD).status_code == 302


def test_attempts_allowed_is_a_setting(pharmacist, settings):
    settings.LOGIN_ATTEMPTS_PER_15_MINUTES = 2
    client = Client()
    sign_in(client, "phil", "nope")
    sign_in(client, "phil", "nope")

    assert sign_in(client, "phil", PASSWORD).status_code == 429


def test_signing_out_takes_a_post_and_returns_to_sign_in(pharmacist):
    client = client_for(pharmacist)

    response = client.post("/logout/")

    assert response.status_code == 302
    assert response.url == "/login/"
    assert not signed_in(client)


# --- Password change ----------------------------------------------------------------------


def test_password_change_works_and_the_new_password_signs_in(pharmacist):
    client = client_for(pharmacist)

    response = client.post(
        "/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response.url == "/password/done/"
    assert client.get("/password/done/").status_code == 200
    pharmacist.refresh_from_db()
    assert pharmacist.check_password(NEW_PASSWORD)
    assert sign_in(Client(), "phil", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("old", "new1", "new2", "field"),
    [
        ("wrong-old-password", NEW_PASSWORD, NEW_PASSWORD, "old_password"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "new_password2"),
        (PASSWORD, "12345678", "12345678", "new_password2"),
    ],
    ids=["wrong-old", "mismatch", "too-weak"],
)
def test_password_change_refuses_bad_input(pharmacist, old, new1, new2, field):
    response = client_for(pharmacist).post(
        "/password/", {"old_password": old, "new_password1": new1, "new_password2": new2}
    )

    assert response.status_code == 200
    assert field in response.context["form"].errors
    pharmacist.refresh_from_db()
    assert pharmacist.check_password(PASSWORD)


def test_password_change_needs_a_signed_in_user(db):
    response = Client().get("/password/")

    assert response.status_code == 302
    assert response.url.startswith("/login/")


# --- Creating users from the command line -------------------------------------------------


def test_createuser_makes_a_pharmacist_in_the_pharmacist_group(roles):
    out = StringIO()

    call_command(
        "createuser",
        "nina",
        role="pharmacist",
        password=NEW_PASSWORD,
        first_name="Nina",
        last_name="Night",
        stdout=out,
    )

    user = User.objects.get(username="nina")
    assert list(user.groups.values_list("name", flat=True)) == ["pharmacist"]
    assert user.check_password(NEW_PASSWORD)
    assert user.get_full_name() == "Nina Night"
    assert role_of(user) == "pharmacist"
    assert "Created nina (pharmacist)." in out.getvalue()
    assert ChangeRecord.objects.get(action="account.created", object_id=str(user.public_id))


def test_createuser_works_before_the_roles_exist(db):
    Group.objects.all().delete()

    call_command("createuser", "nina", role="technician", password=NEW_PASSWORD, stdout=StringIO())

    assert User.objects.get(username="nina").groups.get().name == "technician"


def test_createuser_refuses_an_unknown_role(roles):
    with pytest.raises(CommandError, match="invalid choice: 'wizard'"):
        call_command("createuser", "nina", role="wizard", password=NEW_PASSWORD)

    assert not User.objects.filter(username="nina").exists()


def test_createuser_refuses_a_weak_password(roles):
    with pytest.raises(CommandError, match="^password: "):
        call_command("createuser", "nina", role="pharmacist", password="nina")

    assert not User.objects.filter(username="nina").exists()


def test_createuser_refuses_a_taken_username_whatever_its_case(pharmacist):
    with pytest.raises(CommandError, match="username: .*taken"):
        call_command("createuser", "PHIL", role="technician", password=NEW_PASSWORD)

    assert User.objects.filter(username__iexact="phil").count() == 1


def test_create_user_service_refuses_an_unknown_role_naming_the_field(roles):
    with pytest.raises(ValidationError) as caught:
        create_user(username="nina", role="wizard", password=NEW_PASSWORD)

    assert list(caught.value.message_dict) == ["role"]


def test_token_command_prints_a_token_that_works(pharmacist, patient):
    out = StringIO()
    call_command("token", "create", "phil", "--name", "lab", stdout=out)
    raw = out.getvalue().strip()

    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/patients")

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_token_command_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="no active user 'nobody'"):
        call_command("token", "create", "nobody")


# --- Roles declared in code ---------------------------------------------------------------


def granted(role: str) -> set[str]:
    perms = Group.objects.get(name=role).permissions.select_related("content_type")
    return {f"{p.content_type.app_label}.{p.codename}" for p in perms}


def test_each_role_has_exactly_the_declared_permissions(roles):
    assert {g.name for g in Group.objects.all()} >= set(ROLES)
    for role in ROLES:
        assert granted(role) == ROLE_PERMISSIONS[role], role


def test_roles_are_resynced_when_someone_edits_a_group(roles):
    pharmacist_group = Group.objects.get(name="pharmacist")
    pharmacist_group.permissions.add(Permission.objects.get(codename="delete_user"))
    pharmacist_group.permissions.remove(Permission.objects.get(codename="view_accessrecord"))
    Group.objects.get(name="patient").permissions.add(
        Permission.objects.get(codename="view_patient")
    )

    sync_roles()

    assert granted("pharmacist") == ROLE_PERMISSIONS["pharmacist"]
    # A patient holds only what the portal lets them do with their own course.
    assert granted("patient") == {
        "treatment.add_application",
        "treatment.add_sideeffect",
        "treatment.pause_prescription",
    }


def test_roles_are_resynced_after_every_migrate(roles):
    Group.objects.get(name="technician").permissions.add(
        Permission.objects.get(codename="amend_scarassessment")
    )

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert granted("technician") == ROLE_PERMISSIONS["technician"]


def test_role_of_reads_the_group(pharmacist, technician, prescriber, patient, outsider):
    assert [role_of(u) for u in (pharmacist, technician, prescriber, patient.user, outsider)] == [
        "pharmacist",
        "technician",
        "prescriber",
        "patient",
        None,
    ]


# --- Settings from the environment --------------------------------------------------------


@pytest.mark.parametrize("raw", ["maybe", "2", "tru"])
def test_envbool_refuses_a_bad_value_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv("SCARRX_SOMETHING", raw)

    with pytest.raises(ImproperlyConfigured, match=f"SCARRX_SOMETHING .*{raw!r}"):
        envbool("SCARRX_SOMETHING", False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("YES", True), (" on ", True), ("false", False), ("Off", False), ("", True)],
)
def test_envbool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("SCARRX_SOMETHING", raw)

    assert envbool("SCARRX_SOMETHING", True) is expected


def test_envbool_and_envint_fall_back_to_the_default_when_unset(monkeypatch):
    monkeypatch.delenv("SCARRX_SOMETHING", raising=False)

    assert envbool("SCARRX_SOMETHING", False) is False
    assert envint("SCARRX_SOMETHING", 7) == 7


@pytest.mark.parametrize(
    ("raw", "message"),
    [("ten", "whole number"), ("2.5", "whole number"), ("-1", "at least 0")],
)
def test_envint_refuses_a_bad_value_naming_the_variable(monkeypatch, raw, message):
    monkeypatch.setenv("SCARRX_SOMETHING", raw)

    with pytest.raises(ImproperlyConfigured, match=f"^SCARRX_SOMETHING must be.*{message}"):
        envint("SCARRX_SOMETHING", 5)


def test_envint_respects_its_minimum(monkeypatch):
    monkeypatch.setenv("SCARRX_LOGIN_ATTEMPTS", "0")

    with pytest.raises(ImproperlyConfigured, match="SCARRX_LOGIN_ATTEMPTS must be at least 1"):
        envint("SCARRX_LOGIN_ATTEMPTS", 5, minimum=1)
    monkeypatch.setenv("SCARRX_LOGIN_ATTEMPTS", "3")
    assert envint("SCARRX_LOGIN_ATTEMPTS", 5, minimum=1) == 3


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_database_url_reads_postgres(tmp_path, scheme):
    url = f"{scheme}://scarrx:p%40ss%2Fword@db.example.org:5433/scarrx_prod"

    db = database_from_url(url, tmp_path)

    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"]) == ("scarrx_prod", "scarrx", "p@ss/word")
    assert (db["HOST"], db["PORT"]) == ("db.example.org", "5433")


def test_database_url_postgres_without_port_or_password(tmp_path):
    db = database_from_url("postgres://localhost/scarrx", tmp_path)

    assert (db["HOST"], db["PORT"], db["USER"], db["PASSWORD"]) == ("localhost", "", "", "")


@pytest.mark.parametrize(
    "url",
    ["postgres://db.example.org/", "mysql://db.example.org/scarrx", "sqlite:///", "scarrx.db"],
)
def test_database_url_refuses_what_it_cannot_use_naming_the_variable(tmp_path, url):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_from_url(url, tmp_path)


def test_no_database_url_means_sqlite_in_wal_mode_under_the_data_directory(tmp_path):
    db = database_from_url("", tmp_path / "var")

    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / "var" / "scarrx.sqlite3")
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert db["OPTIONS"]["timeout"] > 0
    assert (tmp_path / "var").is_dir()


def test_database_url_sqlite_with_four_slashes_is_an_absolute_path(tmp_path):
    db = database_from_url(f"sqlite:///{tmp_path}/data/scarrx.sqlite3", tmp_path)

    assert db["NAME"] == f"{tmp_path}/data/scarrx.sqlite3"


def test_database_url_sqlite_with_three_slashes_is_a_relative_path(tmp_path, monkeypatch):
    # The common convention (SQLAlchemy, dj-database-url): sqlite:///relative, sqlite:////absolute.
    # The relative path spells out tmp_path, so that read wrongly as absolute it stays in tmp_path.
    monkeypatch.chdir(tmp_path)
    relative = f"{str(tmp_path).lstrip('/')}/scarrx.sqlite3"

    db = database_from_url(f"sqlite:///{relative}", tmp_path)

    assert db["NAME"] == relative
    assert not Path(db["NAME"]).is_absolute()


# The settings module itself, run afresh with a given environment.

SETTINGS_FILE = scarrx_settings.__file__


@pytest.fixture
def environment(monkeypatch, tmp_path):
    for name in ["SCARRX_DEBUG", "SCARRX_SECRET_KEY", "DATABASE_URL", "SCARRX_TIME_ZONE"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SCARRX_DATA_DIR", str(tmp_path / "var"))
    return monkeypatch


def test_production_mode_refuses_to_start_without_a_secret_key(environment):
    environment.setenv("SCARRX_DEBUG", "false")

    with pytest.raises(ImproperlyConfigured, match="SCARRX_SECRET_KEY"):
        runpy.run_path(SETTINGS_FILE)


def test_production_mode_with_a_secret_key_is_locked_down(environment):
    environment.setenv("SCARRX_DEBUG", "false")
    environment.setenv("SCARRX_SECRET_KEY", "x" * 60)

    loaded = runpy.run_path(SETTINGS_FILE)

    assert loaded["DEBUG"] is False
    assert "testserver" not in loaded["ALLOWED_HOSTS"]
    assert loaded["SESSION_COOKIE_SECURE"] and loaded["CSRF_COOKIE_SECURE"]
    assert loaded["SECURE_HSTS_SECONDS"] > 0


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("SCARRX_DEBUG", "sometimes"),
        ("SCARRX_TIME_ZONE", "Mars/Olympus_Mons"),
        ("SCARRX_LOGIN_ATTEMPTS", "0"),
        ("SCARRX_MINIMUM_AGE_WITHOUT_GUARDIAN", "eighteen"),
        ("DATABASE_URL", "oracle://db/scarrx"),
    ],
)
def test_a_bad_variable_stops_the_start_naming_it(environment, name, raw):
    environment.setenv(name, raw)

    with pytest.raises(ImproperlyConfigured, match=name):
        runpy.run_path(SETTINGS_FILE)


def test_development_defaults_start_without_any_variables(environment, tmp_path):
    loaded = runpy.run_path(SETTINGS_FILE)

    assert loaded["DEBUG"] is True
    assert loaded["MINIMUM_AGE_WITHOUT_GUARDIAN"] == 18
    assert loaded["DATABASES"]["default"]["NAME"] == str(tmp_path / "var" / "scarrx.sqlite3")


def test_signing_out_says_so(pharmacist):
    client = client_for(pharmacist)

    response = client.post("/logout/", follow=True)

    assert response.redirect_chain[-1][0].startswith("/login/")
    assert "You are signed out." in response.content.decode()


def test_permissions_follow_the_role_table_not_a_group_edited_in_the_database(roles, pharmacist):
    """RoleBackend reads ROLE_PERMISSIONS: a group row added or removed by hand grants
    and takes away nothing, and no permission query is made."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    group = Group.objects.get(name="pharmacist")
    group.permissions.add(Permission.objects.get(codename="delete_user"))
    group.permissions.remove(Permission.objects.get(codename="view_accessrecord"))
    user = type(pharmacist).objects.get(pk=pharmacist.pk)
    with CaptureQueriesContext(connection) as seen:
        assert user.has_perm("audit.view_accessrecord")
        assert not user.has_perm("accounts.delete_user")
    assert not any("auth_permission" in q["sql"] for q in seen.captured_queries)
