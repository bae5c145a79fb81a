"""Members take their data with them (issue 21): the archive holds every kind of their data and
nothing of anyone else's; the link is theirs only and expires; the task is safe to run twice."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.db import IntegrityError, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from challenges import services as challenge_services
from marketplace import services as market_services
from marketplace.models import OrderMessage
from peerhub import exports, outbox, tasks
from peerhub.exceptions import Conflict, RateLimited
from peerhub.models import AccessToken, DataExport, OutboxTask
from reputation import services as reputation_services
from tests.factories import UserFactory, make_solution
from tests.helpers import after_commit
from tests.marketplace.factories import OfferFactory, pay
from tests.peerhub.export_helpers import (
    PDF,
    archive_of,
    full_member,
    parts_of,
    upload,
)

pytestmark = pytest.mark.django_db


def request_export(user, **kwargs) -> DataExport:
    with after_commit():
        export = exports.export_request(user=user, **kwargs)
    export.refresh_from_db()
    return export


def every_byte(archive) -> bytes:
    return b"\n".join(archive.read(name) for name in archive.namelist())


def stored_archives() -> list[str]:
    root = Path(exports.storage().location)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def ready_export(user=None) -> DataExport:
    return request_export(user or UserFactory())


# --- What the archive holds -----------------------------------------------------------------


def test_the_archive_holds_a_row_of_every_kind_and_the_files_bytes():
    member = full_member("a")
    export = request_export(member.user)
    assert export.state == DataExport.State.READY and export.progress == 100
    archive = archive_of(export)
    parts = parts_of(archive)
    assert sorted(name for name, rows in parts.items() if not rows) == []
    expected = {
        "peerhub/profile.json", "peerhub/email_addresses.json",
        "peerhub/manifesto_signatures.json", "peerhub/follows.json",
        "peerhub/notifications.json", "peerhub/mentions.json",
        "challenges/challenges_organised.json", "challenges/solutions.json",
        "challenges/comments.json", "reputation/votes.json", "reputation/reviews.json",
        "reputation/ledger.json", "reputation/flags.json", "marketplace/offers.json",
        "marketplace/orders.json", "marketplace/order_messages.json",
        "marketplace/payouts.json", "marketplace/earnings.json",
        "marketplace/contributions.json",
    }  # fmt: skip
    assert expected <= set(parts)
    for path, data in member.file_bytes.items():
        assert archive.read(path) == data
    # Every revision is there, with its files named where they are in the archive.
    solution = next(s for s in parts["challenges/solutions.json"] if len(s["revisions"]) == 2)
    assert [r["number"] for r in solution["revisions"]] == [1, 2]
    assert [f["in_archive"] for f in solution["revisions"][1]["files"]] == [
        f"files/solutions/{solution['id']}/r2/notes.txt",
        f"files/solutions/{solution['id']}/r2/spec.pdf",
    ]
    roles = {order["role"] for order in parts["marketplace/orders.json"]}
    assert roles == {"buyer", "seller"}
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["member"] == member.user.username
    assert {entry["file"] for entry in manifest["contents"]} == set(parts)
    assert "README.txt" in archive.namelist()


def test_the_archive_holds_nothing_of_another_member():
    a, b = full_member("a"), full_member("b")
    archive = archive_of(request_export(a.user))
    everything = every_byte(archive)
    for trace in (b.marker, b.user.username, b.other.username, "thirdb"):
        assert trace.encode() not in everything, trace
    profile = parts_of(archive)["peerhub/profile.json"]
    assert [row["id"] for row in profile] == [a.user.pk]


def test_the_archive_holds_no_secret():
    member = full_member("a")
    everything = every_byte(archive_of(request_export(member.user)))
    assert member.user.password.encode() not in everything
    for token in AccessToken.objects.filter(user=member.user):
        assert token.digest.encode() not in everything
    assert b"password" not in everything.lower().replace(b"change your password", b"")


def test_the_other_partys_words_hidden_by_moderation_stay_out():
    """Both parties' messages of one's own orders are in the export, as on the order page,
    except the other party's words and files that moderation hid."""
    buyer = UserFactory()
    order = pay(market_services.order_place(buyer=buyer, offer=OfferFactory(), brief="Brief"))
    seller = order.seller
    market_services.order_message_post(
        order=order, by=seller, body="Rude words", uploads=[upload("rude.pdf", PDF)]
    )
    market_services.order_message_post(order=order, by=seller, body="Kind words")
    market_services.order_message_post(order=order, by=buyer, body="My own hidden words")
    OrderMessage.objects.filter(body__in=["Rude words", "My own hidden words"]).update(
        hidden_at=timezone.now(), hidden_reason="Hidden: abusive."
    )

    archive = archive_of(request_export(buyer))
    everything = every_byte(archive)
    assert b"Rude words" not in everything
    assert not [name for name in archive.namelist() if name.endswith("rude.pdf")]
    messages = parts_of(archive)["marketplace/order_messages.json"]
    assert [(m["body"], m["hidden_reason"]) for m in messages] == [
        (None, "Hidden: abusive."),
        ("Kind words", ""),
        ("My own hidden words", "Hidden: abusive."),
    ]
    # The seller's own export holds their hidden words and file: they are theirs.
    seller_archive = archive_of(request_export(seller))
    assert b"Rude words" in every_byte(seller_archive)


