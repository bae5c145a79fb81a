"""The REST API twins of the challenges pages: every endpoint's happy path, who may see and do
what (404 for what a member may not see, 403 for what they may not do, 401 without credentials),
clean 400/409 answers for bad input, and query budgets that do not grow with the data."""

import json
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from challenges import services
from challenges.models import (
    Challenge,
    Comment,
    Revision,
    Solution,
    UpstreamProposal,
)
from tests.factories import (
    ChallengeFactory,
    UserFactory,
    ValueFactory,
    make_fork,
    make_organiser,
    make_premium_organiser,
    make_solution,
)
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

Status = Challenge.Status


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def make_revision(solution: Solution, body: str, *, title: str | None = None) -> Revision:
    return services.solution_revise(
        solution=solution, by=solution.author, title=title or solution.title, body=body
    )


def make_upstream(parent: Solution, *, forker=None, message="Better wording") -> UpstreamProposal:
    fork = make_fork(parent, forker or UserFactory(), changed=False)
    make_revision(fork, fork.current_revision.body + "\n\nA second paragraph.")
    return services.upstream_propose(fork=fork, by=fork.author, message=message)


def comment_on(target, author=None, body="Nice work.", parent=None) -> Comment:
    return services.comment_create(
        author=author or UserFactory(), target=target, body=body, parent=parent
    )


# --- API root --------------------------------------------------------------------------------


def test_api_root_links_the_challenges_endpoints(api_client, db):
    links = api_client.get("/api/").json()["links"]
    assert links["challenges"].endswith("/api/challenges/")
    assert links["challenge-proposals"].endswith("/api/challenge-proposals/")
    assert links["solutions"].endswith("/api/solutions/")
    assert links["upstream-proposals"].endswith("/api/upstream-proposals/")
    assert links["comments"].endswith("/api/comments/")


def test_unknown_api_paths_are_still_json_404s(api_client, db):
    assert_error(api_client.get("/api/solutions/not-a-number/"), 404, "not_found")
    assert_error(api_client.get("/api/nothing-here/"), 404, "not_found")


# --- Challenges ------------------------------------------------------------------------------


def test_challenge_list_shows_visible_challenges_paginated(api_client):
    public = ChallengeFactory(title="Clean water")
    ChallengeFactory(status=Status.DRAFT)
    ChallengeFactory(visibility=Challenge.Visibility.PRIVATE)

    body = api_client.get("/api/challenges/").json()
    assert body["count"] == 1
    [item] = body["results"]
    assert item["slug"] == public.slug
    assert item["title"] == "Clean water"
    assert item["url"].endswith(f"/api/challenges/{public.slug}/")
    assert [c["name"] for c in item["criteria"]] == ["Works", "Affordable"]
    assert item["organisers"][0]["username"] == public.created_by.username


def test_challenge_list_filters_by_status_tag_value_and_search(api_client):
    value = ValueFactory(slug="openness")
    tagged = ChallengeFactory(title="Solar lamps")
    tagged.tags.set(services.tags_from_names(["Energy"]))
    valued = ChallengeFactory(title="Open maps", status=Status.SELECTING)
    valued.values.add(value)

    def slugs(query):
        return [c["slug"] for c in results(api_client.get(f"/api/challenges/?{query}"))]

    assert slugs("tag=energy") == [tagged.slug]
    assert slugs("value=openness") == [valued.slug]
    assert slugs("status=selecting") == [valued.slug]
    assert slugs("search=lamps") == [tagged.slug]
    assert slugs("search=nothing-like-this") == []


def test_challenge_list_orderings(api_client):
    soon = ChallengeFactory(closes_at=timezone.now() + timedelta(days=2))
    later = ChallengeFactory(closes_at=timezone.now() + timedelta(days=9))
    popular = ChallengeFactory()
    make_solution(popular)
    make_solution(popular)

    closing = results(api_client.get("/api/challenges/?ordering=closing"))
    assert [c["slug"] for c in closing] == [soon.slug, later.slug]
    by_solutions = results(api_client.get("/api/challenges/?ordering=solutions"))
    assert by_solutions[0]["slug"] == popular.slug


@pytest.mark.parametrize(
    "query, field",
    [("status=pending", "status"), ("ordering=oldest", "ordering")],
)
def test_challenge_list_refuses_unknown_filter_values(api_client, db, query, field):
    error = assert_error(api_client.get(f"/api/challenges/?{query}"), 400, "invalid")
    assert field in error["fields"]


def test_organiser_frames_a_challenge_with_ordered_criteria_values_and_tags():
    organiser = make_premium_organiser()  # private challenges are a Premium feature
    ValueFactory(slug="care")
    ValueFactory(slug="openness")
    opens = timezone.now() + timedelta(days=1)
    response = client_for(organiser).post(
        "/api/challenges/",
        {
            "title": "Quiet streets",
            "summary": "Less traffic noise near schools.",
            "problem": "Cars are *loud*.",
            "context": "Children learn better in quiet.",
            "criteria": [
                {"name": "Measurable", "description": "dB before and after"},
                {"name": "Cheap"},
            ],
            "values": ["openness", "care"],
            "tags": ["Noise", "Cities"],
            "visibility": "private",
            "licence": "CC0",
            "opens_at": opens.isoformat(),
            "closes_at": (opens + timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["slug"] == "quiet-streets"
    assert body["status"] == "draft"
    assert body["visibility"] == "private"
    assert body["licence"] == "CC0"
    assert body["criteria"] == [
        {"name": "Measurable", "description": "dB before and after"},
        {"name": "Cheap", "description": ""},
    ]
    assert sorted(v["slug"] for v in body["values"]) == ["care", "openness"]
    assert sorted(t["slug"] for t in body["tags"]) == ["cities", "noise"]
    assert [o["username"] for o in body["organisers"]] == [organiser.username]
    challenge = Challenge.objects.get(slug="quiet-streets")
    assert list(challenge.criteria.values_list("position", "name")) == [
        (1, "Measurable"),
        (2, "Cheap"),
    ]


def test_organiser_may_choose_the_slug_once():
    client = client_for(make_organiser())
    data = {"title": "Quiet streets", "summary": "Less noise.", "slug": "quiet"}
    assert client.post("/api/challenges/", data).json()["slug"] == "quiet"
    assert_error(client.post("/api/challenges/", data), 400, "slug_taken")
    assert (
        "slug"
        in assert_error(client.post("/api/challenges/", {**data, "slug": "a b"}), 400)["fields"]
    )
    # Its address never changes afterwards: PATCH takes no slug.
    assert client.patch("/api/challenges/quiet/", {"slug": "other"}).json()["slug"] == "quiet"


def test_challenge_create_missing_fields_is_a_400_naming_them():
    response = client_for(make_organiser()).post("/api/challenges/", {})
    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == {"title", "summary"}


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"values": ["no-such-value"]}, "values"),
        ({"visibility": "secret"}, "visibility"),
        ({"criteria": [{"description": "no name"}]}, "criteria"),
        ({"closes_at": "next tuesday"}, "closes_at"),
        ({"title": "x" * 161}, "title"),
    ],
)
def test_challenge_create_bad_fields_are_400s(payload, field):
    data = {"title": "Quiet streets", "summary": "Less noise.", **payload}
    response = client_for(make_organiser()).post("/api/challenges/", data)
    assert field in assert_error(response, 400, "invalid")["fields"]


