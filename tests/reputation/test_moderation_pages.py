"""The pages and API twins of flags, the review queue and the public moderation record: the
permission matrix, JSON errors, the record never naming flaggers or moderators, the stubs of
hidden items, and bounded queries (issue 21)."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from reputation.models import ModerationCase
from reputation.moderation import selectors, services
from tests.factories import UserFactory
from tests.helpers import assert_error
from tests.reputation.flag_helpers import make_item, member, moderator

pytestmark = pytest.mark.django_db

QUEUE = reverse("reputation:review-queue")


def browser(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def flagged_case(commit):
    """A solution flagged as spam by three members past the threshold (hidden pending review)."""
    item, _author = make_item("solution")
    flaggers = [member(username=f"flagger{i}") for i in range(3)]
    for flagger in flaggers:
        commit(services.flag_create, flagger=flagger, kind="solution", object_id=item.pk,
               reason="spam")  # fmt: skip
    case = ModerationCase.objects.get()
    case.item, case.flaggers = item, flaggers
    return case


def who(role, case):
    return {
        "anonymous": None,
        "member": member(),
        "low trust": UserFactory(verified=False),
        "moderator-level": moderator(),
        "staff": member(is_staff=True),
        "author": case.author,
        "flagger": case.flaggers[0],
        "moderator-level flagger": None,
    }[role]


MATRIX = [
    # (role, sees the queue page, may decide)
    ("anonymous", 302, False),
    ("member", 403, False),
    ("low trust", 403, False),
    ("moderator-level", 200, True),
    ("staff", 200, True),
    ("author", 403, False),
    ("flagger", 403, False),
]


@pytest.mark.parametrize(("role", "page", "decides"), MATRIX)
def test_permission_matrix_of_the_queue_page_and_decisions(role, page, decides, flagged_case):
    user = who(role, flagged_case)
    response = browser(user).get(QUEUE)
    assert response.status_code == page
    api_answer = api(user).get("/api/moderation/queue/")
    if user is None:
        assert_error(api_answer, 401 if api_answer.status_code == 401 else 403)
    elif page == 200:
        assert [row["id"] for row in api_answer.json()["results"]] == [flagged_case.pk]
    else:
        assert_error(api_answer, 403)
    decided = api(user).post(
        f"/api/moderation/cases/{flagged_case.pk}/decision/", {"outcome": "hide"}, format="json"
    )
    if decides:
        assert decided.status_code == 200, decided.content
        assert decided.json()["status"] == "upheld"
    else:
        assert decided.status_code in (401, 403)


def test_a_moderator_level_author_or_flagger_cannot_decide_their_case(commit):
    author = moderator()
    item, _ = make_item("comment", author=author)
    flagger = moderator()
    commit(services.flag_create, flagger=flagger, kind="comment", object_id=item.pk,
           reason="abusive")  # fmt: skip
    case = ModerationCase.objects.get()
    for user in (author, flagger):
        assert case.pk not in [
            r["id"] for r in api(user).get("/api/moderation/queue/").json()["results"]
        ]
        answer = api(user).post(
            f"/api/moderation/cases/{case.pk}/decision/", {"outcome": "restore"}, format="json"
        )
        assert_error(answer, 403)


def test_api_flag_create_and_errors(commit):
    item, author = make_item("solution")
    flagger = member()
    client = api(flagger)
    created = client.post(
        "/api/flags/", {"kind": "solution", "object_id": item.pk, "reason": "spam"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "pending"
    again = client.post(
        "/api/flags/", {"kind": "solution", "object_id": item.pk, "reason": "spam"}, format="json"
    )
    assert_error(again, 409, "already_flagged")
    own = api(author).post(
        "/api/flags/", {"kind": "solution", "object_id": item.pk, "reason": "spam"}, format="json"
    )
    assert_error(own, 400, "own_item")
    assert_error(client.post("/api/flags/", {"kind": "solution"}, format="json"), 400)
    assert_error(
        client.post("/api/flags/", {"kind": "nope", "object_id": 1, "reason": "spam"},
                    format="json"),
        404,
    )  # fmt: skip
    assert_error(
        client.post("/api/flags/", {"kind": "solution", "object_id": item.pk, "reason": "other"},
                    format="json"),
        400,
    )  # fmt: skip
    assert_error(
        api().post("/api/flags/", {"kind": "solution", "object_id": item.pk, "reason": "spam"},
                   format="json"),
        401,
    )  # fmt: skip
    mine = client.get("/api/flags/").json()
    assert [row["object_id"] for row in mine["results"]] == [item.pk]
    assert client.get("/api/flags/record/").json() == {"helpful": 0, "declined": 0, "pending": 1}
    assert_error(
        client.post("/api/moderation/cases/999999/decision/", {"outcome": "hide"}, format="json"),
        404,
    )


def test_decision_input_and_a_decided_case_are_4xx(flagged_case):
    client = api(moderator())
    url = f"/api/moderation/cases/{flagged_case.pk}/decision/"
    assert_error(client.post(url, {"outcome": "ban"}, format="json"), 400)
    assert client.post(url, {"outcome": "restore"}, format="json").status_code == 200
    assert_error(client.post(url, {"outcome": "hide"}, format="json"), 409, "already_decided")


def test_appeal_through_the_api(flagged_case, commit):
    url = f"/api/moderation/cases/{flagged_case.pk}/appeal/"
    assert_error(api(flagged_case.flaggers[0]).post(url, {"text": "x"}, format="json"), 404)
    answer = api(flagged_case.author).post(url, {"text": "I sell real watches."}, format="json")
    assert answer.status_code == 200 and answer.json()["status"] == "appealed"


def test_the_public_record_never_names_flaggers_or_moderators(flagged_case, commit):
    reviewer = moderator(username="modmaria", first_name="Maria")
    commit(services.case_decide, case=flagged_case, by=reviewer, outcome="hide")
    page = browser().get(reverse("reputation:moderation-log"))
    assert page.status_code == 200
    text = page.content.decode()
    api_text = api().get("/api/moderation/log/").content.decode()
    for person in [*flagged_case.flaggers, reviewer]:
        for name in (person.username, person.name):
            assert name not in text
            assert name not in api_text
    assert "Community moderator" in text and "Community flags" in text and "Spam" in text
    rows = api().get("/api/moderation/log/").json()["results"]
    assert {row["action"] for row in rows} == {"auto_hidden", "hide", "suspend"}
    assert all(set(row) == {"id", "kind", "action", "reason", "role", "created_at"} for row in rows)


def test_a_hidden_solution_shows_a_stub_to_visitors_and_the_text_to_its_author(flagged_case):
    url = flagged_case.item.get_absolute_url()
    public = browser().get(url).content.decode()
    assert "Hidden pending review: members flagged this as spam." in public
    assert "spam spam" not in public and "Buy cheap watches" not in public
    own = browser(flagged_case.author).get(url).content.decode()
    assert "spam spam" in own and "read why and appeal" in own
    assert "spam spam" in browser(moderator()).get(url).content.decode()


def test_a_hidden_comment_says_why_in_its_thread(commit):
    comment, _author = make_item("comment")
    for _ in range(3):
        commit(services.flag_create, flagger=member(), kind="comment", object_id=comment.pk,
               reason="abusive")  # fmt: skip
    page = browser().get(comment.challenge.get_absolute_url()).content.decode()
    assert "members flagged this as abusive or offensive" in page
    assert "Visit my shop" not in page


def test_a_hidden_offer_leaves_the_list_and_keeps_a_stub(commit):
    offer, _seller = make_item("offer")
    for _ in range(3):
        commit(services.flag_create, flagger=member(), kind="offer", object_id=offer.pk,
               reason="spam")  # fmt: skip
    listing = browser().get(reverse("marketplace:offer-list")).content.decode()
    assert offer.title not in listing
    page = browser().get(offer.get_absolute_url()).content.decode()
    assert "Hidden pending review" in page and offer.title not in page


def test_a_hidden_profile_keeps_a_stub(commit):
    profile, member_ = make_item("profile")
    for _ in range(3):
        commit(services.flag_create, flagger=member(), kind="profile", object_id=profile.pk,
               reason="spam")  # fmt: skip
    page = browser().get(member_.get_absolute_url()).content.decode()
    assert "Hidden pending review" in page and "Cheap pills" not in page


def test_flag_form_flags_and_refuses_bad_input(commit):
    item, _author = make_item("solution")
    client = browser(member())
    url = reverse("reputation:flag", args=["solution", item.pk])
    assert client.get(url).status_code == 200
    refused = client.post(url, {"reason": "other", "text": ""})
    assert refused.status_code == 400 and b"Say what is wrong" in refused.content
    assert client.post(url, {"reason": "plagiarism"}).status_code == 302
    assert browser().get(url).status_code == 302  # to the login page
    assert browser(member()).get(reverse("reputation:flag", args=["nope", 1])).status_code == 404


def test_my_flags_shows_helpful_after_a_decision(flagged_case, commit):
    commit(services.case_decide, case=flagged_case, by=moderator(), outcome="remove")
    page = browser(flagged_case.flaggers[0]).get(reverse("reputation:my-flags")).content.decode()
    assert "Helpful" in page and "<strong>1</strong> helpful" in page


def test_case_page_is_for_the_author_and_reviewers(flagged_case):
    url = reverse("reputation:moderation-case", args=[flagged_case.pk])
    assert browser(flagged_case.author).get(url).status_code == 200
    assert browser(moderator()).get(url).status_code == 200
    assert browser(member()).get(url).status_code == 404
    refused = browser(flagged_case.author).post(url, {"appeal": " "})
    assert refused.status_code == 400
    assert browser(flagged_case.author).post(url, {"appeal": "Please look"}).status_code == 302
    assert selectors.review_queue_count() == 1


def test_queue_and_log_run_bounded_queries(commit, django_assert_max_num_queries):
    for kind in ("solution", "comment", "offer", "profile", "revision"):
        for _ in range(2):
            item, _author = make_item(kind)
            for _ in range(3):
                commit(services.flag_create, flagger=member(), kind=kind, object_id=item.pk,
                       reason="spam")  # fmt: skip
    reviewer = browser(moderator())
    with django_assert_max_num_queries(25):
        assert reviewer.get(QUEUE).status_code == 200
    anonymous = browser()
    with django_assert_max_num_queries(8):
        assert anonymous.get(reverse("reputation:moderation-log")).status_code == 200


def test_the_api_blanks_hidden_words_but_for_the_author_and_reviewers(flagged_case):
    url = f"/api/solutions/{flagged_case.item.pk}/"
    public = api(member()).get(url).json()
    assert public["body"] == "" and public["title"] == ""
    assert public["hidden_reason"].startswith("Hidden pending review")
    assert api(flagged_case.author).get(url).json()["body"] == "spam spam"
    assert api(moderator()).get(url).json()["body"] == "spam spam"


def test_the_api_blanks_a_hidden_profile_and_offer(commit):
    profile, owner = make_item("profile")
    offer, _seller = make_item("offer")
    for kind, item in (("profile", profile), ("offer", offer)):
        for _ in range(3):
            commit(services.flag_create, flagger=member(), kind=kind, object_id=item.pk,
                   reason="spam")  # fmt: skip
    shown = api().get(f"/api/users/{owner.username}/").json()
    assert shown["bio"] == "" and shown["skills"] == [] and shown["hidden_reason"]
    offered = api(member()).get(f"/api/offers/{offer.pk}/")
    assert offered.status_code == 200
    assert offered.json()["description"] == "" and offered.json()["hidden_reason"]


def test_a_decided_case_page_offers_no_decision(flagged_case, commit):
    commit(services.case_decide, case=flagged_case, by=moderator(), outcome="hide")
    url = reverse("reputation:moderation-case", args=[flagged_case.pk])
    page = browser(moderator()).get(url).content.decode()
    assert "Agree: hide" not in page and "Spam \u00d73" in page
