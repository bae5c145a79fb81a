"""Premium organisers export a challenge's solutions, scores and reviews as CSV or JSON."""

import csv
import io

import pytest

from marketplace import services
from reputation import services as reputation_services
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
