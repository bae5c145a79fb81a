"""Files on revisions (challenges.files, challenges.artefacts): uploads and their safety,
manifests shared by revisions and forks, file diffs, the sweep of unreferenced blobs."""

import io
import json
import unicodedata
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image

from challenges import artefacts, files, services
from challenges.models import Blob, RevisionFile, Solution
from peerhub.exceptions import DomainError
from tests.factories import ChallengeFactory, UserFactory, make_organiser

pytestmark = pytest.mark.django_db


def png(color="red", size=(40, 30), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG", **save)
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (30, 20), "blue")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


class RawUpload(io.BytesIO):
    """An upload whose name reaches the service as sent (Django's own classes already drop a
    path from it; the API and other callers may not)."""

    def __init__(self, name: str, data: bytes):
        super().__init__(data)
        self.name = name
        self.size = len(data)


CSV = b"time,rain_mm\n2026-05-01T10:00,0.2\n2026-05-01T11:00,1.4\n"
CODE = b"void setup() {\n  pinMode(2, INPUT);\n}\n\nvoid loop() {}\n"


@pytest.fixture
def challenge():
    return ChallengeFactory(created_by=make_organiser())


@pytest.fixture
def author():
    return UserFactory()


def post(challenge, author, *uploads, body="See ![the gauge](files/gauge.png).") -> Solution:
    return services.solution_create(
        challenge=challenge, author=author, title="Rain gauge", body=body, uploads=uploads
    )


def stored_names() -> list[str]:
    store = files.storage()
    names = []

    def walk(folder):
        dirs, found = store.listdir(folder)
        names.extend(f"{folder}/{name}".lstrip("/") for name in found)
        for sub in dirs:
            walk(f"{folder}/{sub}".lstrip("/"))

    walk("")
    return names


def test_upload_stores_each_file_once_under_its_sha256(challenge, author):
    solution = post(challenge, author, upload("gauge.png", png()), upload("rain.csv", CSV))
    manifest = files.manifest_of(solution.current_revision)
    assert sorted(manifest) == ["gauge.png", "rain.csv"]
    csv_blob = manifest["rain.csv"]
    assert csv_blob.content_type == "text/csv"
    assert csv_blob.size == len(CSV)
    assert files.blob_bytes(csv_blob) == CSV
    assert csv_blob.uploaded_by == author
    assert manifest["gauge.png"].content_type == "image/png"
    assert len(stored_names()) == 2


def test_the_type_comes_from_the_bytes_not_the_name(challenge, author):
    solution = post(challenge, author, upload("notes.txt", CODE), upload("gauge.png", png()))
    assert files.manifest_of(solution.current_revision)["notes.txt"].content_type == "text/plain"
    with pytest.raises(DomainError, match="does not match its name") as refused:
        post(challenge, author, upload("photo.png", CSV))
    assert refused.value.code == "file_type_mismatch"


def test_markdown_shows_the_revisions_own_image_inline(challenge, author):
    solution = post(challenge, author, upload("gauge.png", png()))
    html = solution.current_revision.body_html
    url = f"/solutions/{solution.pk}/r/1/files/gauge.png"
    assert f'<img src="{url}"' in html
    assert f"{url}?w=480 480w" in html
    assert 'alt="the gauge"' in html


def test_markdown_never_loads_an_image_from_elsewhere(challenge, author):
    body = (
        "![x](https://evil.example/x.png) ![y](files/missing.png) "
        "![z](/solutions/1/r/1/files/a.png)"
    )
    solution = post(challenge, author, upload("gauge.png", png()), body=body)
    assert "<img" not in solution.current_revision.body_html


def test_a_new_revision_keeps_the_blobs_of_the_files_it_keeps(challenge, author):
    solution = post(challenge, author, upload("gauge.png", png()), upload("rain.csv", CSV))
    first = files.manifest_of(solution.current_revision)
    services.solution_revise(
        solution=solution,
        by=author,
        title="Rain gauge",
        body="Now with firmware.",
        uploads=[upload("gauge.ino", CODE)],
        remove_files=["rain.csv"],
    )
    solution.refresh_from_db()
    second = files.manifest_of(solution.current_revision)
    assert sorted(second) == ["gauge.ino", "gauge.png"]
    assert second["gauge.png"].pk == first["gauge.png"].pk
    assert Blob.objects.count() == 3


