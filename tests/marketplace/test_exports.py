"""Premium organisers export a challenge's solutions, scores and reviews as CSV or JSON."""

import csv
import io
import json
import zipfile

import pytest

from challenges.models import Challenge
from challenges.services.moderation import revision_set_moderation_hidden
from marketplace import services
from reputation import services as reputation_services
from tests.challenges.test_files import CSV, png, upload
from tests.factories import ChallengeFactory, UserFactory, make_organiser, make_solution

pytestmark = pytest.mark.django_db


def premium(user):
    payment = services.subscription_start(user=user, interval="monthly")
    services.sandbox_answer(payment=payment, by=user, outcome="succeed")
    return user


@pytest.fixture
def challenge():
    challenge = ChallengeFactory(organisers=[make_organiser()])
    solution = make_solution(challenge, title="=HYPERLINK(evil)")
    make_solution(challenge, title="Second")
    reputation_services.vote_cast(voter=UserFactory(), solution=solution, value=1)
    return challenge


def test_a_free_organiser_cannot_export(client, challenge):
    client.force_login(challenge.organisers.get())
    response = client.get(f"/premium/export/{challenge.slug}.csv")
    assert response.status_code == 302


def test_a_premium_member_who_does_not_organise_cannot_export(client, challenge):
    client.force_login(premium(UserFactory()))
    assert client.get(f"/premium/export/{challenge.slug}.json").status_code == 302


def test_a_premium_organiser_exports_csv_and_json(client, challenge):
    organiser = premium(challenge.organisers.get())
    client.force_login(organiser)
    data = client.get(f"/premium/export/{challenge.slug}.json").json()
    assert [s["vote_score"] for s in data["solutions"]] == [1, 0]
    response = client.get(f"/premium/export/{challenge.slug}.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows[0]["title"] == "'=HYPERLINK(evil)"  # no formula in a spreadsheet
    assert rows[1]["title"] == "Second"
    assert b"Export your challenges" in client.get("/premium/").content


# --- The zip with the files ----------------------------------------------------------------


def _post(challenge, author, *uploads, publish=True):
    from challenges import services as challenge_services

    return challenge_services.solution_create(
        challenge=challenge,
        author=author,
        title="With files",
        body="b",
        uploads=list(uploads),
        publish=publish,
    )


def _zip(client, challenge):
    response = client.get(f"/premium/export/{challenge.slug}.zip")
    assert response.status_code == 200, response
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment")
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_zip_export_holds_the_visible_revisions_files_each_blob_once(client, challenge):
    from challenges import services as challenge_services

    author, forker = UserFactory(), UserFactory()
    solution = _post(challenge, author, upload("gauge.png", png()), upload("rain.csv", CSV))
    challenge_services.solution_revise(
        solution=solution,
        by=author,
        title="With files",
        body="v2",
        uploads=[upload("n.txt", b"x\n")],
    )
    challenge_services.solution_fork(source=solution, by=forker)  # shares every blob
    client.force_login(premium(challenge.organisers.get()))
    with _zip(client, challenge) as zipped:
        names = zipped.namelist()
        blobs = sorted(name for name in names if name.startswith("blobs/"))
        manifests = json.loads(zipped.read("manifests.json"))
        assert {"README.txt", "solutions.csv", "solutions.json", "manifests.json"} <= set(names)
        assert len(blobs) == len(set(blobs)) == 3  # png, csv, txt: once each
        ours = [row for row in manifests if row["solution_id"] == solution.pk]
        assert [row["revision"] for row in ours] == [1, 2]
        csv_entry = next(f for f in ours[0]["files"] if f["path"] == "rain.csv")
        assert zipped.read(f"blobs/{csv_entry['sha256']}") == CSV
        assert len(json.loads(zipped.read("solutions.json"))["solutions"]) == 4


def test_the_zip_export_leaks_no_file_of_a_draft_a_hidden_revision_or_another_challenge(
    client, challenge
):
    organiser = challenge.organisers.get()
    elsewhere = ChallengeFactory(
        organisers=[make_organiser()], visibility=Challenge.Visibility.PRIVATE
    )
    elsewhere_author = UserFactory()
    elsewhere.invited.add(elsewhere_author)
    _post(elsewhere, elsewhere_author, upload("secret.csv", b"a,b\n1,2\n3,4\n"))
    _post(challenge, UserFactory(), upload("draft.csv", b"c,d\n5,6\n7,8\n"), publish=False)
    hidden = _post(challenge, UserFactory(), upload("hidden.csv", b"e,f\n9,9\n8,8\n"))
    revision_set_moderation_hidden(hidden.current_revision, "Spam")
    shown = _post(challenge, UserFactory(), upload("shown.csv", CSV))
    client.force_login(premium(organiser))
    with _zip(client, challenge) as zipped:
        every_byte = b"".join(zipped.read(name) for name in zipped.namelist())
        manifests = json.loads(zipped.read("manifests.json"))
    assert [row["solution_id"] for row in manifests] == [shown.pk]
    for secret in (b"1,2", b"5,6", b"9,9"):
        assert secret not in every_byte
    assert CSV in every_byte


def test_only_premium_organisers_get_the_zip(client, challenge):
    client.force_login(challenge.organisers.get())
    assert client.get(f"/premium/export/{challenge.slug}.zip").status_code == 302
    client.force_login(premium(UserFactory()))
    assert client.get(f"/premium/export/{challenge.slug}.zip").status_code == 302


def test_the_export_files_read_three_queries_whatever_their_number(
    challenge, django_assert_num_queries
):
    from marketplace import exports

    for _ in range(3):
        _post(challenge, UserFactory(), upload("a.csv", CSV), upload("g.png", png()))
    organiser = premium(challenge.organisers.get())
    ids = list(challenge.solutions.values_list("pk", flat=True))
    with django_assert_num_queries(3):
        rows, blobs = exports.export_files(user=organiser, challenge=challenge, solution_ids=ids)
    assert len(blobs) == 2 and len(rows) == 3
