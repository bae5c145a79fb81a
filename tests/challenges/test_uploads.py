"""Upload first, attach later (challenges.uploads and /api/uploads/): the API twin of the forms'
files. Uploads are the uploader's own, checked like the forms' files, attached once, and swept
with the unreferenced blobs when never attached."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from challenges import files, services, uploads
from challenges.models import Blob, Solution, Upload
from peerhub.exceptions import DomainError
from tests.challenges.test_files import CSV, png, stored_names, upload
from tests.factories import ChallengeFactory, UserFactory, make_organiser
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def challenge():
    return ChallengeFactory(created_by=make_organiser())


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def api_upload(api, *items):
    return api.post(
        reverse("api-upload-list"),
        {"files": [upload(name, data) for name, data in items]},
        format="multipart",
    )


def test_upload_then_attach_to_a_new_solution_and_a_new_revision(challenge):
    author = UserFactory()
    api = api_for(author)
    response = api_upload(api, ("gauge.png", png()), ("rain.csv", CSV))
    assert response.status_code == 201, response.content
    stored = {item["name"]: item for item in response.json()}
    assert stored["rain.csv"]["sha256"] == Blob.objects.get(size=len(CSV)).sha256
    assert stored["rain.csv"]["content_type"] == "text/csv"
    assert stored["gauge.png"]["expires_at"] > stored["gauge.png"]["created_at"]
    listed = api.get(reverse("api-upload-list")).json()["results"]
    assert {item["id"] for item in listed} == {item["id"] for item in stored.values()}

    response = api.post(
        reverse("api-solution-list"),
        {
            "challenge": challenge.slug,
            "title": "Rain gauge",
            "body": "![g](files/photo.png)",
            "attach": [
                {"upload": stored["gauge.png"]["id"], "path": "photo.png"},
                {"upload": stored["rain.csv"]["id"]},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [f["path"] for f in body["files"]] == ["photo.png", "rain.csv"]
    solution = Solution.objects.get(pk=body["id"])
    assert "<img" in solution.current_revision.body_html
    assert not Upload.objects.exists()  # attached once: the uploads are consumed

    again = api_upload(api, ("gauge.png", png("green")))
    response = api.patch(
        reverse("api-solution-detail", args=[solution.pk]),
        {"attach": [{"upload": again.json()[0]["id"], "path": "photo.png"}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    diff = api.get(reverse("api-solution-diff", args=[solution.pk])).json()
    assert [(c["kind"], c["path"]) for c in diff["files"]] == [("changed", "photo.png")]


def test_uploading_bytes_already_stored_reuses_their_blob(challenge):
    api_upload(api_for(UserFactory()), ("rain.csv", CSV))
    response = api_upload(api_for(UserFactory()), ("readings.csv", CSV))
    assert response.status_code == 201
    assert Blob.objects.count() == 1 and Upload.objects.count() == 2
    assert len(stored_names()) == 1


def test_attaching_someone_elses_upload_is_refused(challenge):
    owner, other = UserFactory(), UserFactory()
    theirs = api_upload(api_for(owner), ("rain.csv", CSV)).json()[0]["id"]
    api = api_for(other)
    response = api.post(
        reverse("api-solution-list"),
        {"challenge": challenge.slug, "title": "T", "body": "b", "attach": [{"upload": theirs}]},
        format="json",
    )
    assert_error(response, 400, "upload_unknown")
    assert not Solution.objects.exists()
    assert Upload.objects.filter(pk=theirs, user=owner).exists()  # still the owner's
    assert api.get(reverse("api-upload-detail", args=[theirs])).status_code == 404
    assert_error(api.delete(reverse("api-upload-detail", args=[theirs])), 400, "upload_unknown")


def test_an_upload_attaches_once(challenge):
    author = UserFactory()
    api = api_for(author)
    pk = api_upload(api, ("rain.csv", CSV)).json()[0]["id"]
    attach = {"attach": [{"upload": pk}]}
    first = api.post(
        reverse("api-solution-list"),
        {"challenge": challenge.slug, "title": "A", "body": "b", **attach},
        format="json",
    )
    assert first.status_code == 201
    second = api.post(
        reverse("api-solution-list"),
        {"challenge": challenge.slug, "title": "B", "body": "b", **attach},
        format="json",
    )
    assert_error(second, 400, "upload_unknown")
    assert Solution.objects.count() == 1


def test_a_refused_attachment_gives_the_upload_back(challenge):
    """The solution is refused after the upload was claimed: the rollback keeps the upload."""
    author = UserFactory()
    api = api_for(author)
    pk = api_upload(api, ("rain.csv", CSV)).json()[0]["id"]
    response = api.post(
        reverse("api-solution-list"),
        {"challenge": challenge.slug, "title": "T", "body": "b", "attach": [{"upload": pk}]},
        format="json",
    )
    assert response.status_code == 201
    solution = Solution.objects.get()
    upload_id = api_upload(api, ("more.csv", CSV + b"2026-05-01T12:00,0.0\n")).json()[0]["id"]
    response = api.patch(
        reverse("api-solution-detail", args=[solution.pk]),
        {"attach": [{"upload": upload_id, "path": "rain.csv"}], "remove_files": ["nope.csv"]},
        format="json",
    )
    assert_error(response, 400, "file_not_found")
    assert Upload.objects.filter(pk=upload_id).exists()


def test_an_attachment_name_must_fit_its_bytes(challenge):
    api = api_for(UserFactory())
    pk = api_upload(api, ("rain.csv", CSV)).json()[0]["id"]
    for path, code in (("rain.png", "file_type_mismatch"), ("../rain.csv", "file_name_path")):
        response = api.post(
            reverse("api-solution-list"),
            {
                "challenge": challenge.slug,
                "title": "T",
                "body": "b",
                "attach": [{"upload": pk, "path": path}],
            },
            format="json",
        )
        assert_error(response, 400, code)
    assert not Solution.objects.exists()


@pytest.mark.parametrize(
    ("items", "status", "code"),
    [
        ((("tool.exe", b"MZ\x90\x00" * 64),), 400, "file_type"),
        ((("evil.svg", b"<svg onload=alert(1)>"),), 400, "svg_unsafe"),
        ((("page.txt", b"<html><script>alert(1)</script></html>"),), 400, "file_type"),
        ((("a.csv", CSV), ("a.csv", CSV)), 400, "file_name_duplicate"),
    ],
)
def test_a_bad_upload_is_refused_and_nothing_is_stored(items, status, code):
    api = api_for(UserFactory())
    response = api_upload(api, ("gauge.png", png()), *items)
    assert_error(response, status, code)
    assert not Blob.objects.exists() and not Upload.objects.exists()
    assert stored_names() == []


def test_an_upload_without_files_is_a_400():
    assert api_for(UserFactory()).post(reverse("api-upload-list"), {}).status_code == 400


def test_an_upload_over_the_quota_is_refused(settings):
    settings.PEERHUB_FILES = {
        "quotas": {
            "member": {"per_file": 10_000, "per_member": 60},
            "more": {"per_file": 10_000, "per_member": 60},
        }
    }
    response = api_upload(api_for(UserFactory()), ("rain.csv", CSV), ("b.csv", CSV + b"x,1\n"))
    assert_error(response, 400, "file_quota")
    assert stored_names() == []


def test_uploads_are_for_signed_in_members_only():
    response = APIClient().post(reverse("api-upload-list"), {}, format="multipart")
    assert response.status_code in (401, 403)


def test_unattached_uploads_go_with_the_sweep_after_the_grace_period(challenge):
    author = UserFactory()
    [kept] = uploads.uploads_create(user=author, uploads=[upload("rain.csv", CSV)])
    [attached] = uploads.uploads_create(user=author, uploads=[upload("gauge.png", png())])
    services.solution_create(
        challenge=challenge,
        author=author,
        title="T",
        body="b",
        attachments=[uploads.Attachment(upload_id=attached.pk)],
    )
    assert files.sweep_unreferenced_blobs(now=timezone.now()) == 0  # within the grace
    assert Upload.objects.filter(pk=kept.pk).exists()
    later = timezone.now() + timedelta(hours=files.config()["grace_hours"], minutes=1)
    assert files.sweep_unreferenced_blobs(now=later) == 1
    assert not Upload.objects.exists()
    assert list(Blob.objects.values_list("content_type", flat=True)) == ["image/png"]
    assert len(stored_names()) == 1


def test_an_expired_upload_cannot_be_attached(challenge):
    author = UserFactory()
    [row] = uploads.uploads_create(user=author, uploads=[upload("rain.csv", CSV)])
    Upload.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - timedelta(hours=files.config()["grace_hours"], minutes=1)
    )
    with pytest.raises(DomainError) as refused:
        services.solution_create(
            challenge=challenge,
            author=author,
            title="T",
            body="b",
            attachments=[uploads.Attachment(upload_id=row.pk)],
        )
    assert refused.value.code == "upload_unknown"
    assert not uploads.uploads_of(user=author).exists()


def test_uploads_are_in_the_schema(client):
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    assert "/api/uploads/" in schema["paths"]
    assert (
        "multipart/form-data"
        in (schema["paths"]["/api/uploads/"]["post"]["requestBody"]["content"])
    )
    components = schema["components"]["schemas"]
    assert "attach" in components["SolutionCreateRequest"]["properties"]
    assert "attach" in components["PatchedSolutionReviseRequest"]["properties"]