def test_changing_only_the_files_is_a_revision(challenge, author):
    solution = post(challenge, author, upload("gauge.png", png()))
    services.solution_revise(
        solution=solution,
        by=author,
        title="Rain gauge",
        body=solution.current_revision.body,
        uploads=[upload("gauge.png", png("green"))],
    )
    solution.refresh_from_db()
    assert solution.revision_count == 2
    with pytest.raises(DomainError, match="Nothing changed"):
        services.solution_revise(
            solution=solution, by=author, title="Rain gauge", body=solution.current_revision.body
        )


def test_removing_a_file_that_is_not_there_is_refused(challenge, author):
    solution = post(challenge, author, upload("gauge.png", png()))
    with pytest.raises(DomainError, match="no file named"):
        services.solution_revise(
            solution=solution, by=author, title="T", body="b", remove_files=["nope.csv"]
        )


def test_a_fork_shares_its_parents_blobs_and_copies_no_bytes(challenge, author):
    solution = post(challenge, author, upload("gauge.png", png()), upload("rain.csv", CSV))
    blobs, names = Blob.objects.count(), stored_names()
    fork = services.solution_fork(source=solution, by=UserFactory())
    assert Blob.objects.count() == blobs
    assert stored_names() == names
    assert files.same_manifest(
        files.manifest_of(fork.current_revision), files.manifest_of(solution.current_revision)
    )
    # The fork's Markdown shows the image at the fork's own URL.
    assert f"/solutions/{fork.pk}/r/1/files/gauge.png" in fork.current_revision.body_html


def test_a_fork_that_changes_only_a_file_is_changed(challenge, author):
    solution = post(challenge, author, upload("gauge.png", png()))
    forker = UserFactory()
    fork = services.solution_fork(source=solution, by=forker)
    assert fork.unchanged_fork
    services.solution_revise(
        solution=fork,
        by=forker,
        title=fork.title,
        body=fork.current_revision.body,
        uploads=[upload("gauge.png", png("green"))],
    )
    fork.refresh_from_db()
    assert not fork.unchanged_fork
    assert fork.has_changes_to_offer()
    # Putting the parent's bytes back makes it an unchanged copy again.
    services.solution_revise(
        solution=fork,
        by=forker,
        title=fork.title,
        body=fork.current_revision.body,
        uploads=[upload("gauge.png", png())],
    )
    fork.refresh_from_db()
    assert fork.unchanged_fork


def test_accepting_an_upstream_change_takes_the_forks_files(challenge, author):
    solution = post(challenge, author, upload("gauge.png", png()))
    forker = UserFactory()
    fork = services.solution_fork(source=solution, by=forker)
    services.solution_revise(
        solution=fork,
        by=forker,
        title=fork.title,
        body=fork.current_revision.body,
        uploads=[upload("rain.csv", CSV)],
    )
    fork.refresh_from_db()
    proposal = services.upstream_propose(fork=fork, by=forker, message="Adds the readings.")
    services.upstream_accept(proposal=proposal, by=author)
    solution.refresh_from_db()
    assert sorted(files.manifest_of(solution.current_revision)) == ["gauge.png", "rain.csv"]


def test_file_diff_lists_added_removed_renamed_and_changed(challenge, author):
    solution = post(
        challenge,
        author,
        upload("gauge.png", png()),
        upload("rain.csv", CSV),
        upload("old.ino", CODE),
    )
    first = solution.current_revision
    services.solution_revise(
        solution=solution,
        by=author,
        title="Rain gauge",
        body="v2",
        uploads=[
            upload("rain.csv", CSV + b"2026-05-01T12:00,3.0\n"),
            upload("firmware.ino", CODE),
            upload("notes.txt", b"Calibrated on May 1.\n"),
        ],
        remove_files=["old.ino", "gauge.png"],
    )
    solution.refresh_from_db()
    changes = artefacts.files_diff(old=first, new=solution.current_revision)
    kinds = [(change.kind, change.path, change.old_path) for change in changes]
    assert kinds == [
        ("changed", "rain.csv", None),
        ("added", "notes.txt", None),
        ("renamed", "firmware.ino", "old.ino"),
        ("removed", "gauge.png", None),
    ]
    changed = changes[0]
    assert changed.stats == {"added": 1, "removed": 0}
    assert any("3.0" in row.new_text for row in changed.rows)


