"""The files storage against an S3-compatible object store: moto in server mode stands in for
AWS S3, MinIO or R2, started on a free port and stopped by its PID. Skips without moto, fails
under PEERHUB_REQUIRE_SERVICES=1."""

import importlib.util
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from challenges import files, services
from challenges.models import Blob
from peerhub.settings import files_storage
from tests.challenges.test_files import CSV, png
from tests.conftest import need
from tests.factories import ChallengeFactory, UserFactory, make_organiser
from tests.helpers import wait_until

pytestmark = [pytest.mark.django_db, pytest.mark.services]

BUCKET = "peerhub-test-files"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def s3_endpoint():
    need(importlib.util.find_spec("moto") is not None, "moto (pip install 'moto[server]')")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: _listening(port), timeout=30, what="moto's S3 server")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def s3_files(settings, s3_endpoint):
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    url = f"s3://test:test@{BUCKET}?endpoint_url={s3_endpoint}&region_name=us-east-1"
    settings.STORAGES = {**settings.STORAGES, "files": files_storage(url)}
    yield client
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    for item in listed:
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_blobs_live_in_the_object_store_and_forks_share_them(s3_files, client):
    assert type(files.storage()).__name__ == "S3Storage"
    challenge = ChallengeFactory(created_by=make_organiser())
    solution = services.solution_create(
        challenge=challenge,
        author=UserFactory(),
        title="Rain gauge",
        body="![g](files/gauge.png)",
        uploads=[SimpleUploadedFile("gauge.png", png()), SimpleUploadedFile("rain.csv", CSV)],
    )
    manifest = files.manifest_of(solution.current_revision)
    assert _keys(s3_files) == sorted(blob.storage_name for blob in manifest.values())
    services.solution_fork(source=solution, by=UserFactory())
    assert len(_keys(s3_files)) == 2 and Blob.objects.count() == 2

    response = client.get(files.file_url(solution_id=solution.pk, number=1, path="rain.csv"))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CSV
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_refused_upload_leaves_nothing_in_the_object_store(s3_files, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(files, "manifest_write", fail)
    with pytest.raises(RuntimeError):
        services.solution_create(
            challenge=ChallengeFactory(created_by=make_organiser()),
            author=UserFactory(),
            title="T",
            body="b",
            uploads=[SimpleUploadedFile("rain.csv", CSV)],
        )
    assert _keys(s3_files) == []


def test_the_sweep_deletes_unreferenced_blobs_from_the_object_store(s3_files):
    orphan = Blob.objects.create(sha256="b" * 64, size=1, content_type="text/plain")
    files.storage().save(orphan.storage_name, SimpleUploadedFile("x", b"x"))
    assert _keys(s3_files) == [orphan.storage_name]
    assert files.sweep_unreferenced_blobs(now=timezone.now() + timedelta(days=2)) == 1
    assert _keys(s3_files) == []
