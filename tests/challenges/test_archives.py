"""Zips of large revisions built by a task (challenges.archives): the page starts the build and
polls its progress, then offers the download; small revisions stay direct; the API answers 202
until the zip is ready; who may see the solution, and only they, may fetch it."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from challenges import archives, files, services, tasks
from challenges.models import Challenge, RevisionArchive
from peerhub.models import OutboxTask
from tests.challenges.test_files import CSV, png, upload
from tests.factories import ChallengeFactory, UserFactory, make_organiser
from tests.helpers import after_commit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_threshold(settings):
    """Anything over 100 bytes is "large" here, so tests stay small."""
    settings.PEERHUB_FILES = {**settings.PEERHUB_FILES, "zip_task_bytes": 100}


@pytest.fixture
def challenge():
    return ChallengeFactory(created_by=make_organiser())


def large_solution(challenge, author=None):
    return services.solution_create(
        challenge=challenge,
        author=author or UserFactory(),
        title="Rain gauge",
        body="![g](files/gauge.png)",
        uploads=[upload("gauge.png", png(size=(64, 64))), upload("rain.csv", CSV)],
    )


def small_solution(challenge):
    return services.solution_create(
        challenge=challenge,
        author=UserFactory(),
        title="Note",
        body="Just a note.",
        uploads=[upload("n.txt", b"hi\n")],
    )


def zip_url(solution, number=1):
    return reverse("challenges:revision-archive", args=[solution.pk, number])


def page_url(solution, number=1):
    return reverse("challenges:revision-archive-page", args=[solution.pk, number])


def unzip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_a_small_revision_zips_directly(client, challenge):
    solution = small_solution(challenge)
    response = client.get(zip_url(solution))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert not RevisionArchive.objects.exists()
    assert client.get(page_url(solution)).url == zip_url(solution)
    page = client.get(solution.get_absolute_url()).content.decode()
    assert f'href="{zip_url(solution)}" download' in page


def test_a_large_revision_is_zipped_by_a_task_with_its_progress_shown(client, challenge):
    solution = large_solution(challenge)
    member = UserFactory()
    client.force_login(member)
    page = client.get(solution.get_absolute_url()).content.decode()
    assert f'href="{page_url(solution)}" rel="nofollow"' in page  # the page, not a direct download
    assert client.get(zip_url(solution)).url == page_url(solution)

    # The page asks for it: queued (the task runs after commit), and the status polls.
    response = client.get(page_url(solution))
    archive = RevisionArchive.objects.get()
    assert archive.viewer == member and archive.state == "queued"
    assert OutboxTask.objects.filter(task=tasks.build_revision_archive.name).exists()
    assert 'hx-trigger="every 1s"' in response.content.decode()
    fragment = client.get(page_url(solution), headers={"HX-Request": "true"}).content.decode()
    assert "<progress" in fragment and "<html" not in fragment
    assert RevisionArchive.objects.count() == 1  # asking again finds the same one

    assert archives.archive_build(archive_id=archive.pk)
    archive.refresh_from_db()
    assert archive.state == "ready" and archive.progress == 100 and archive.size > 0
    fragment = client.get(page_url(solution), headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in fragment and f'href="{zip_url(solution)}" download' in fragment

    response = client.get(zip_url(solution))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["X-Content-Type-Options"] == "nosniff"
    with unzip(response) as zipped:
        assert zipped.read("files/rain.csv") == CSV
        assert set(zipped.namelist()) >= {"README.md", "LICENSE", "lineage.json"}


def test_the_page_builds_it_after_commit(client, challenge):
    """Embedded default: the promised task runs eagerly once the request commits."""
    solution = large_solution(challenge)
    with after_commit():
        client.get(page_url(solution))
    archive = RevisionArchive.objects.get()
    archive.refresh_from_db()
    assert archive.viewer is None and archive.is_downloadable
    assert client.get(zip_url(solution))["Content-Type"] == "application/zip"


def test_progress_rises_file_by_file(challenge, monkeypatch):
    solution = large_solution(challenge)
    archive = archives.archive_request(user=UserFactory(), revision=solution.current_revision)
    seen = []
    real = archives.artefacts.write_revision_zip

    def spy(target, *, progress, **kwargs):
        def record(done, total):
            progress(done, total)
            seen.append(RevisionArchive.objects.get(pk=archive.pk).progress)

        real(target, progress=record, **kwargs)

    monkeypatch.setattr(archives.artefacts, "write_revision_zip", spy)
    assert archives.archive_build(archive_id=archive.pk)
    assert len(seen) == 2 and 0 < seen[0] < seen[1] <= 99
    archive.refresh_from_db()
    assert archive.progress == 100


def test_the_build_runs_once_when_run_twice(challenge):
    solution = large_solution(challenge)
    archive = archives.archive_request(user=None, revision=solution.current_revision)
    assert archives.archive_build(archive_id=archive.pk)
    assert not archives.archive_build(archive_id=archive.pk)
    stored = files.storage().listdir(f"archives/{solution.pk}/1")[1]
    assert len(stored) == 1


def test_a_failed_build_is_handed_back_then_marked_failed_and_may_be_asked_again(
    challenge, monkeypatch
):
    solution = large_solution(challenge)
    member = UserFactory()
    archive = archives.archive_request(user=member, revision=solution.current_revision)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(archives.artefacts, "write_revision_zip", broken)
    with pytest.raises(Retry):
        tasks.build_revision_archive.apply(args=[archive.pk], throw=True)
    archive.refresh_from_db()
    assert archive.state == "queued"
    archives.archive_fail(archive_id=archive.pk, error=OSError("disk full"))
    archive.refresh_from_db()
    assert archive.state == "failed"
    monkeypatch.undo()
    again = archives.archive_request(user=member, revision=solution.current_revision)
    assert again.pk == archive.pk and again.state == "queued"
    assert archives.archive_build(archive_id=again.pk)


def test_the_sweep_deletes_old_zips(challenge):
    solution = large_solution(challenge)
    archive = archives.archive_request(user=None, revision=solution.current_revision)
    archives.archive_build(archive_id=archive.pk)
    archive.refresh_from_db()
    assert archives.archives_sweep() == 0
    later = timezone.now() + timedelta(hours=archives.config()["archive_hours"], minutes=1)
    assert archives.archives_sweep(now=later) == 1
    assert not RevisionArchive.objects.exists()
    assert not files.storage().exists(archive.file_name)


def test_the_sweep_is_on_the_beat_schedule(settings):
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "challenges.tasks.sweep_revision_archives" in tasks_scheduled


def test_lineage_names_what_the_viewer_may_see(challenge):
    """One archive per viewer: a hidden ancestor is counted, not named, in the visitor's zip."""
    organiser = make_organiser()
    private = ChallengeFactory(
        created_by=organiser,
        organisers=[organiser],
        visibility=Challenge.Visibility.PRIVATE,
        status=Challenge.Status.OPEN,
    )
    forker = UserFactory()
    private.invited.add(forker)
    source = large_solution(private, author=forker)
    fork = services.solution_fork(source=source, by=forker, challenge=challenge)
    for viewer in (None, forker):
        archive = archives.archive_request(user=viewer, revision=fork.current_revision)
        archives.archive_build(archive_id=archive.pk)
    records = {}
    for archive in RevisionArchive.objects.all():
        with archives.archive_open(archive) as handle, zipfile.ZipFile(handle) as zipped:
            records[archive.viewer_id] = json.loads(zipped.read("lineage.json"))
    assert records[None]["built_on"] == [{"hidden": True}]
    assert records[forker.pk]["built_on"][0]["id"] == source.pk


