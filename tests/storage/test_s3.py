"""Photos on S3-compatible storage: a real S3 HTTP server (moto's) on loopback."""

from datetime import UTC, date, datetime

import boto3
import pytest
from moto.server import ThreadedMotoServer

from scarrx.imaging.phantom import WARM_CAST, SceneSpec, make_scene, photograph
from scarrx.patients.services import record_consent
from scarrx.photos.services import upload_photo
from tests.conftest import client_for

BUCKET = "scarrx-test-private"


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{server._server.server_port}"
    yield url
    server.stop()


@pytest.fixture
def s3_storage(settings, s3_endpoint, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "location": "private",
                "default_acl": "private",
                "querystring_auth": True,
                "file_overwrite": False,
            },
        },
    }
    return client


def test_photo_is_stored_privately_in_the_bucket_and_served_only_through_the_view(
    s3_storage, patient, pharmacist, outsider
):
    record_consent(
        patient=patient,
        actor=pharmacist,
        kind="photographs",
        granted=True,
        given_on=date(2026, 1, 1),
    )
    jpeg = photograph(make_scene(SceneSpec(seed=5)), WARM_CAST).jpeg
    taken = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    photo = upload_photo(
        patient=patient, actor=pharmacist, data=jpeg, site="cheeks", view="front", taken_at=taken
    )

    keys = [o["Key"] for o in s3_storage.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert f"private/{photo.file}" in keys
    assert f"private/{photo.thumbnail}" in keys
    grants = s3_storage.get_object_acl(Bucket=BUCKET, Key=f"private/{photo.file}")["Grants"]
    assert not [g for g in grants if "AllUsers" in str(g.get("Grantee", {}))]
    assert photo.calibrated

    served = client_for(pharmacist).get(f"/photos/{photo.public_id}/image.jpg")
    assert served.status_code == 200
    assert served.content[:2] == b"\xff\xd8"
    assert client_for(outsider).get(f"/photos/{photo.public_id}/image.jpg").status_code == 404
