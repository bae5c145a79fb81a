"""Files through the browser and the API: the forms' uploads, inline images, downloads with
their headers, the zip, the diff pages, and who may fetch the files of a private challenge."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from challenges import files, services
from challenges.models import Blob, Challenge, Solution
from tests.challenges.test_files import CSV, png, stored_names
from tests.factories import ChallengeFactory, UserFactory, make_organiser
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def challenge():
    return ChallengeFactory(created_by=make_organiser())


def upload(name, data):
    return SimpleUploadedFile(name, data)


def solution_with_files(challenge, author=None, **kwargs) -> Solution:
    return services.solution_create(
        challenge=challenge,
        author=author or UserFactory(),
        title="Rain gauge",
        body="![the gauge](files/gauge.png)\n\n[readings](files/rain.csv)",
        uploads=[upload("gauge.png", png()), upload("rain.csv", CSV)],
        **kwargs,
    )


def file_url(solution, path, number=1):
    return files.file_url(solution_id=solution.pk, number=number, path=path)


def assert_file_headers(response, disposition: str) -> None:
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Content-Disposition"].startswith(disposition)


# --- Browser forms ---------------------------------------------------------------------------


def test_the_new_solution_form_takes_several_files(client, challenge):
    author = UserFactory()
    client.force_login(author)
    response = client.post(
        reverse("challenges:solution-create", args=[challenge.slug]),
        {
            "title": "Rain gauge",
            "body": "![the gauge](files/gauge.png)",
            "files": [upload("gauge.png", png()), upload("rain.csv", CSV)],
            "publish": "on",
        },
    )
    solution = Solution.objects.get()
    assert response.status_code == 302
    assert sorted(files.manifest_of(solution.current_revision)) == ["gauge.png", "rain.csv"]
    page = client.get(solution.get_absolute_url()).content.decode()
    assert f'<img src="{file_url(solution, "gauge.png")}"' in page
    assert "rain.csv" in page and "CSV data" in page
    assert "2026-05-01T11:00,1.4" in page  # the CSV previewed in the page
    assert reverse("challenges:revision-archive", args=[solution.pk, 1]) in page


def test_a_refused_file_is_a_form_error_and_nothing_is_stored(client, challenge):
    client.force_login(UserFactory())
    response = client.post(
        reverse("challenges:solution-create", args=[challenge.slug]),
        {
            "title": "Rain gauge",
            "body": "Text.",
            "files": [upload("gauge.png", png()), upload("evil.svg", b"<svg onload=alert(1)>")],
            "publish": "on",
        },
    )
    assert response.status_code == 200
    assert "SVG with scripts" in response.content.decode()
    assert not Solution.objects.exists() and not Blob.objects.exists()
    assert stored_names() == []


def test_the_edit_form_adds_and_removes_files(client, challenge):
    author = UserFactory()
    solution = solution_with_files(challenge, author)
    client.force_login(author)
    edit = reverse("challenges:solution-edit", args=[solution.pk])
    page = client.get(edit).content.decode()
    assert 'enctype="multipart/form-data"' in page and 'value="rain.csv"' in page
    response = client.post(
        edit,
        {
            "title": "Rain gauge",
            "body": "Now with firmware.",
            "files": [upload("gauge.ino", b"void loop() {}\n")],
            "remove_files": ["rain.csv"],
        },
    )
    assert response.status_code == 302
    solution.refresh_from_db()
    assert sorted(files.manifest_of(solution.current_revision)) == ["gauge.ino", "gauge.png"]


def test_the_diff_page_lists_the_file_changes(client, challenge):
    author = UserFactory()
    solution = solution_with_files(challenge, author)
    services.solution_revise(
        solution=solution,
        by=author,
        title="Rain gauge",
        body="v2",
        uploads=[upload("gauge.png", png("green"))],
        remove_files=["rain.csv"],
    )
    page = client.get(reverse("challenges:solution-diff", args=[solution.pk])).content.decode()
    assert "file-change-changed" in page and "file-change-removed" in page
    assert "gauge.png before" in page and "gauge.png after" in page


def test_a_fork_page_shows_what_it_changed_in_the_files(client, challenge):
    source = solution_with_files(challenge)
    forker = UserFactory()
    fork = services.solution_fork(source=source, by=forker)
    services.solution_revise(
        solution=fork,
        by=forker,
        title=fork.title,
        body=fork.current_revision.body,
        uploads=[upload("gauge.png", png("green"))],
    )
    page = client.get(fork.get_absolute_url()).content.decode()
    assert "What this fork changed" in page
    assert "file-change-changed" in page
    assert "Unchanged copy" not in page


# --- Serving ---------------------------------------------------------------------------------


def test_an_image_is_served_inline_with_the_file_headers(client, challenge):
    solution = solution_with_files(challenge)
    response = client.get(file_url(solution, "gauge.png"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert_file_headers(response, "inline")
    assert response["Cache-Control"].startswith("public")
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    again = client.get(file_url(solution, "gauge.png"), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_other_files_are_always_attachments(client, challenge):
    solution = solution_with_files(challenge)
    response = client.get(file_url(solution, "rain.csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert_file_headers(response, 'attachment; filename="rain.csv"')
    assert b"".join(response.streaming_content) == CSV
    download = client.get(file_url(solution, "gauge.png") + "?download=1")
    assert_file_headers(download, "attachment")


def test_an_svg_is_never_served_as_a_document(client, challenge):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'
    solution = services.solution_create(
        challenge=challenge,
        author=UserFactory(),
        title="Drawing",
        body="A drawing.",
        uploads=[upload("plan.svg", svg)],
    )
    response = client.get(file_url(solution, "plan.svg"))
    assert response["Content-Type"] == "image/svg+xml"
    assert_file_headers(response, "attachment")


def test_a_thumbnail_is_a_smaller_webp(client, challenge):
    solution = services.solution_create(
        challenge=challenge,
        author=UserFactory(),
        title="Photo",
        body="![p](files/big.png)",
        uploads=[upload("big.png", png(size=(1200, 800)))],
    )
    response = client.get(file_url(solution, "big.png") + "?w=480")
    assert response["Content-Type"] == "image/webp"
    assert_file_headers(response, "inline")


def test_a_missing_file_or_revision_is_a_404(client, challenge):
    solution = solution_with_files(challenge)
    assert client.get(file_url(solution, "nope.png")).status_code == 404
    assert client.get(file_url(solution, "gauge.png", number=9)).status_code == 404


def test_the_zip_of_a_revision(client, challenge):
    solution = solution_with_files(challenge)
    response = client.get(reverse("challenges:revision-archive", args=[solution.pk, 1]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert_file_headers(response, "attachment")
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as zipped:
        assert zipped.read("files/rain.csv") == CSV
        assert set(zipped.namelist()) >= {"README.md", "LICENSE", "lineage.json"}


# --- Who may fetch the files of a private challenge ------------------------------------------


def _private_world():
    organiser = make_organiser()
    invited, author = UserFactory(), UserFactory()
    challenge = ChallengeFactory(
        created_by=organiser,
        organisers=[organiser],
        visibility=Challenge.Visibility.PRIVATE,
        status=Challenge.Status.OPEN,
    )
    challenge.invited.add(invited, author)
    solution = solution_with_files(challenge, author)
    return {
        "anonymous": None,
        "member": UserFactory(),
        "invited": invited,
        "author": author,
        "organiser": organiser,
        "staff": UserFactory(is_staff=True),
    }, solution


MAY_FETCH = {
    "anonymous": False,
    "member": False,
    "invited": True,
    "author": True,
    "organiser": True,
    "staff": True,
}


@pytest.mark.parametrize("who", sorted(MAY_FETCH))
def test_private_challenge_files_only_for_those_who_see_the_solution(client, who):
    people, solution = _private_world()
    if people[who] is not None:
        client.force_login(people[who])
    urls = [
        file_url(solution, "gauge.png"),
        file_url(solution, "rain.csv") + "?download=1",
        reverse("challenges:revision-archive", args=[solution.pk, 1]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == (200 if MAY_FETCH[who] else 404), url
        if MAY_FETCH[who]:
            assert response["Cache-Control"].startswith("private")
    api = APIClient()
    if people[who] is not None:
        api.force_authenticate(people[who])
    response = api.get(
        reverse(
            "api-solution-revision-file",
            kwargs={"pk": solution.pk, "number": 1, "path": "rain.csv"},
        )
    )
    assert response.status_code == (200 if MAY_FETCH[who] else 404)


def test_a_drafts_files_are_its_authors_only(client, challenge):
    author = UserFactory()
    solution = solution_with_files(challenge, author, publish=False)
    assert client.get(file_url(solution, "gauge.png")).status_code == 404
    client.force_login(author)
    assert client.get(file_url(solution, "gauge.png")).status_code == 200


# --- API -------------------------------------------------------------------------------------


def test_api_create_with_files_then_revise(challenge):
    author = UserFactory()
    api = APIClient()
    api.force_authenticate(author)
    response = api.post(
        reverse("api-solution-list"),
        {
            "challenge": challenge.slug,
            "title": "Rain gauge",
            "body": "![g](files/gauge.png)",
            "files": [upload("gauge.png", png()), upload("rain.csv", CSV)],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [f["path"] for f in body["files"]] == ["gauge.png", "rain.csv"]
    csv_entry = body["files"][1]
    assert csv_entry["content_type"] == "text/csv" and csv_entry["size"] == len(CSV)
    assert api.get(csv_entry["url"]).status_code == 200
    pk = body["id"]
    response = api.patch(
        reverse("api-solution-detail", args=[pk]),
        {"files": [upload("gauge.png", png("green"))], "remove_files": ["rain.csv"]},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    assert [f["path"] for f in response.json()["files"]] == ["gauge.png"]
    diff = api.get(reverse("api-solution-diff", args=[pk])).json()
    assert [(c["kind"], c["path"]) for c in diff["files"]] == [
        ("changed", "gauge.png"),
        ("removed", "rain.csv"),
    ]
    revision = api.get(reverse("api-solution-revision", kwargs={"pk": pk, "number": 1})).json()
    assert [f["path"] for f in revision["files"]] == ["gauge.png", "rain.csv"]
    archive = api.get(revision["archive_url"])
    assert archive.status_code == 200 and archive["Content-Type"] == "application/zip"


def test_api_refuses_a_bad_file_with_the_error_shape(challenge):
    api = APIClient()
    api.force_authenticate(UserFactory())
    response = api.post(
        reverse("api-solution-list"),
        {
            "challenge": challenge.slug,
            "title": "T",
            "body": "b",
            "files": [upload("gauge.png", png()), upload("tool.exe", b"MZ\x90\x00" * 64)],
        },
        format="multipart",
    )
    assert_error(response, 400, "file_type")
    assert not Solution.objects.exists() and not Blob.objects.exists()
    assert stored_names() == []


def test_api_refuses_a_file_over_the_limit_with_413(challenge, settings):
    settings.PEERHUB_FILES = {
        "quotas": {
            "member": {"per_file": 50, "per_member": 10_000},
            "more": {"per_file": 50, "per_member": 10_000},
        }
    }
    api = APIClient()
    api.force_authenticate(UserFactory())
    response = api.post(
        reverse("api-solution-list"),
        {"challenge": challenge.slug, "title": "T", "body": "b", "files": [upload("r.csv", CSV)]},
        format="multipart",
    )
    assert_error(response, 413, "file_too_large")
    assert stored_names() == []


def test_an_upstream_offer_shows_the_file_changes(client, challenge):
    source = solution_with_files(challenge)
    forker = UserFactory()
    fork = services.solution_fork(source=source, by=forker)
    services.solution_revise(
        solution=fork,
        by=forker,
        title=fork.title,
        body=fork.current_revision.body,
        uploads=[upload("gauge.png", png("green"))],
    )
    client.force_login(forker)
    form = client.get(reverse("challenges:upstream-create", args=[fork.pk])).content.decode()
    assert "file-change-changed" in form
    proposal = services.upstream_propose(fork=fork, by=forker, message="A clearer photo.")
    page = client.get(proposal.get_absolute_url()).content.decode()
    assert "gauge.png before" in page and "gauge.png after" in page