def test_private_large_zips_only_for_those_who_see_the_solution(client):
    organiser = make_organiser()
    private = ChallengeFactory(
        created_by=organiser,
        organisers=[organiser],
        visibility=Challenge.Visibility.PRIVATE,
        status=Challenge.Status.OPEN,
    )
    author = UserFactory()
    private.invited.add(author)
    solution = large_solution(private, author=author)
    client.force_login(UserFactory())
    assert client.get(page_url(solution)).status_code == 404
    assert client.get(zip_url(solution)).status_code == 404
    assert not RevisionArchive.objects.exists()
    # A zip built for the author is not handed to anyone else.
    archive = archives.archive_request(user=author, revision=solution.current_revision)
    archives.archive_build(archive_id=archive.pk)
    assert client.get(zip_url(solution)).status_code == 404
    api = APIClient()
    api.force_authenticate(UserFactory())
    api_url = reverse("api-solution-revision-archive", kwargs={"pk": solution.pk, "number": 1})
    assert api.get(api_url).status_code == 404
    client.force_login(author)
    assert client.get(zip_url(solution))["Content-Type"] == "application/zip"


def test_api_answers_202_with_progress_then_the_zip(challenge):
    solution = large_solution(challenge)
    api = APIClient()
    api.force_authenticate(UserFactory())
    url = reverse("api-solution-revision-archive", kwargs={"pk": solution.pk, "number": 1})
    response = api.get(url)
    assert response.status_code == 202
    assert response.json()["state"] == "queued" and response.json()["download_url"] is None
    assert response["Retry-After"]
    archives.archive_build(archive_id=RevisionArchive.objects.get().pk)
    response = api.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with unzip(response) as zipped:
        assert zipped.read("files/rain.csv") == CSV


def test_api_zips_a_small_revision_directly(challenge):
    solution = small_solution(challenge)
    url = reverse("api-solution-revision-archive", kwargs={"pk": solution.pk, "number": 1})
    response = APIClient().get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert not RevisionArchive.objects.exists()