def test_challenge_that_closes_before_it_opens_is_a_400():
    now = timezone.now()
    response = client_for(make_organiser()).post(
        "/api/challenges/",
        {
            "title": "Backwards",
            "summary": "Time runs the other way.",
            "opens_at": now.isoformat(),
            "closes_at": (now - timedelta(days=1)).isoformat(),
        },
    )
    assert_error(response, 400, "invalid_dates")
    assert not Challenge.objects.filter(title="Backwards").exists()


def test_challenge_retrieve_by_slug(api_client):
    challenge = ChallengeFactory(title="Clean water", licence="CC BY 4.0")
    body = api_client.get(f"/api/challenges/{challenge.slug}/").json()
    assert body["title"] == "Clean water"
    assert body["licence"] == "CC BY 4.0"
    assert body["html_url"] == challenge.get_absolute_url()
    assert_error(api_client.get("/api/challenges/no-such-challenge/"), 404, "not_found")


def test_organiser_edits_a_draft_challenge_including_its_criteria():
    organiser = make_organiser()
    challenge = ChallengeFactory(status=Status.DRAFT, organisers=[organiser])
    response = client_for(organiser).patch(
        f"/api/challenges/{challenge.slug}/",
        {"summary": "A sharper summary.", "criteria": [{"name": "Fast"}], "tags": ["Speed"]},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["summary"] == "A sharper summary."
    assert body["title"] == challenge.title  # untouched
    assert [c["name"] for c in body["criteria"]] == ["Fast"]
    assert [t["name"] for t in body["tags"]] == ["Speed"]


def test_criteria_of_an_open_challenge_cannot_change():
    organiser = make_organiser()
    challenge = ChallengeFactory(organisers=[organiser])
    response = client_for(organiser).patch(
        f"/api/challenges/{challenge.slug}/", {"criteria": [{"name": "Something else"}]}
    )
    assert_error(response, 409, "conflict")


def test_challenge_put_is_not_offered():
    organiser = make_organiser()
    challenge = ChallengeFactory(organisers=[organiser])
    response = client_for(organiser).put(f"/api/challenges/{challenge.slug}/", {})
    assert_error(response, 405)


def test_organiser_moves_a_challenge_along_its_lifecycle():
    organiser = make_organiser()
    challenge = ChallengeFactory(status=Status.DRAFT, organisers=[organiser])
    client = client_for(organiser)
    url = f"/api/challenges/{challenge.slug}/transition/"
    for to in ["open", "selecting", "closed", "archived"]:
        response = client.post(url, {"to": to})
        assert response.status_code == 200, response.content
        assert response.json()["status"] == to


def test_transition_that_skips_a_step_is_a_409():
    organiser = make_organiser()
    challenge = ChallengeFactory(organisers=[organiser])
    response = client_for(organiser).post(
        f"/api/challenges/{challenge.slug}/transition/", {"to": "archived"}
    )
    assert_error(response, 409, "invalid_transition")
    challenge.refresh_from_db()
    assert challenge.status == Status.OPEN


@pytest.mark.parametrize("payload", [{"to": "published"}, {"to": "draft"}, {}])
def test_transition_to_an_unknown_status_is_a_400(payload):
    organiser = make_organiser()
    challenge = ChallengeFactory(organisers=[organiser])
    response = client_for(organiser).post(f"/api/challenges/{challenge.slug}/transition/", payload)
    assert "to" in assert_error(response, 400, "invalid")["fields"]


def test_opening_a_challenge_without_criteria_is_a_clean_400():
    organiser = make_organiser()
    challenge = ChallengeFactory(status=Status.DRAFT, organisers=[organiser], criteria=[])
    response = client_for(organiser).post(
        f"/api/challenges/{challenge.slug}/transition/", {"to": "open"}
    )
    assert_error(response, 400, "no_criteria")


# --- Challenge proposals ---------------------------------------------------------------------


def test_member_proposes_a_challenge(member_api_client):
    response = member_api_client.post(
        "/api/challenge-proposals/",
        {"title": "Bike lanes", "summary": "Safer cycling.", "problem": "Too many accidents."},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "open"
    assert body["proposer"]["username"] == member_api_client.user.username
    assert body["backing_count"] == 0
    assert body["backed_by_me"] is False
    assert body["challenge"] is None


def test_proposal_missing_fields_is_a_400(member_api_client):
    error = assert_error(member_api_client.post("/api/challenge-proposals/", {}), 400)
    assert set(error["fields"]) == {"title", "summary", "problem"}


def test_proposal_list_filters_and_orders(api_client):
    quiet = services.proposal_create(
        proposer=UserFactory(), title="Quiet", summary="s", problem="p"
    )
    backed = services.proposal_create(
        proposer=UserFactory(), title="Backed", summary="s", problem="p"
    )
    services.proposal_back(proposal=backed, user=UserFactory())
    declined = services.proposal_create(
        proposer=UserFactory(), title="Declined", summary="s", problem="p"
    )
    services.proposal_decline(proposal=declined, by=make_organiser(), reason="Out of scope.")

    everything = results(api_client.get("/api/challenge-proposals/?ordering=backed"))
    assert everything[0]["id"] == backed.pk
    assert {p["id"] for p in everything} == {quiet.pk, backed.pk, declined.pk}
    only_open = results(api_client.get("/api/challenge-proposals/?status=open&ordering=newest"))
    assert [p["id"] for p in only_open] == [backed.pk, quiet.pk]
    assert_error(api_client.get("/api/challenge-proposals/?status=maybe"), 400)


def test_back_and_unback_a_proposal(member_api_client):
    proposal = services.proposal_create(
        proposer=UserFactory(), title="Bike lanes", summary="s", problem="p"
    )
    url = f"/api/challenge-proposals/{proposal.pk}/back/"
    body = member_api_client.post(url).json()
    assert (body["backing_count"], body["backed_by_me"]) == (1, True)
    body = member_api_client.post(url).json()  # backing twice changes nothing
    assert body["backing_count"] == 1
    body = member_api_client.delete(url).json()
    assert (body["backing_count"], body["backed_by_me"]) == (0, False)
    assert member_api_client.get(f"/api/challenge-proposals/{proposal.pk}/").status_code == 200


def test_backing_your_own_proposal_is_a_400(member_api_client):
    proposal = services.proposal_create(
        proposer=member_api_client.user, title="Mine", summary="s", problem="p"
    )
    response = member_api_client.post(f"/api/challenge-proposals/{proposal.pk}/back/")
    assert_error(response, 400, "own_proposal")


def test_organiser_adopts_a_proposal_into_a_draft_challenge():
    proposer = UserFactory()
    proposal = services.proposal_create(
        proposer=proposer, title="Bike lanes", summary="Safer cycling.", problem="Accidents."
    )
    organiser = make_organiser()
    response = client_for(organiser).post(f"/api/challenge-proposals/{proposal.pk}/adopt/")
    assert response.status_code == 201, response.content
    challenge = response.json()
    assert challenge["status"] == "draft"
    assert challenge["title"] == "Bike lanes"
    assert challenge["proposal"] == proposal.pk

    # The proposal links its challenge only for those who may see it: a draft, so not yet.
    assert (
        client_for(organiser).get(f"/api/challenge-proposals/{proposal.pk}/").json()["challenge"]
        == challenge["slug"]
    )
    assert (
        client_for(proposer).get(f"/api/challenge-proposals/{proposal.pk}/").json()["challenge"]
        is None
    )
    again = client_for(organiser).post(f"/api/challenge-proposals/{proposal.pk}/adopt/")
    assert_error(again, 409)


def test_organiser_declines_a_proposal_with_a_reason():
    proposal = services.proposal_create(
        proposer=UserFactory(), title="Moon base", summary="s", problem="p"
    )
    client = client_for(make_organiser())
    url = f"/api/challenge-proposals/{proposal.pk}/decline/"
    assert "reason" in assert_error(client.post(url, {"reason": "  "}), 400)["fields"]
    body = client.post(url, {"reason": "Out of scope."}).json()
    assert (body["status"], body["decline_reason"]) == ("declined", "Out of scope.")


def test_members_cannot_adopt_or_decline(member_api_client):
    proposal = services.proposal_create(
        proposer=UserFactory(), title="Moon base", summary="s", problem="p"
    )
    base = f"/api/challenge-proposals/{proposal.pk}"
    assert_error(member_api_client.post(f"{base}/adopt/"), 403, "forbidden")
    assert_error(member_api_client.post(f"{base}/decline/", {"reason": "No."}), 403)
    assert_error(member_api_client.get("/api/challenge-proposals/999999/"), 404)


# --- Solutions -------------------------------------------------------------------------------


def test_member_posts_a_solution(member_api_client):
    challenge = ChallengeFactory(licence="CC BY 4.0")
    response = member_api_client.post(
        "/api/solutions/",
        {"challenge": challenge.slug, "title": "Rain barrels", "body": "Collect *rain*."},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    solution = Solution.objects.get(pk=body["id"])
    assert body["status"] == "published"
    assert body["challenge"] == challenge.slug
    assert body["author"]["username"] == member_api_client.user.username
    assert body["body"] == "Collect *rain*."
    assert body["revision"] == 1
    assert (body["parent"], body["root"], body["generation"]) == (None, solution.pk, 0)
    assert body["forked_from_revision"] is None
    assert body["licence"] == "CC BY 4.0"
    assert body["url"].endswith(f"/api/solutions/{solution.pk}/")


def test_a_draft_solution_is_seen_by_its_author_only_until_published(member_api_client):
    challenge = ChallengeFactory()
    response = member_api_client.post(
        "/api/solutions/",
        {
            "challenge": challenge.slug,
            "title": "Draft",
            "body": "Work in progress",
            "publish": False,
        },
    )
    assert response.json()["status"] == "draft"
    url = f"/api/solutions/{response.json()['id']}/"
    assert member_api_client.get(url).status_code == 200
    assert_error(client_for(UserFactory()).get(url), 404)
    assert_error(APIClient().get(url), 404)

    published = member_api_client.post(url + "publish/")
    assert published.json()["status"] == "published"
    assert APIClient().get(url).status_code == 200
    assert_error(member_api_client.post(url + "publish/"), 409, "not_draft")


@pytest.mark.parametrize(
    "payload, fields",
    [
        ({}, {"challenge", "title", "body"}),
        ({"title": "t", "body": "b", "challenge": "no-such-challenge"}, {"challenge"}),
        ({"title": "", "body": "b"}, {"title"}),
        ({"title": "t", "body": "b", "publish": "perhaps"}, {"publish"}),
    ],
)
def test_solution_create_bad_input_is_a_400(member_api_client, payload, fields):
    challenge = ChallengeFactory()
    data = {**payload}
    if "title" in payload and "challenge" not in payload:
        data["challenge"] = challenge.slug
    error = assert_error(member_api_client.post("/api/solutions/", data), 400, "invalid")
    assert fields <= set(error["fields"])


def test_a_blank_body_is_refused_by_the_rules(member_api_client):
    challenge = ChallengeFactory()
    response = member_api_client.post(
        "/api/solutions/", {"challenge": challenge.slug, "title": "t", "body": "   \n "}
    )
    assert_error(response, 400, "body_required")


def test_posting_to_a_closed_challenge_is_a_409(member_api_client):
    challenge = ChallengeFactory(status=Status.CLOSED)
    response = member_api_client.post(
        "/api/solutions/", {"challenge": challenge.slug, "title": "Late", "body": "Too late."}
    )
    assert_error(response, 409, "challenge_closed")
    assert not Solution.objects.exists()


def test_posting_to_a_challenge_you_may_not_see_names_no_such_challenge(member_api_client):
    private = ChallengeFactory(visibility=Challenge.Visibility.PRIVATE)
    response = member_api_client.post(
        "/api/solutions/", {"challenge": private.slug, "title": "t", "body": "b"}
    )
    missing = member_api_client.post(
        "/api/solutions/", {"challenge": "no-such-slug", "title": "t", "body": "b"}
    )
    error = assert_error(response, 400, "invalid")
    assert "challenge" in error["fields"]
    # The same answer as for a slug that does not exist: nothing leaks.
    assert error["fields"]["challenge"][0].replace(private.slug, "X") == assert_error(missing, 400)[
        "fields"
    ]["challenge"][0].replace("no-such-slug", "X")


def test_solution_list_filters_and_orders(api_client):
    challenge, other = ChallengeFactory(), ChallengeFactory()
    alice = UserFactory(username="alice")
    first = make_solution(challenge, alice, title="First")
    second = make_solution(challenge, title="Second")
    elsewhere = make_solution(other, alice, title="Elsewhere")
    fork = make_fork(second)
    make_fork(second)
    make_solution(challenge, publish=False)  # someone's draft: never listed for others
    services.solution_withdraw(solution=first, by=alice)

    def ids(query):
        return [s["id"] for s in results(api_client.get(f"/api/solutions/?{query}"))]

    assert set(ids(f"challenge={challenge.slug}")) == {first.pk, second.pk} | {
        s.pk for s in Solution.objects.filter(parent=second)
    }
    assert set(ids("author=alice")) == {first.pk, elsewhere.pk}
    assert ids("status=withdrawn") == [first.pk]
    assert set(ids(f"root={second.pk}")) == {second.pk, *second.forks.values_list("pk", flat=True)}
    assert ids("ordering=forked")[0] == second.pk
    assert fork.pk in ids("ordering=newest")
    for bad in ["status=lost", "ordering=best", "root=abc", "root=1.5"]:
        assert_error(api_client.get(f"/api/solutions/?{bad}"), 400, "invalid")


def test_fork_records_its_lineage(member_api_client):
    source = make_solution(body="Line one\nLine two")
    make_revision(source, "Line one\nLine two, better")
    response = member_api_client.post(f"/api/solutions/{source.pk}/fork/", {"title": "My take"})
    assert response.status_code == 201, response.content
    fork = response.json()
    assert fork["title"] == "My take"
    assert fork["author"]["username"] == member_api_client.user.username
    assert (fork["parent"], fork["root"], fork["generation"]) == (source.pk, source.pk, 1)
    assert fork["forked_from_revision"] == 2
    assert fork["body"] == "Line one\nLine two, better"
    assert fork["unchanged_fork"] is True  # a verbatim copy until its author edits it
    source_body = member_api_client.get(f"/api/solutions/{source.pk}/").json()
    assert (source_body["fork_count"], source_body["descendant_count"]) == (1, 1)
    assert source_body["unchanged_fork"] is False


def test_fork_into_another_open_challenge(member_api_client):
    source = make_solution()
    target = ChallengeFactory()
    response = member_api_client.post(
        f"/api/solutions/{source.pk}/fork/", {"challenge": target.slug}
    )
    assert response.status_code == 201, response.content
    assert response.json()["challenge"] == target.slug
    assert response.json()["title"] == source.title


def test_forking_your_own_draft_is_a_409(member_api_client):
    draft = make_solution(author=member_api_client.user, publish=False)
    response = member_api_client.post(f"/api/solutions/{draft.pk}/fork/")
    assert_error(response, 409, "not_published")


def test_forking_into_a_closed_challenge_is_a_409(member_api_client):
    source = make_solution()
    closed = ChallengeFactory(status=Status.CLOSED)
    response = member_api_client.post(
        f"/api/solutions/{source.pk}/fork/", {"challenge": closed.slug}
    )
    assert_error(response, 409, "challenge_closed")


def test_a_forks_parent_in_a_challenge_you_may_not_see_is_shown_as_null():
    organiser = make_organiser()
    private = ChallengeFactory(visibility=Challenge.Visibility.PRIVATE, organisers=[organiser])
    secret = make_solution(private, organiser)
    public_fork = make_fork(secret, organiser, challenge=ChallengeFactory())

    outsider = client_for(UserFactory())
    body = outsider.get(f"/api/solutions/{public_fork.pk}/").json()
    assert (body["parent"], body["root"]) == (None, None)
    [listed] = results(outsider.get(f"/api/solutions/?author={organiser.username}"))
    assert (listed["parent"], listed["root"]) == (None, None)
    mine = client_for(organiser).get(f"/api/solutions/{public_fork.pk}/").json()
    assert (mine["parent"], mine["root"]) == (secret.pk, secret.pk)


def test_author_revises_a_solution(member_api_client):
    solution = make_solution(author=member_api_client.user, title="Old", body="Old body")
    url = f"/api/solutions/{solution.pk}/"
    response = member_api_client.patch(url, {"body": "New body", "message": "Clearer"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["body"], body["revision"]) == ("Old", "New body", 2)
    assert body["revision_message"] == "Clearer"
    assert member_api_client.patch(url, {"title": "New"}).json()["revision"] == 3
    assert_error(member_api_client.patch(url, {"title": "New"}), 400, "unchanged")
    assert Revision.objects.filter(solution=solution).count() == 3


def test_revisions_are_listed_newest_first_and_readable_one_by_one(api_client):
    solution = make_solution(body="One")
    make_revision(solution, "Two")
    body = api_client.get(f"/api/solutions/{solution.pk}/revisions/").json()
    assert body["count"] == 2
    assert [r["number"] for r in body["results"]] == [2, 1]
    assert body["results"][0]["url"].endswith(f"/api/solutions/{solution.pk}/revisions/2/")
    assert "body" not in body["results"][0]
    first = api_client.get(f"/api/solutions/{solution.pk}/revisions/1/").json()
    assert (first["number"], first["body"]) == (1, "One")
    assert_error(api_client.get(f"/api/solutions/{solution.pk}/revisions/3/"), 404)
    assert_error(api_client.get(f"/api/solutions/{solution.pk}/revisions/x/"), 404)


def test_accepted_upstream_revision_credits_the_fork(api_client):
    proposal = make_upstream(make_solution())
    services.upstream_accept(proposal=proposal, by=proposal.parent.author)
    [latest, _] = results(api_client.get(f"/api/solutions/{proposal.parent_id}/revisions/"))
    assert latest["credited_solution"] == proposal.fork_id


def test_diff_between_revisions(api_client):
    solution = make_solution(body="alpha\nbeta\ngamma")
    make_revision(solution, "alpha\nbeta two\ngamma")
    make_revision(solution, "alpha\nbeta two\ngamma\ndelta")
    url = f"/api/solutions/{solution.pk}/diff/"

    latest = api_client.get(url).json()  # default: the previous revision to the current one
    assert (latest["from"], latest["to"]) == (2, 3)
    assert [row["kind"] for row in latest["rows"]] == ["equal", "equal", "equal", "insert"]
    assert latest["rows"][-1]["new"] == [{"text": "delta", "changed": True}]
    assert latest["stats"] == {"added": 1, "removed": 0}

    first = api_client.get(url + "?from=1&to=2").json()
    replace = next(row for row in first["rows"] if row["kind"] == "replace")
    assert (replace["old_number"], replace["new_number"]) == (2, 2)
    assert replace["new"] == [{"text": "beta", "changed": False}, {"text": " two", "changed": True}]
    assert {"text": "beta", "changed": False} in replace["old"]

    only_to = api_client.get(url + "?to=2").json()
    assert (only_to["from"], only_to["to"]) == (1, 2)


def test_diff_of_a_single_revision_is_empty(api_client):
    solution = make_solution()
    body = api_client.get(f"/api/solutions/{solution.pk}/diff/").json()
    assert (body["from"], body["to"], body["rows"]) == (1, 1, [])


@pytest.mark.parametrize("query", ["from=abc", "from=0", "to=-1", "to=1.5", "from=1e3"])
def test_diff_with_invalid_numbers_is_a_400(api_client, query):
    solution = make_solution()
    response = api_client.get(f"/api/solutions/{solution.pk}/diff/?{query}")
    assert_error(response, 400, "invalid")


@pytest.mark.parametrize(
    "query", ["from=5", "to=7", "from=1&to=3", "from=99999999999", "to=" + "9" * 30]
)
def test_diff_with_a_missing_revision_is_a_404(api_client, query):
    solution = make_solution()
    make_revision(solution, "Second")
    assert_error(api_client.get(f"/api/solutions/{solution.pk}/diff/?{query}"), 404, "not_found")


def test_lineage_is_the_whole_tree_with_ancestors(api_client):
    root = make_solution(title="Root")
    child = make_fork(root)
    grandchild = make_fork(child)
    sibling = make_fork(root)

    body = api_client.get(f"/api/solutions/{grandchild.pk}/lineage/").json()
    assert (body["id"], body["title"], body["generation"]) == (root.pk, "Root", 0)
    assert body["current"] == grandchild.pk
    assert body["ancestors"] == [root.pk, child.pk]
    assert body["size"] == 4
    assert {c["id"] for c in body["children"]} == {child.pk, sibling.pk}
    [child_node] = [c for c in body["children"] if c["id"] == child.pk]
    assert [g["id"] for g in child_node["children"]] == [grandchild.pk]


def test_lineage_anonymises_solutions_in_challenges_you_may_not_see():
    organiser = make_organiser()
    private = ChallengeFactory(visibility=Challenge.Visibility.PRIVATE, organisers=[organiser])
    root = make_solution()
    hidden = make_fork(root, organiser, challenge=private)
    body = client_for(UserFactory()).get(f"/api/solutions/{root.pk}/lineage/").json()
    [node] = body["children"]
    assert node == {
        "id": None,
        "generation": 1,
        "title": None,
        "author": None,
        "status": "private",
        "challenge": None,
        "url": None,
        "children": [],
    }
    insider = client_for(organiser).get(f"/api/solutions/{root.pk}/lineage/").json()
    assert insider["children"][0]["id"] == hidden.pk
    # Back in a public challenge, a fork of the hidden one lists it among its ancestors as null.
    grandchild = make_fork(hidden, organiser, challenge=ChallengeFactory())
    body = client_for(UserFactory()).get(f"/api/solutions/{grandchild.pk}/lineage/").json()
    assert body["ancestors"] == [root.pk, None]
    assert body["current"] == grandchild.pk


def test_author_withdraws_a_solution(member_api_client):
    solution = make_solution(author=member_api_client.user)
    response = member_api_client.post(f"/api/solutions/{solution.pk}/withdraw/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "withdrawn"
    assert_error(member_api_client.post(f"/api/solutions/{solution.pk}/withdraw/"), 403)
    # It keeps its place: still readable, but no longer forkable.
    assert APIClient().get(f"/api/solutions/{solution.pk}/").status_code == 200
    fork = client_for(UserFactory()).post(f"/api/solutions/{solution.pk}/fork/")
    assert_error(fork, 409, "not_published")


# --- Upstream proposals ----------------------------------------------------------------------


def test_fork_author_offers_changes_upstream():
    parent = make_solution(body="Original text")
    fork = make_fork(parent, changed=False)
    make_revision(fork, "Original text, improved")
    client = client_for(fork.author)
    response = client.post(
        "/api/upstream-proposals/", {"fork": fork.pk, "message": "Clearer ending."}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["fork"], body["parent"], body["status"]) == (fork.pk, parent.pk, "open")
    assert (body["base_revision"], body["fork_revision"]) == (1, 2)
    assert body["resulting_revision"] is None
    kinds = [row["kind"] for row in body["diff"]]
    assert "replace" in kinds
    assert body["stats"]["added"] >= 1
    again = client.post("/api/upstream-proposals/", {"fork": fork.pk, "message": "Again"})
    assert_error(again, 409, "already_open")


@pytest.mark.parametrize(
    "payload, status, field",
    [
        ({}, 400, "fork"),
        ({"fork": 999999, "message": "m"}, 400, "fork"),
        ({"fork": "abc", "message": "m"}, 400, "fork"),
    ],
)
def test_upstream_create_bad_input(member_api_client, payload, status, field):
    assert (
        field
        in assert_error(member_api_client.post("/api/upstream-proposals/", payload), status)[
            "fields"
        ]
    )


def test_a_fork_without_changes_has_nothing_to_offer():
    fork = make_fork(make_solution(), changed=False)
    response = client_for(fork.author).post(
        "/api/upstream-proposals/", {"fork": fork.pk, "message": "Take this"}
    )
    assert_error(response, 400, "no_changes")


def test_parent_author_accepts_an_upstream_proposal():
    proposal = make_upstream(make_solution())
    client = client_for(proposal.parent.author)
    response = client.post(f"/api/upstream-proposals/{proposal.pk}/accept/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    assert response.json()["resulting_revision"] == 2
    parent = client.get(f"/api/solutions/{proposal.parent_id}/").json()
    assert parent["body"] == proposal.fork_revision.body
    again = client.post(f"/api/upstream-proposals/{proposal.pk}/accept/")
    assert_error(again, 409, "decided")


def test_parent_author_declines_an_upstream_proposal_with_a_reason():
    proposal = make_upstream(make_solution())
    client = client_for(proposal.parent.author)
    url = f"/api/upstream-proposals/{proposal.pk}/decline/"
    assert "reason" in assert_error(client.post(url, {}), 400)["fields"]
    body = client.post(url, {"reason": "Off topic."}).json()
    assert (body["status"], body["decline_reason"]) == ("declined", "Off topic.")


def test_fork_author_withdraws_an_upstream_proposal():
    proposal = make_upstream(make_solution())
    url = f"/api/upstream-proposals/{proposal.pk}/withdraw/"
    assert_error(client_for(proposal.parent.author).post(url), 403, "forbidden")
    body = client_for(proposal.author).post(url).json()
    assert body["status"] == "withdrawn"


def test_upstream_list_filters_and_hides_what_you_may_not_see():
    organiser = make_organiser()
    private = ChallengeFactory(visibility=Challenge.Visibility.PRIVATE, organisers=[organiser])
    public = make_upstream(make_solution())
    secret_parent = make_solution(private, organiser)
    secret = make_upstream(secret_parent, forker=organiser)
    services.upstream_withdraw(proposal=secret, by=organiser)

    outsider = client_for(UserFactory())
    assert [p["id"] for p in results(outsider.get("/api/upstream-proposals/"))] == [public.pk]
    assert_error(outsider.get(f"/api/upstream-proposals/{secret.pk}/"), 404)

    insider = client_for(organiser)
    assert {p["id"] for p in results(insider.get("/api/upstream-proposals/"))} == {
        public.pk,
        secret.pk,
    }

    def ids(query):
        return [p["id"] for p in results(insider.get(f"/api/upstream-proposals/?{query}"))]

    assert ids(f"fork={public.fork_id}") == [public.pk]
    assert ids(f"parent={secret_parent.pk}") == [secret.pk]
    assert ids("status=withdrawn") == [secret.pk]
    assert_error(insider.get("/api/upstream-proposals/?status=sent"), 400)


# --- Comments --------------------------------------------------------------------------------


def test_member_comments_on_a_challenge_and_replies(member_api_client):
    challenge = ChallengeFactory()
    response = member_api_client.post(
        "/api/comments/", {"challenge": challenge.slug, "body": "Is this **real**?"}
    )
    assert response.status_code == 201, response.content
    comment = response.json()
    assert (comment["challenge"], comment["solution"], comment["parent"]) == (
        challenge.slug,
        None,
        None,
    )
    assert comment["body"] == "Is this **real**?"
    reply = member_api_client.post(
        "/api/comments/",
        {"challenge": challenge.slug, "parent": comment["id"], "body": "Yes."},
    ).json()
    assert reply["parent"] == comment["id"]
    challenge.refresh_from_db()
    assert challenge.comment_count == 2


def test_member_comments_on_a_solution(member_api_client):
    solution = make_solution()
    response = member_api_client.post("/api/comments/", {"solution": solution.pk, "body": "Neat"})
    assert response.status_code == 201, response.content
    assert response.json()["solution"] == solution.pk


@pytest.mark.parametrize("targets", ["none", "both"])
def test_a_comment_needs_exactly_one_target(member_api_client, targets):
    solution = make_solution()
    data = {"body": "Hello"}
    if targets == "both":
        data.update(challenge=solution.challenge.slug, solution=solution.pk)
    error = assert_error(member_api_client.post("/api/comments/", data), 400, "invalid")
    assert "non_field_errors" in error["fields"]


def test_a_reply_must_stay_in_its_thread(member_api_client):
    first, second = ChallengeFactory(), ChallengeFactory()
    parent = comment_on(first)
    response = member_api_client.post(
        "/api/comments/", {"challenge": second.slug, "parent": parent.pk, "body": "Hi"}
    )
    assert_error(response, 400, "wrong_thread")


def test_comment_list_filters_and_shapes_deleted_and_hidden_comments():
    organiser = make_organiser()
    challenge = ChallengeFactory(organisers=[organiser])
    solution = make_solution(challenge)
    kept = comment_on(challenge, body="Kept")
    deleted = comment_on(challenge, body="Regret")
    services.comment_delete(comment=deleted, by=deleted.author)
    hidden = comment_on(challenge, body="Rude")
    services.comment_set_hidden(comment=hidden, by=organiser, hidden=True)
    on_solution = comment_on(solution, body="On the solution")
    private = ChallengeFactory(visibility=Challenge.Visibility.PRIVATE)
    comment_on(private, private.created_by, body="Secret")

    member = client_for(UserFactory())
    everything = results(member.get("/api/comments/"))
    assert [c["id"] for c in everything] == [kept.pk, deleted.pk, hidden.pk, on_solution.pk]
    by_id = {c["id"]: c for c in everything}
    assert (by_id[deleted.pk]["body"], by_id[deleted.pk]["deleted"]) == ("", True)
    assert (by_id[hidden.pk]["body"], by_id[hidden.pk]["hidden"]) == ("", True)
    assert by_id[kept.pk]["body"] == "Kept"

    moderator_view = {c["id"]: c for c in results(client_for(organiser).get("/api/comments/"))}
    assert moderator_view[hidden.pk]["body"] == "Rude"
    assert moderator_view[deleted.pk]["body"] == ""

    on_challenge = results(member.get(f"/api/comments/?challenge={challenge.slug}"))
    assert [c["id"] for c in on_challenge] == [kept.pk, deleted.pk, hidden.pk]
    assert [c["id"] for c in results(member.get(f"/api/comments/?solution={solution.pk}"))] == [
        on_solution.pk
    ]
    assert_error(member.get("/api/comments/?solution=abc"), 400)


def test_author_edits_and_deletes_a_comment():
    comment = comment_on(ChallengeFactory(), body="Typo")
    client = client_for(comment.author)
    url = f"/api/comments/{comment.pk}/"
    response = client.patch(url, {"body": "Fixed"})
    assert response.status_code == 200, response.content
    assert response.json()["body"] == "Fixed"
    assert response.json()["edited_at"] is not None
    assert "body" in assert_error(client.patch(url, {"body": ""}), 400)["fields"]
    assert_error(client_for(UserFactory()).patch(url, {"body": "Mine now"}), 403)

    assert client.delete(url).status_code == 204
    stub = client.get(url).json()
    assert (stub["body"], stub["deleted"]) == ("", True)
    assert Comment.objects.filter(pk=comment.pk).exists()


def test_editing_after_the_window_is_a_409(settings):
    settings.PEERHUB_COMMENT_EDIT_WINDOW = timedelta(minutes=5)
    comment = comment_on(ChallengeFactory())
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(hours=1))
    response = client_for(comment.author).patch(f"/api/comments/{comment.pk}/", {"body": "Late"})
    assert_error(response, 409, "edit_window")


def test_organiser_hides_and_unhides_a_comment():
    organiser = make_organiser()
    challenge = ChallengeFactory(organisers=[organiser])
    comment = comment_on(make_solution(challenge), body="Rude")
    client = client_for(organiser)
    hidden = client.post(f"/api/comments/{comment.pk}/hide/").json()
    assert (hidden["hidden"], hidden["body"]) == (True, "Rude")
    assert client_for(comment.author).get(f"/api/comments/{comment.pk}/").json()["body"] == ""
    shown = client.post(f"/api/comments/{comment.pk}/unhide/").json()
    assert (shown["hidden"], shown["body"]) == (False, "Rude")


def test_replying_to_a_deleted_comment_is_a_409(member_api_client):
    challenge = ChallengeFactory()
    parent = comment_on(challenge)
    services.comment_delete(comment=parent, by=parent.author)
    response = member_api_client.post(
        "/api/comments/", {"challenge": challenge.slug, "parent": parent.pk, "body": "Hm"}
    )
    assert_error(response, 409, "removed")


# --- Who may see and do what -----------------------------------------------------------------

ROLES = ["anonymous", "unverified", "member", "author", "organiser", "staff"]


@dataclass
class World:
    """One open public challenge run by `organiser`, with a published solution by `author`."""

    organiser: object
    author: object
    member: object
    unverified: object
    staff: object
    challenge: Challenge
    solution: Solution
    extra: dict = field(default_factory=dict)

    def user(self, role: str):
        return None if role == "anonymous" else getattr(self, role)

    def client(self, role: str) -> APIClient:
        return client_for(self.user(role))


@pytest.fixture
def world(db) -> World:
    organiser = make_organiser()
    author = UserFactory()
    challenge = ChallengeFactory(organisers=[organiser], created_by=organiser)
    return World(
        organiser=organiser,
        author=author,
        member=UserFactory(),
        unverified=UserFactory(verified=False),
        staff=UserFactory(is_staff=True, is_superuser=True),
        challenge=challenge,
        solution=make_solution(challenge, author, body="The author's text"),
    )


def read_draft_challenge(world, client):
    draft = ChallengeFactory(status=Status.DRAFT, organisers=[world.organiser])
    return client.get(f"/api/challenges/{draft.slug}/")


def read_private_challenge(world, client):
    private = ChallengeFactory(
        visibility=Challenge.Visibility.PRIVATE, organisers=[world.organiser]
    )
    return client.get(f"/api/challenges/{private.slug}/")


def create_challenge(world, client):
    return client.post("/api/challenges/", {"title": "New one", "summary": "Framed."})


def transition(world, client):
    return client.post(f"/api/challenges/{world.challenge.slug}/transition/", {"to": "selecting"})


def post_solution(world, client):
    return client.post(
        "/api/solutions/", {"challenge": world.challenge.slug, "title": "Mine", "body": "Idea"}
    )


def edit_solution(world, client):
    return client.patch(f"/api/solutions/{world.solution.pk}/", {"body": "Rewritten"})


def fork(world, client):
    return client.post(f"/api/solutions/{world.solution.pk}/fork/")


def withdraw(world, client):
    return client.post(f"/api/solutions/{world.solution.pk}/withdraw/")


def accept_upstream(world, client):
    proposal = make_upstream(world.solution)
    return client.post(f"/api/upstream-proposals/{proposal.pk}/accept/")


def hide_comment(world, client):
    comment = comment_on(world.challenge, world.author, body="Off topic")
    return client.post(f"/api/comments/{comment.pk}/hide/")


OK, CREATED, NO_AUTH, FORBIDDEN, HIDDEN = 200, 201, 401, 403, 404

# action: expected status for anonymous, unverified, member, author, organiser, staff.
# "author" is the author of the world's solution (and of the comment, and the upstream parent).
MATRIX = {
    read_draft_challenge: [HIDDEN, HIDDEN, HIDDEN, HIDDEN, OK, OK],
    read_private_challenge: [HIDDEN, HIDDEN, HIDDEN, HIDDEN, OK, OK],
    create_challenge: [NO_AUTH, FORBIDDEN, FORBIDDEN, FORBIDDEN, CREATED, CREATED],
    transition: [NO_AUTH, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, OK],
    post_solution: [NO_AUTH, FORBIDDEN, CREATED, CREATED, CREATED, CREATED],
    edit_solution: [NO_AUTH, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN],
    fork: [NO_AUTH, FORBIDDEN, CREATED, CREATED, CREATED, CREATED],
    withdraw: [NO_AUTH, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, OK],
    accept_upstream: [NO_AUTH, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN],
    hide_comment: [NO_AUTH, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, OK],
}


@pytest.mark.parametrize(
    "act, role, expected",
    [
        pytest.param(act, role, expected, id=f"{act.__name__}-{role}")
        for act, row in MATRIX.items()
        for role, expected in zip(ROLES, row, strict=True)
    ],
)
def test_permission_matrix(world, act, role, expected):
    response = act(world, world.client(role))
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert_error(response, expected)


def test_invited_members_see_a_private_challenge(world):
    private = ChallengeFactory(visibility=Challenge.Visibility.PRIVATE)
    private.invited.add(world.member)
    assert world.client("member").get(f"/api/challenges/{private.slug}/").status_code == 200
    assert_error(world.client("author").get(f"/api/challenges/{private.slug}/"), 404)


def test_actions_on_what_you_may_not_see_are_404s_never_403s(world):
    """Acting on a draft or private thing answers as if it did not exist."""
    draft_challenge = ChallengeFactory(status=Status.DRAFT, organisers=[world.organiser])
    private = ChallengeFactory(
        visibility=Challenge.Visibility.PRIVATE, organisers=[world.organiser]
    )
    draft_solution = make_solution(world.challenge, world.author, publish=False)
    private_solution = make_solution(private, world.organiser)
    private_comment = comment_on(private, world.organiser)
    private_upstream = make_upstream(private_solution, forker=world.organiser)
    member = world.client("member")

    for response in [
        member.patch(f"/api/challenges/{draft_challenge.slug}/", {"title": "Mine"}),
        member.post(f"/api/challenges/{draft_challenge.slug}/transition/", {"to": "open"}),
        member.get(f"/api/solutions/{draft_solution.pk}/"),
        member.patch(f"/api/solutions/{draft_solution.pk}/", {"body": "x"}),
        member.post(f"/api/solutions/{draft_solution.pk}/fork/"),
        member.post(f"/api/solutions/{private_solution.pk}/withdraw/"),
        member.get(f"/api/solutions/{private_solution.pk}/lineage/"),
        member.get(f"/api/solutions/{private_solution.pk}/revisions/"),
        member.get(f"/api/solutions/{private_solution.pk}/diff/"),
        member.get(f"/api/comments/{private_comment.pk}/"),
        member.post(f"/api/comments/{private_comment.pk}/hide/"),
        member.delete(f"/api/comments/{private_comment.pk}/"),
        member.post(f"/api/upstream-proposals/{private_upstream.pk}/accept/"),
    ]:
        assert_error(response, 404, "not_found")

    # Lists leave them out.
    assert private.slug not in {c["slug"] for c in results(member.get("/api/challenges/"))}
    assert draft_solution.pk not in {s["id"] for s in results(member.get("/api/solutions/"))}
    assert private_comment.pk not in {c["id"] for c in results(member.get("/api/comments/"))}
    # A body that points at them names no such object, as for one that does not exist.
    for payload in [{"solution": private_solution.pk}, {"challenge": private.slug}]:
        response = member.post("/api/comments/", {**payload, "body": "Hi"})
        assert set(assert_error(response, 400, "invalid")["fields"]) == set(payload)


def test_staff_sees_drafts_and_private_challenges_in_the_list(world, staff_user):
    draft = ChallengeFactory(status=Status.DRAFT)
    slugs = {c["slug"] for c in results(client_for(staff_user).get("/api/challenges/"))}
    assert draft.slug in slugs
    assert draft.slug not in {
        c["slug"] for c in results(world.client("member").get("/api/challenges/"))
    }


# --- Query budgets ---------------------------------------------------------------------------


def _queries(client, url, django_assert_max_num_queries, budget: int) -> int:
    with django_assert_max_num_queries(budget) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


def _challenges(n: int, organiser, value) -> None:
    for _ in range(n):
        challenge = ChallengeFactory(organisers=[organiser, UserFactory()], created_by=organiser)
        challenge.tags.set(services.tags_from_names(["Water", "Energy"]))
        challenge.values.add(value)


def test_challenge_list_query_count_does_not_grow(django_assert_max_num_queries, settings):
    settings.PEERHUB_PAGE_CACHE = False  # the queries of building the list, not of a kept copy
    organiser, value = make_organiser(), ValueFactory()
    client = client_for(UserFactory())
    _challenges(2, organiser, value)
    client.get("/api/challenges/")  # warm up caches held on the user object
    # count, rows, then tags, values, organisers and criteria prefetched for the whole page
    small = _queries(client, "/api/challenges/", django_assert_max_num_queries, 6)
    _challenges(18, organiser, value)
    large = _queries(client, "/api/challenges/", django_assert_max_num_queries, 6)
    assert small == large


def _solutions(n: int, challenge, private) -> None:
    for i in range(n):
        solution = make_solution(challenge)
        make_fork(solution)
        if i % 3 == 0:  # a fork whose parent and root the viewer may not see
            insider = private.created_by
            make_fork(make_solution(private, insider), insider, challenge=challenge)


def test_solution_list_query_count_does_not_grow(django_assert_max_num_queries, settings):
    settings.PEERHUB_PAGE_CACHE = False  # the queries of building the list, not of a kept copy
    challenge = ChallengeFactory()
    private = ChallengeFactory(visibility=Challenge.Visibility.PRIVATE)
    client = client_for(UserFactory())
    _solutions(1, challenge, private)
    client.get("/api/solutions/")
    # rows (no count: a cursor), which parents and roots the viewer may see
    small = _queries(client, "/api/solutions/", django_assert_max_num_queries, 2)
    _solutions(9, challenge, private)
    large = _queries(client, "/api/solutions/?ordering=forked", django_assert_max_num_queries, 2)
    assert small == large


def _comments(n: int, challenge, solution, organiser) -> None:
    for i in range(n):
        target = challenge if i % 2 else solution
        comment = comment_on(target)
        comment_on(target, parent=comment)
        if i % 3 == 0:
            services.comment_set_hidden(comment=comment, by=organiser, hidden=True)


def test_comment_list_query_count_does_not_grow(django_assert_max_num_queries, settings):
    settings.PEERHUB_PAGE_CACHE = False  # the queries of building the list, not of a kept copy
    organiser = make_organiser()
    challenge = ChallengeFactory(organisers=[organiser])
    other = ChallengeFactory(organisers=[organiser])
    solution = make_solution(other)
    client = client_for(organiser)  # a moderator: hidden comments ask who may read them
    _comments(2, challenge, solution, organiser)
    client.get("/api/comments/")
    # rows (no count: a cursor), organisers of challenges and of solutions' challenges
    small = _queries(client, "/api/comments/", django_assert_max_num_queries, 3)
    _comments(8, challenge, solution, organiser)
    large = _queries(client, "/api/comments/", django_assert_max_num_queries, 3)
    assert small == large
    assert len(results(client.get("/api/comments/"))) == 20


def _grow_tree(nodes: list[Solution], size: int, authors: list) -> None:
    """Add forks until the tree holds `size` solutions: node i forks node (i - 1) // 3."""
    while len(nodes) < size:
        i = len(nodes)
        nodes.append(make_fork(nodes[(i - 1) // 3], authors[i % len(authors)]))


def test_lineage_of_a_200_node_tree_asks_as_many_queries_as_a_small_one(
    django_assert_max_num_queries,
):
    authors = [UserFactory() for _ in range(5)]
    nodes = [make_solution(author=authors[0])]
    client = client_for(UserFactory())
    _grow_tree(nodes, 10, authors)
    client.get(f"/api/solutions/{nodes[-1].pk}/lineage/")
    # the solution, may the viewer see its challenge, the tree, which of its challenges
    small = _queries(
        client, f"/api/solutions/{nodes[-1].pk}/lineage/", django_assert_max_num_queries, 4
    )
    _grow_tree(nodes, 200, authors)
    url = f"/api/solutions/{nodes[-1].pk}/lineage/"
    large = _queries(client, url, django_assert_max_num_queries, 4)
    assert small == large
    body = client.get(url).json()
    assert body["size"] == 200
    assert body["ancestors"][0] == nodes[0].pk
    assert len(body["ancestors"]) == nodes[-1].generation


def test_proposal_and_upstream_lists_query_counts_do_not_grow(django_assert_max_num_queries):
    organiser = make_organiser()
    client = client_for(UserFactory())

    def grow(n):
        for _ in range(n):
            proposal = services.proposal_create(
                proposer=UserFactory(), title="t", summary="s", problem="p"
            )
            services.proposal_decline(proposal=proposal, by=organiser, reason="Not now.")
            services.proposal_adopt(
                proposal=services.proposal_create(
                    proposer=UserFactory(), title="t", summary="s", problem="p"
                ),
                by=organiser,
            )
            make_upstream(make_solution())

    grow(1)
    client.get("/api/challenge-proposals/")
    # count, rows, which of the page's proposals the viewer backs, which challenges they see
    small = _queries(client, "/api/challenge-proposals/", django_assert_max_num_queries, 4)
    small_upstream = _queries(client, "/api/upstream-proposals/", django_assert_max_num_queries, 2)
    grow(5)
    assert small == _queries(client, "/api/challenge-proposals/", django_assert_max_num_queries, 4)
    assert small_upstream == _queries(
        client, "/api/upstream-proposals/", django_assert_max_num_queries, 2
    )


# --- Upstream after a change of visibility ---------------------------------------------------


def test_offering_changes_to_a_parent_you_may_no_longer_see_is_refused():
    organiser = make_premium_organiser()
    origin = ChallengeFactory(organisers=[organiser])
    parent = make_solution(origin)
    forker = UserFactory()
    fork = make_fork(parent, forker, challenge=ChallengeFactory())
    make_revision(fork, "My own, better text")
    services.challenge_update(
        challenge=origin, by=organiser, visibility=Challenge.Visibility.PRIVATE
    )

    response = client_for(forker).post(
        "/api/upstream-proposals/", {"fork": fork.pk, "message": "Take my changes"}
    )
    assert response.status_code in (403, 404)
    assert not UpstreamProposal.objects.exists()


def test_api_invites_uninvites_and_adds_organisers():
    organiser = make_organiser()
    ChallengeFactory(
        organisers=[organiser], visibility=Challenge.Visibility.PRIVATE, slug="api-private"
    )
    guest = UserFactory(username="api-guest")
    client = APIClient()
    client.force_authenticate(guest)
    assert client.get("/api/challenges/api-private/").status_code == 404

    owner = APIClient()
    owner.force_authenticate(organiser)
    url = "/api/challenges/api-private/members/"
    assert owner.post(url, {"username": "api-guest"}).status_code == 204
    assert client.get("/api/challenges/api-private/").status_code == 200
    assert owner.delete(url, {"username": "api-guest"}).status_code == 204
    assert client.get("/api/challenges/api-private/").status_code == 404

    assert owner.post(url, {"username": "api-guest", "role": "organiser"}).status_code == 204
    assert client.get("/api/challenges/api-private/").status_code == 200
    error = owner.post(url, {"username": "ghost"}).json()["error"]
    assert error["status"] == 400 and "username" in error["fields"]


def test_api_members_is_for_organisers_only():
    challenge = ChallengeFactory(slug="api-public")
    member = UserFactory()
    client = APIClient()
    client.force_authenticate(member)
    response = client.post(
        "/api/challenges/api-public/members/", {"username": member.username, "role": "organiser"}
    )
    assert response.status_code == 403
    assert not challenge.organisers.filter(pk=member.pk).exists()


# --- Cursor pagination of the solutions and comments lists (issue 17) ------------------------


def _follow(client, url) -> list[dict]:
    """Every row of a cursor-paged list, following `next` to the end."""
    rows = []
    while url:
        body = client.get(url).json()
        assert set(body) == {"next", "results"}
        rows += body["results"]
        url = body["next"]
    return rows


@pytest.mark.parametrize("ordering", ["", "newest", "forked", "discussed"])
def test_solution_list_follows_its_cursor_through_every_row_once(ordering):
    challenge = ChallengeFactory()
    sources = [make_solution(challenge, title=f"Idea {n}") for n in range(5)]
    for source in sources[:3]:
        make_fork(source)  # ties in fork counts, broken by id
    comment_on(sources[4])
    Solution.objects.update(created_at=timezone.now())  # ties in time too
    query = f"&ordering={ordering}" if ordering else ""
    rows = _follow(client_for(), f"/api/solutions/?page_size=2{query}")
    expected = client_for().get(f"/api/solutions/?page_size=100{query}").json()["results"]
    assert [r["id"] for r in rows] == [r["id"] for r in expected]
    assert len(rows) == Solution.objects.count() == 8


def test_solution_list_cursor_keeps_the_filters():
    challenge, other = ChallengeFactory(), ChallengeFactory()
    for _ in range(5):
        make_solution(challenge)
    make_solution(other)
    rows = _follow(client_for(), f"/api/solutions/?challenge={challenge.slug}&page_size=2")
    assert len(rows) == 5 and {r["challenge"] for r in rows} == {challenge.slug}


def test_solution_list_cursor_never_shows_a_private_challenges_solutions():
    private = ChallengeFactory(visibility=Challenge.Visibility.PRIVATE)
    hidden = make_solution(private, private.created_by)
    for _ in range(3):
        make_solution()
    rows = _follow(client_for(UserFactory()), "/api/solutions/?page_size=1")
    assert len(rows) == 3 and hidden.pk not in {r["id"] for r in rows}


def test_comment_list_follows_its_cursor_oldest_first():
    challenge = ChallengeFactory()
    comments = [comment_on(challenge, body=f"Comment {n}") for n in range(5)]
    rows = _follow(client_for(), f"/api/comments/?challenge={challenge.slug}&page_size=2")
    assert [r["id"] for r in rows] == [c.pk for c in comments]


@pytest.mark.parametrize("url", ["/api/solutions/?page=2", "/api/comments/?page=1"])
def test_a_page_number_is_a_clear_400(url):
    assert_error(client_for().get(url), 400, "cursor_pagination")


@pytest.mark.parametrize(
    "cursor",
    ["nonsense", "WzEsMl0", "WyJ4IiwgIjEiXQ", "WyIyMDI2LTAxLTAxIiwgOTk5OTk5OTk5OTk5OTk5OTk5OTk5XQ"],
)
def test_a_bad_cursor_is_a_clear_400(cursor):
    make_solution()
    assert_error(client_for().get(f"/api/solutions/?cursor={cursor}"), 400, "invalid_cursor")


def test_the_schema_documents_the_cursor():
    schema = client_for().get("/api/schema/?format=json").json()
    parameters = {p["name"] for p in schema["paths"]["/api/solutions/"]["get"]["parameters"]}
    assert {"cursor", "page_size"} <= parameters and "page" not in parameters
    assert "count" not in json.dumps(schema["components"]["schemas"]["PaginatedSolutionList"])
