"""Sign-in throttling that cannot be sidestepped, token revocation, serving safely."""

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client

from scarrx.accounts.services import issue_api_token
from scarrx.patients.services import link_portal_account
from tests.conftest import PASSWORD, make_user


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


def fail_logins(client, username, times, ip="198.51.100.9"):
    for _ in range(times):
        client.post("/login/", {"username": username, "password": "wrong"}, REMOTE_ADDR=ip)


@pytest.mark.parametrize("variant", [" phil", "phil ", "\tphil", "PHIL", "\uff50hil"])
def test_a_padded_or_look_alike_username_shares_the_accounts_throttle(pharmacist, variant):
    client = Client()
    fail_logins(client, "phil", 5)

    response = client.post(
        "/login/", {"username": variant, "password": PASSWORD}, REMOTE_ADDR="198.51.100.9"
    )

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_one_address_trying_many_accounts_is_throttled(pharmacist, roles):
    client = Client()
    for i in range(20):
        fail_logins(client, f"nobody{i}", 1)

    response = client.post("/login/", {"username": "phil", "password": PASSWORD},
                           REMOTE_ADDR="198.51.100.9")  # fmt: skip

    assert response.status_code == 429


def test_a_revoked_token_no_longer_opens_the_api(pharmacist):
    raw = issue_api_token(user=pharmacist, name="lab")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert Client().get("/api/v1/patients", **headers).status_code == 200

    call_command("token", "revoke", raw[:8])

    assert Client().get("/api/v1/patients", **headers).status_code == 401
    with pytest.raises(CommandError, match="prefix"):
        call_command("token", "revoke", raw[:8])


def test_debug_mode_refuses_to_serve_on_a_network(settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="SCARRX_DEBUG"):
        call_command("serve", "--host", "0.0.0.0")  # noqa: S104 - the case being refused


def test_admin_site_is_not_mounted(client, db):
    assert client.get("/admin/").status_code == 404


def test_linking_a_portal_login_is_recorded_and_limited_to_patient_logins(
    pharmacist, patient, other_patient, technician
):
    login = make_user("cleo", "patient")
    link_portal_account(other_patient, username=login, actor=pharmacist)

    other_patient.refresh_from_db()
    assert other_patient.user == login
    assert other_patient.change_records.filter(action="patient.portal_linked").exists()
    with pytest.raises(ValidationError, match="patient role"):
        link_portal_account(patient, username=technician, actor=pharmacist)
    with pytest.raises(ValidationError, match="already linked"):
        link_portal_account(patient, username=login, actor=pharmacist)