def test_a_part_reads_a_bounded_number_of_queries_whatever_the_rows(
    django_assert_max_num_queries,
):
    member = full_member("a")
    export = exports.export_request(user=member.user)  # not built: no commit in the test
    with CaptureQueriesContext(transaction.get_connection()) as few:
        exports.export_build(export_id=export.pk)

    # Many more rows of every kind the member writes.
    user = member.user
    solutions = [make_solution(author=user, title=f"More {n}") for n in range(6)]
    for n, solution in enumerate(solutions):
        challenge_services.solution_revise(
            solution=solution,
            by=user,
            title=solution.title,
            body="Again",
            uploads=[upload(f"more{n}.txt", f"more {n}".encode())],
        )
        challenge_services.comment_create(author=user, target=solution, body=f"Note {n}")
        reputation_services.vote_cast(voter=UserFactory(), solution=solution, value=1)
    for _ in range(4):
        order = pay(market_services.order_place(buyer=user, offer=OfferFactory(), brief="b"))
        market_services.order_message_post(order=order, by=order.seller, body="Hi")
        market_services.order_message_post(order=order, by=user, body="Hello")

    DataExport.objects.filter(pk=export.pk).update(state=DataExport.State.REQUESTED)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert exports.export_build(export_id=export.pk) is True
    assert len(parts_of(archive_of(export))["challenges/solutions.json"]) > 6


# --- The task -------------------------------------------------------------------------------


def test_the_task_run_twice_makes_one_archive_and_one_email():
    user = UserFactory()
    export = request_export(user)
    assert tasks.build_data_export.apply(args=[export.pk]).get() is False
    assert stored_archives() == [exports.archive_name(export)]
    assert len(mail.outbox) == 1


def test_a_build_under_way_is_left_to_its_run_until_its_lease_is_over():
    user = UserFactory()
    export = exports.export_request(user=user)
    started = timezone.now()
    DataExport.objects.filter(pk=export.pk).update(
        state=DataExport.State.BUILDING, started_at=started
    )
    assert exports.export_build(export_id=export.pk) is False  # another run is building it
    # That run was killed: once its lease is over a new run builds it, under the same name.
    later = started + outbox.lease() + timedelta(seconds=1)
    assert exports.export_build(export_id=export.pk, now=later) is True
    exports.export_build(export_id=export.pk, now=later + outbox.lease() * 2)
    assert stored_archives() == [exports.archive_name(export)]


def test_a_failed_run_hands_the_export_back_to_its_retry(monkeypatch):
    user = UserFactory()
    export = exports.export_request(user=user)
    calls = []
    write = exports._write_archive

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("storage blinked")
        return write(*args, **kwargs)

    monkeypatch.setattr(exports, "_write_archive", flaky)
    with pytest.raises(Retry):
        tasks.build_data_export.apply(args=[export.pk], throw=True)
    export.refresh_from_db()
    assert export.state == DataExport.State.REQUESTED
    assert tasks.build_data_export.apply(args=[export.pk], retries=1).get() is True


def test_progress_rises_between_parts_and_reaches_100(monkeypatch):
    seen = []
    progress = exports._progress

    def record(export_id, percent):
        seen.append(percent)
        progress(export_id, percent)

    monkeypatch.setattr(exports, "_progress", record)
    export = request_export(full_member("a").user)
    assert len(seen) > 10
    assert seen == sorted(seen) and seen[-1] < 100
    assert export.progress == 100


def test_the_member_is_emailed_a_link_that_expires(settings):
    user = UserFactory()
    export = request_export(user)
    [message] = mail.outbox
    assert message.to == [user.email]
    link = settings.SITE_URL.rstrip("/") + export.get_download_url()
    assert link in message.body and link in message.alternatives[0][0]
    assert export.expires_at - export.finished_at == timedelta(days=7)
    assert exports.export_email_send(export_id=export.pk) is False  # once
    assert len(mail.outbox) == 1


def test_a_rolled_back_request_promises_nothing():
    user = UserFactory()
    with after_commit(), pytest.raises(RuntimeError), transaction.atomic():
        exports.export_request(user=user)
        raise RuntimeError
    assert not DataExport.objects.exists() and not OutboxTask.objects.exists()
    assert mail.outbox == []


