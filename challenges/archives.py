"""Zips of large revisions, built by a task with its progress shown.

A revision whose files are small zips on the fly (challenges.artefacts.zip_response). Past
PEERHUB_FILES["zip_task_bytes"] the download asks for a `RevisionArchive` instead
(`archive_request`): one row per revision and viewer (lineage.json names what that viewer may
see), built once by `archive_build` (promised through the outbox, so it runs at least once;
claimed with a conditional UPDATE, so twice changes nothing), its progress saved after each
file for the page's htmx polling and the API's 202 answers, then kept in the files storage for
`archive_hours` and served to whoever may see the solution. The hourly sweep deletes the old
ones (`archives_sweep`); asking again after that builds it again."""

import os
import secrets
import tempfile
from datetime import datetime, timedelta

from django.contrib.auth.models import AnonymousUser
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from peerhub import outbox

from . import artefacts, files
from .models import Blob, Revision, RevisionArchive, Solution

DEFAULTS = {"zip_task_bytes": 20 * files.MB, "archive_hours": 24}
# A build neither finished nor failed after this long was lost (its worker killed): the next
# request or the sweep gives it back to the queue.
STUCK_AFTER = timedelta(hours=1)
State = RevisionArchive.State


def config() -> dict:
    configured = files.config()
    return {key: configured.get(key, default) for key, default in DEFAULTS.items()}


def built_by_task(manifest: dict[str, Blob]) -> bool:
    """Whether this manifest's zip is too large to build while the member waits."""
    return sum(blob.size for blob in manifest.values()) > config()["zip_task_bytes"]


def _viewer_id(user) -> int | None:
    return user.pk if getattr(user, "is_authenticated", False) else None


def archive_of(*, user, revision: Revision) -> RevisionArchive | None:
    return RevisionArchive.objects.filter(revision=revision, viewer_id=_viewer_id(user)).first()


def archive_request(*, user, revision: Revision, now: datetime | None = None) -> RevisionArchive:
    """The viewer's archive of this revision: ready, or being built, or queued now (a new row,
    or one failed, expired or stuck, queued again). The caller checked that the member may see
    the revision. The build is promised in the same transaction; two requests at once make
    one row (the unique constraints) and one build."""
    from . import tasks

    now = now or timezone.now()
    viewer = _viewer_id(user)
    archive = RevisionArchive.objects.filter(revision=revision, viewer_id=viewer).first()
    if archive is not None and (archive.is_downloadable or _in_time(archive, now)):
        return archive
    with transaction.atomic():
        if archive is None:
            try:
                with transaction.atomic():
                    archive = RevisionArchive.objects.create(
                        revision=revision, viewer_id=viewer, created_at=now
                    )
            except IntegrityError:  # another request made it first: theirs is building
                return RevisionArchive.objects.get(revision=revision, viewer_id=viewer)
        else:
            # Failed, expired or stuck: queued again, by one request only.
            again = (
                RevisionArchive.objects.filter(pk=archive.pk, state=archive.state)
                .filter(started_at=archive.started_at)
                .update(
                    state=State.QUEUED,
                    progress=0,
                    error="",
                    created_at=now,
                    started_at=None,
                    finished_at=None,
                )
            )
            if not again:
                archive.refresh_from_db()
                return archive
        outbox.enqueue(tasks.build_revision_archive, archive.pk)
    archive.refresh_from_db()
    return archive


def _in_time(archive: RevisionArchive, now: datetime) -> bool:
    """In flight and not lost."""
    if archive.state == State.QUEUED:
        return archive.created_at > now - STUCK_AFTER
    if archive.state == State.BUILDING:
        return archive.started_at is not None and archive.started_at > now - STUCK_AFTER
    return False


def archive_build(*, archive_id: int, now: datetime | None = None) -> bool:
    """Build one archive; safe to run twice. The run claims the row with a conditional UPDATE
    (queued, or building past the lease: its worker was killed); another run's claim finds
    nothing to do. Answers whether this run finished it."""
    now = now or timezone.now()
    claimed = (
        RevisionArchive.objects.filter(pk=archive_id)
        .filter(
            Q(state=State.QUEUED) | Q(state=State.BUILDING, started_at__lt=now - outbox.lease())
        )
        .update(state=State.BUILDING, progress=0, started_at=now)
    )
    if not claimed:
        return False
    archive = RevisionArchive.objects.select_related(
        "viewer", "revision__solution__challenge", "revision__solution__author"
    ).get(pk=archive_id)
    revision = archive.revision
    solution: Solution = revision.solution
    viewer = archive.viewer or AnonymousUser()
    name = f"archives/{revision.solution_id}/{revision.number}/{secrets.token_hex(16)}.zip"

    def progress(done: int, total: int) -> None:
        # Up to 99: 100 is when the zip is stored and the link works.
        percent = min(99, 100 * done // total) if total else 99
        RevisionArchive.objects.filter(pk=archive_id, state=State.BUILDING).update(progress=percent)

    with tempfile.TemporaryFile() as temporary:
        artefacts.write_revision_zip(
            temporary, user=viewer, solution=solution, revision=revision, progress=progress
        )
        size = temporary.tell()
        temporary.seek(0)
        stored = files.storage().save(name, File(temporary, name=os.path.basename(name)))
    finished_at = timezone.now()
    finished = RevisionArchive.objects.filter(pk=archive_id, state=State.BUILDING).update(
        state=State.READY,
        progress=100,
        file_name=stored,
        size=size,
        finished_at=finished_at,
        expires_at=finished_at + timedelta(hours=config()["archive_hours"]),
    )
    if not finished:  # pragma: no cover - a sweep or another run took it meanwhile
        files.storage().delete(stored)
        return False
    if archive.file_name and archive.file_name != stored:
        files.storage().delete(archive.file_name)  # the expired zip this one replaces
    return True


def archive_release(*, archive_id: int) -> None:
    """A run that failed hands the archive back, for its retry to claim at once."""
    RevisionArchive.objects.filter(pk=archive_id, state=State.BUILDING).update(
        state=State.QUEUED, progress=0
    )


def archive_fail(*, archive_id: int, error: Exception | str) -> None:
    """A build its task gave up on: the page says so, and asking again queues a new one."""
    RevisionArchive.objects.filter(pk=archive_id, state__in=RevisionArchive.IN_FLIGHT).update(
        state=State.FAILED,
        error=(str(error) or type(error).__name__)[:300],
        finished_at=timezone.now(),
    )


def archive_open(archive: RevisionArchive):
    return files.storage().open(archive.file_name, "rb")


def archives_sweep(*, now: datetime | None = None) -> int:
    """Delete the zips past their time (rows and files). Answers how many went."""
    now = now or timezone.now()
    old = list(
        RevisionArchive.objects.filter(
            Q(state=State.READY, expires_at__lte=now)
            | Q(state=State.FAILED, finished_at__lte=now - STUCK_AFTER)
        ).values_list("pk", "file_name", "state")
    )
    gone = 0
    for pk, file_name, state in old:
        deleted, _ = RevisionArchive.objects.filter(pk=pk, state=state).delete()
        if deleted and file_name:
            files.storage().delete(file_name)
        gone += deleted
    return gone