def test_the_images_of_a_changed_picture_are_compared_side_by_side(challenge, author):
    solution = post(challenge, author, upload("gauge.png", png()))
    first = solution.current_revision
    services.solution_revise(
        solution=solution,
        by=author,
        title="Rain gauge",
        body="v2",
        uploads=[upload("gauge.png", png("green"))],
    )
    solution.refresh_from_db()
    (change,) = artefacts.files_diff(old=first, new=solution.current_revision)
    assert change.kind == "changed" and change.images


# --- Refusals: a clear message, nothing stored -----------------------------------------------


def bomb_png() -> bytes:
    # 20,000 x 20,000 pixels of one colour compress to a few hundred kilobytes.
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, "PNG")
    return out.getvalue()


REFUSALS = {
    "type": (upload("tool.exe", b"MZ\x90\x00" + bytes(range(256)) * 4), "file_type"),
    "html": (upload("page.txt", b"<!doctype html><script>alert(1)</script>"), "file_type"),
    "traversal": (RawUpload("../../etc/passwd.txt", b"root"), "file_name_path"),
    "backslash": (RawUpload("..\\boot.ini.txt", b"x"), "file_name_path"),
    "dot file": (RawUpload(".htaccess", b"x"), "file_name_path"),
    "bidi": (upload("photo\u202egnp.exe.txt", b"hello"), "file_name_characters"),
    "zero width": (upload("read\u200bme.txt", b"hello"), "file_name_characters"),
    "svg script": (
        upload("d.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        "svg_unsafe",
    ),
    "svg handler": (
        upload("d.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'),
        "svg_unsafe",
    ),
    "not an image": (upload("fake.png", b"\x89PNG\r\n\x1a\nnot really"), "image_unreadable"),
    "empty": (upload("empty.txt", b""), "file_empty"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_every_refusal_says_why_and_stores_nothing(challenge, author, case):
    bad, code = REFUSALS[case]
    with pytest.raises(DomainError) as refused:
        post(challenge, author, upload("gauge.png", png()), bad)
    assert refused.value.code == code
    assert refused.value.message
    assert not Solution.objects.exists()
    assert not Blob.objects.exists() and not RevisionFile.objects.exists()
    assert stored_names() == []


def test_a_decompression_bomb_is_refused(challenge, author, settings):
    settings.PEERHUB_FILES = {**settings.PEERHUB_FILES, "image_max_pixels": 1_000_000}
    with pytest.raises(DomainError, match="pixels") as refused:
        post(challenge, author, upload("bomb.png", bomb_png()))
    assert refused.value.code == "image_too_large"
    assert stored_names() == []


def test_a_file_over_the_per_file_limit_is_refused(challenge, author, settings):
    settings.PEERHUB_FILES = {
        "quotas": {
            "member": {"per_file": 100, "per_member": 10_000},
            "more": {"per_file": 1000, "per_member": 10_000},
        }
    }
    with pytest.raises(DomainError, match="larger than") as refused:
        post(challenge, author, upload("rain.csv", CSV * 10))
    assert refused.value.code == "file_too_large"
    assert stored_names() == []


def test_the_member_quota_counts_unique_bytes_they_stored(challenge, author, settings):
    settings.PEERHUB_FILES = {
        "quotas": {
            "member": {"per_file": 10_000, "per_member": len(CSV) + 10},
            "more": {"per_file": 10_000, "per_member": 10_000},
        }
    }
    solution = post(challenge, author, upload("rain.csv", CSV), body="Readings.")
    # The same bytes again cost nothing; new bytes over the quota are refused, nothing stored.
    services.solution_revise(
        solution=solution, by=author, title="T", body="b", uploads=[upload("copy.csv", CSV)]
    )
    before = stored_names()
    with pytest.raises(DomainError, match="left") as refused:
        services.solution_revise(
            solution=solution, by=author, title="T", body="c", uploads=[upload("n.ino", CODE)]
        )
    assert refused.value.code == "file_quota"
    assert stored_names() == before
    assert Blob.objects.count() == 1


def test_a_member_with_more_file_space_gets_the_larger_quota(author, settings):
    from tests.factories import grant

    assert files.quota_for(author) == files.config()["quotas"]["member"]
    grant(author, files.MORE_FILE_SPACE_PERMISSION)
    author = type(author).objects.get(pk=author.pk)
    assert files.quota_for(author) == files.config()["quotas"]["more"]


def test_exif_and_gps_are_stripped_from_photos(challenge, author):
    data = jpeg_with_gps()
    assert Image.open(io.BytesIO(data)).getexif()
    solution = post(challenge, author, upload("gauge.jpg", data), body="Photo.")
    blob = files.manifest_of(solution.current_revision)["gauge.jpg"]
    kept = Image.open(io.BytesIO(files.blob_bytes(blob)))
    assert not kept.getexif()
    assert b"PhoneMaker" not in files.blob_bytes(blob)


def test_a_failure_after_the_bytes_were_written_removes_them(challenge, author, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(files, "manifest_write", fail)
    with pytest.raises(RuntimeError):
        post(challenge, author, upload("gauge.png", png()))
    assert not Blob.objects.exists()
    assert stored_names() == []


@pytest.mark.parametrize(
    "name",
    ["photo.jpg", "Rain gauge v2.csv", "Überlauf.ino", "schéma.svg"],
)
def test_plain_names_are_kept(name):
    assert files.normalise_name(f"  {name} ") == name


# --- The sweep -------------------------------------------------------------------------------


def test_the_sweep_deletes_only_unreferenced_blobs_past_their_grace(challenge, author):
    solution = post(challenge, author, upload("gauge.png", png()), upload("rain.csv", CSV))
    services.solution_revise(
        solution=solution, by=author, title="T", body="b", remove_files=["rain.csv"]
    )
    # Still held by revision 1: revisions are immutable, so nothing goes.
    later = timezone.now() + timedelta(days=2)
    assert files.sweep_unreferenced_blobs(now=later) == 0
    orphan = Blob.objects.create(sha256="a" * 64, size=1, content_type="text/plain")
    files.storage().save(orphan.storage_name, io.BytesIO(b"x"))
    assert files.sweep_unreferenced_blobs(now=timezone.now()) == 0  # within the grace period
    assert files.sweep_unreferenced_blobs(now=later) == 1
    assert not Blob.objects.filter(pk=orphan.pk).exists()
    assert orphan.storage_name not in stored_names()
    assert Blob.objects.count() == 2
    assert files.sweep_unreferenced_blobs(now=later) == 0  # safe to run again


# --- Zip -------------------------------------------------------------------------------------


def test_a_revision_zips_with_readme_files_licence_and_lineage(challenge, author):
    solution = post(challenge, author, upload("gauge.png", png()), upload("rain.csv", CSV))
    forker = UserFactory(display_name="Forker")
    fork = services.solution_fork(source=solution, by=forker)
    archive = artefacts.revision_zip(user=forker, solution=fork, revision=fork.current_revision)
    with zipfile.ZipFile(archive) as zipped:
        names = sorted(zipped.namelist())
        assert names == [
            "LICENSE",
            "README.md",
            "files/gauge.png",
            "files/rain.csv",
            "lineage.json",
        ]
        assert zipped.read("files/rain.csv") == CSV
        assert "![the gauge](files/gauge.png)" in zipped.read("README.md").decode()
        assert challenge.licence in zipped.read("LICENSE").decode()
        lineage = json.loads(zipped.read("lineage.json"))
    assert lineage["solution"]["author_username"] == forker.username
    assert lineage["built_on"][0]["author_username"] == author.username


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_a_normalised_name_is_always_one_plain_visible_name(raw):
    try:
        name = files.normalise_name(raw)
    except DomainError:
        return
    assert "/" not in name and "\\" not in name and not name.startswith(".")
    assert all(unicodedata.category(c) not in {"Cc", "Cf", "Zl", "Zp"} for c in name)
    assert 0 < len(name) <= files.NAME_MAX
    assert files.normalise_name(name) == name


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_sniffing_any_bytes_answers_a_type(data):
    assert isinstance(files.sniff(data), str)