def test_a_build_that_keeps_failing_is_marked_failed_and_may_be_asked_again(monkeypatch):
    user = UserFactory()
    export = exports.export_request(user=user)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(exports, "_write_archive", broken)
    result = tasks.build_data_export.apply(
        args=[export.pk], retries=tasks.build_data_export.max_retries, throw=False
    )
    assert isinstance(result.result, OSError)
    export.refresh_from_db()
    assert export.state == DataExport.State.FAILED and "disk full" in export.error
    assert stored_archives() == []
    monkeypatch.undo()
    assert request_export(user).state == DataExport.State.READY  # failed ones do not count


# --- Rules ----------------------------------------------------------------------------------


def test_one_export_in_flight_per_member():
    user = UserFactory()
    exports.export_request(user=user)  # not built: nothing commits in the test
    with pytest.raises(Conflict) as refused:
        exports.export_request(user=user)
    assert refused.value.code == "export_in_flight" and refused.value.status_code == 409
    assert DataExport.objects.count() == 1


def test_the_database_holds_one_export_in_flight_per_member():
    user = UserFactory()
    DataExport.objects.create(user=user, token="a")
    with pytest.raises(IntegrityError), transaction.atomic():
        DataExport.objects.create(user=user, token="b", state=DataExport.State.BUILDING)
    DataExport.objects.create(user=user, token="c", state=DataExport.State.FAILED)


def test_one_export_per_day():
    user = UserFactory()
    first = request_export(user)
    with pytest.raises(RateLimited) as refused:
        exports.export_request(user=user)
    assert refused.value.status_code == 429 and "24 hours" in refused.value.message
    later = first.created_at + timedelta(hours=24, seconds=1)
    assert request_export(user, now=later).pk != first.pk


# --- The sweep ------------------------------------------------------------------------------


def test_the_sweep_deletes_expired_archives_only():
    old, fresh = ready_export(), ready_export()
    DataExport.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert exports.exports_sweep() == 1
    old.refresh_from_db()
    assert old.state == DataExport.State.EXPIRED and old.file_name == ""
    assert stored_archives() == [fresh.file_name]
    assert exports.exports_sweep() == 0


def test_the_sweep_fails_exports_stuck_unbuilt():
    user = UserFactory()
    stuck = exports.export_request(user=user, now=timezone.now() - timedelta(hours=7))
    exports.exports_sweep()
    stuck.refresh_from_db()
    assert stuck.state == DataExport.State.FAILED


def test_the_sweep_is_on_the_beat_schedule(settings):
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "peerhub.tasks.sweep_data_exports" in tasks_scheduled


# --- The page and the download --------------------------------------------------------------


def test_the_page_asks_for_an_export_and_shows_its_link(client):
    user = UserFactory()
    client.force_login(user)
    page = client.get(reverse("data-settings"))
    assert page.status_code == 200
    assert b"Request an export" in page.content
    assert reverse("data-settings").encode() in client.get(reverse("access-tokens")).content
    with after_commit():
        response = client.post(reverse("data-settings"))
    assert response.status_code == 302
    export = DataExport.objects.get(user=user)
    page = client.get(reverse("data-settings"))
    assert export.get_download_url().encode() in page.content
    assert b'hx-trigger="every 3s"' not in page.content  # nothing to poll for
    again = client.post(reverse("data-settings"), follow=True)
    assert b"one export every 24 hours" in again.content


def test_the_list_polls_while_an_export_is_built(client):
    user = UserFactory()
    client.force_login(user)
    exports.export_request(user=user)  # not built
    fragment = client.get(reverse("data-settings"), headers={"HX-Request": "true"})
    assert b'hx-trigger="every 3s"' in fragment.content and b"<progress" in fragment.content
    assert b"<html" not in fragment.content


def test_the_page_reads_a_bounded_number_of_queries(client, django_assert_max_num_queries):
    user = UserFactory()
    for days in range(5, 0, -1):
        request_export(user, now=timezone.now() - timedelta(days=days))
    client.force_login(user)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("data-settings")).status_code == 200


def test_the_owner_downloads_the_archive_as_an_attachment(client):
    export = ready_export()
    client.force_login(export.user)
    response = client.get(export.get_download_url())
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content)[:2] == b"PK"


def test_another_member_cannot_download_it(client):
    export = ready_export()
    client.force_login(UserFactory())
    assert client.get(export.get_download_url()).status_code == 404


def test_a_visitor_is_asked_to_log_in(client):
    export = ready_export()
    response = client.get(export.get_download_url())
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_an_expired_link_is_gone(client):
    export = ready_export()
    client.force_login(export.user)
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now())
    response = client.get(export.get_download_url())
    assert response.status_code == 410 and b"has expired" in response.content
    exports.exports_sweep()
    assert client.get(export.get_download_url()).status_code == 410


def test_a_wrong_token_finds_nothing(client):
    export = ready_export()
    client.force_login(export.user)
    url = reverse("data-export-download", kwargs={"token": "x" * 43})
    assert client.get(url).status_code == 404
