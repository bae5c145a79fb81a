"""Leaving PeerHub (issue 21, peerhub.deletion): a request with a grace period that signing in
cancels, blockers that refuse (page and API), anonymisation in place that erases every personal
field and keeps contributions and ledgers, the hourly task (harmless twice), the staff action,
and the property that no one else's reputation or money moves when a member leaves."""

from contextlib import suppress
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from hypothesis import event, given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from challenges import services as challenge_services
from challenges.models import Comment, Revision, Solution
from marketplace import ledger as money_ledger
from marketplace import services as market_services
from marketplace.models import LedgerAccount, LedgerEntry, Offer
from marketplace.services import transfers
from peerhub import deletion, following, relations, tasks, tokens
from peerhub.exceptions import DomainError
from peerhub.models import (
    AccessToken,
    AccountDeletion,
    Activity,
    Follow,
    MemberRelation,
    Mention,
    Notification,
    NotificationPreference,
    User,
)
from reputation import ledger as reputation_ledger
from reputation import services as reputation_services
from reputation.models import ReputationEvent, ReputationScore
from tests.factories import (
    PASSWORD,
    ChallengeFactory,
    UserFactory,
    add_totp,
    make_fork,
    make_solution,
)
from tests.helpers import assert_error, database_examples
from tests.marketplace.factories import OfferFactory, delivered_order, paid_order, place

pytestmark = pytest.mark.django_db


def later(days: int = 15):
    return timezone.now() + timedelta(days=days)


def request_deletion(member, **kwargs) -> AccountDeletion:
    pending, _ = deletion.deletion_request(user=member, **kwargs)
    return pending


@pytest.fixture
def ana(db):
    return UserFactory(username="ana", display_name="Ana Lima", email="ana@example.org")


@pytest.fixture
def ben(db):
    return UserFactory(username="ben")


# --- Requesting, the grace period and cancelling --------------------------------------------------


def test_a_request_is_due_after_the_grace_period_and_erases_nothing_yet(ana, settings):
    settings.PEERHUB_ACCOUNT_DELETION_GRACE = timedelta(days=14)
    pending = request_deletion(ana)
    assert pending.due_at - pending.requested_at == timedelta(days=14)
    assert deletion.anonymise_due() == 0
    ana.refresh_from_db()
    assert ana.is_active and ana.username == "ana"


def test_asking_twice_keeps_the_first_request(ana):
    first, created = deletion.deletion_request(user=ana)
    again, created_again = deletion.deletion_request(user=ana, remove_drafts=True)
    assert created and not created_again and again.pk == first.pk
    assert AccountDeletion.objects.filter(user=ana).count() == 1


def test_the_page_explains_asks_for_the_password_and_signs_the_member_out(client, ana):
    client.force_login(ana)
    page = client.get(reverse("account-delete"))
    assert page.status_code == 200
    assert b"What is erased" in page.content and b"What stays" in page.content
    wrong = client.post(reverse("account-delete"), {"password": "not it"})
    assert wrong.status_code == 200 and b"That is not your password" in wrong.content
    assert not AccountDeletion.objects.exists()
    response = client.post(
        reverse("account-delete"), {"password": PASSWORD, "remove_drafts": "on"}, follow=True
    )
    pending = AccountDeletion.objects.get(user=ana)
    assert pending.remove_drafts
    assert f"{pending.due_at:%-d %B %Y}" in response.content.decode()
    assert b"Sign in again before then" in response.content
    assert "_auth_user_id" not in client.session  # signed out
    assert client.get(reverse("account-delete")).status_code == 302  # to the sign-in page


def test_without_a_password_the_member_types_their_username(client, ana):
    ana.set_unusable_password()
    ana.save()
    client.force_login(ana)
    wrong = client.post(reverse("account-delete"), {"username": "anna"})
    assert b"That is not your username" in wrong.content and not AccountDeletion.objects.exists()
    client.post(reverse("account-delete"), {"username": "ana"})
    assert AccountDeletion.objects.get(user=ana).is_pending


def test_signing_in_during_the_grace_period_cancels_with_a_message(client, ana):
    request_deletion(ana)
    response = client.post(
        reverse("account_login"), {"login": "ana", "password": PASSWORD}, follow=True
    )
    assert "Your account deletion was cancelled" in response.content.decode()
    pending = AccountDeletion.objects.get(user=ana)
    assert pending.cancelled_at is not None and not pending.is_pending
    assert deletion.anonymise_due(now=later()) == 0
    ana.refresh_from_db()
    assert ana.is_active


# --- Blockers -------------------------------------------------------------------------------------


def test_an_open_order_blocks_on_the_page_and_in_the_api_with_a_link(client, ana):
    order = paid_order(buyer=ana)
    client.force_login(ana)
    page = client.get(reverse("account-delete"))
    assert reverse("marketplace:order-detail", kwargs={"pk": order.pk}) in page.content.decode()
    assert b"Your password" not in page.content  # no form while blocked
    refused = client.post(reverse("account-delete"), {"password": PASSWORD})
    assert refused.status_code == 409 and not AccountDeletion.objects.exists()
    api = APIClient()
    api.force_authenticate(ana)
    error = assert_error(api.post("/api/me/deletion/", {}, format="json"), 409, "deletion_blocked")
    assert error["blockers"][0]["url"].endswith(f"/orders/{order.pk}/")
    # the seller is blocked too
    with pytest.raises(deletion.DeletionBlocked):
        deletion.deletion_request(user=order.seller)


def test_an_earnings_balance_must_be_paid_out_first(ana):
    order = delivered_order(offer=OfferFactory(seller=ana))
    add_totp(ana)
    market_services.order_accept(order=order, by=order.buyer)
    blockers = deletion.deletion_blockers(user=ana)
    assert any("balance" in b.message for b in blockers)
    market_services.payout_request(seller=ana)
    assert money_ledger.balances_of(ana)["EUR"] == 0


def test_a_finished_order_does_not_block_and_a_refund_on_its_way_does(ana, ben):
    order = paid_order(offer=OfferFactory(seller=ana), buyer=ben)
    market_services.order_decline(order=order, by=ana, reason="Too far away.")
    assert deletion.deletion_blockers(user=ana) == []
    assert [b.message for b in deletion.deletion_blockers(user=ben)] == [
        "A refund is on its way back to you: wait until it arrives."
    ]


def test_the_only_organiser_of_a_running_challenge_is_blocked(ana):
    challenge = ChallengeFactory(created_by=ana, status="open")
    challenge.organisers.set([ana])
    assert any(challenge.title in b.message for b in deletion.deletion_blockers(user=ana))
    challenge.organisers.add(UserFactory())
    assert deletion.deletion_blockers(user=ana) == []


def test_a_request_blocked_at_its_due_time_waits_with_the_reason(ana):
    pending = request_deletion(ana)
    place(buyer=ana)  # ordered during the grace period
    assert deletion.anonymise_due(now=later()) == 0
    pending.refresh_from_db()
    assert pending.is_pending and "Order #" in pending.blocked_reason


# --- Anonymising ----------------------------------------------------------------------------------


def test_the_task_erases_every_personal_field_and_keeps_contributions(client, ana, ben):
    challenge = ChallengeFactory()
    solution = make_solution(challenge, ana, body="Ana's filter, hi @ben")
    draft = make_solution(challenge, ana, title="Secret draft", publish=False)
    comment = challenge_services.comment_create(author=ana, body="Thanks @ben", target=solution)
    ben_comment = challenge_services.comment_create(author=ben, body="Nice, @ana!", target=solution)
    ana.first_name, ana.last_name, ana.bio, ana.skills = "Ana", "Lima", "I build", "filters"
    ana.save()
    EmailAddress.objects.create(user=ana, email="ana.other@example.org", verified=False)
    add_totp(ana)
    tokens.token_create(user=ana, name="laptop", scopes=["read"], expires_in_days=30)
    following.follow_set(follower=ana, target=ben)
    following.follow_set(follower=ben, target=ana)
    relations.mute(member=ana, other=ben)
    relations.mute(member=ben, other=ana)
    NotificationPreference.objects.create(user=ana, kind="comment", channel="off")
    Notification.objects.create(recipient=ana, kind="x", text="hello", dedupe_key="1")
    client.force_login(ana)
    ben_mentions = Mention.objects.filter(mentioned=ben).count()
    assert Mention.objects.filter(mentioned=ana).exists()
    events_before = ReputationEvent.objects.count()

    request_deletion(ana, remove_drafts=True)
    assert tasks.anonymise_due_accounts.delay().get() == 0  # not due yet
    assert deletion.anonymise_due(now=later()) == 1

    ana.refresh_from_db()
    n = ana.pk
    assert ana.username == f"deleted-{n}"
    assert ana.display_name == ana.name == f"Deleted member #{n}"
    assert (ana.first_name, ana.last_name, ana.email, ana.bio, ana.skills) == ("",) * 5
    assert not ana.is_active and not ana.is_staff and not ana.has_usable_password()
    assert ana.last_login is None
    # one placeholder address, verified, so that past votes still count for others
    assert list(EmailAddress.objects.filter(user=ana).values_list("email", "verified")) == [
        (f"deleted-{n}@deleted.invalid", True)
    ]
    assert not Authenticator.objects.filter(user=ana).exists()
    assert not AccessToken.objects.filter(user=ana).exists()
    assert not Notification.objects.filter(recipient=ana).exists()
    assert not NotificationPreference.objects.filter(user=ana).exists()
    member_type = ContentType.objects.get_for_model(User)
    assert not Follow.objects.filter(follower=ana).exists()
    assert not Follow.objects.filter(target_type=member_type, target_id=n).exists()
    assert not MemberRelation.objects.filter(member=ana).exists()
    assert not MemberRelation.objects.filter(other=ana).exists()
    assert not Mention.objects.filter(mentioned=ana).exists()
    assert Mention.objects.filter(mentioned=ben).count() == ben_mentions  # ana's own mentions
    assert not Activity.objects.filter(actor=ana).exists()
    # the session that was signed in is over
    assert client.get(reverse("account-delete")).status_code == 302
    # contributions stay, attributed to the anonymised member; others' words stay as written
    solution.refresh_from_db()
    assert solution.author_id == n and Revision.objects.filter(solution=solution).exists()
    assert Comment.objects.get(pk=comment.pk).author_id == n
    assert Comment.objects.get(pk=ben_comment.pk).body == "Nice, @ana!"
    assert not Solution.objects.filter(pk=draft.pk).exists()  # removed, as asked
    page = client.get(solution.get_absolute_url())
    assert f"Deleted member #{n}".encode() in page.content
    assert b"Ana Lima" not in page.content
    # the profile is a stub: nothing personal, not indexed
    stub = client.get(reverse("profile", kwargs={"username": ana.username}))
    assert stub.status_code == 200 and b"This member left PeerHub" in stub.content
    assert b"noindex" in stub.content
    assert client.get("/u/ana/").status_code == 404
    # the ledger keeps every line
    assert ReputationEvent.objects.count() == events_before
    assert reputation_ledger.sync_everything() == 0


def test_drafts_stay_unless_asked(ana):
    draft = make_solution(author=ana, publish=False)
    request_deletion(ana)
    deletion.anonymise_due(now=later())
    assert Solution.objects.filter(pk=draft.pk).exists()


def test_offers_are_paused(ana):
    offer = OfferFactory(seller=ana)
    deletion.account_anonymise(user=ana)
    offer.refresh_from_db()
    assert not offer.is_active
    assert Offer.objects.get(pk=offer.pk).title == offer.title


def test_the_task_run_twice_is_harmless(ana, ben):
    request_deletion(ana)
    request_deletion(ben)
    assert tasks.anonymise_due_accounts.apply(kwargs={}).get() == 0
    assert deletion.anonymise_due(now=later()) == 2
    ana.refresh_from_db()
    name = ana.username
    assert deletion.anonymise_due(now=later()) == 0
    again = deletion.account_anonymise(user=ana)
    ana.refresh_from_db()
    assert ana.username == name and again.done_at is not None
    assert AccountDeletion.objects.filter(user=ana).count() == 1


def test_a_rolled_back_anonymisation_leaves_everything(ana):
    request_deletion(ana)
    with pytest.raises(RuntimeError), transaction.atomic():
        deletion.account_anonymise(user=ana)
        raise RuntimeError
    ana.refresh_from_db()
    assert ana.username == "ana" and ana.is_active
    assert EmailAddress.objects.filter(user=ana, email="ana@example.org").exists()


def test_the_purge_of_unverified_sign_ups_leaves_anonymised_accounts_alone():
    from peerhub import services

    old = UserFactory(verified=False, date_joined=timezone.now() - timedelta(days=60))
    make_solution(author=UserFactory())  # unrelated
    deletion.account_anonymise(user=old)
    assert services.unverified_accounts_purge() == 0
    assert User.objects.filter(pk=old.pk).exists()


def test_the_beat_schedule_runs_the_task_hourly(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["anonymise-due-accounts"]
    assert entry["task"] == "peerhub.tasks.anonymise_due_accounts"


# --- The API twin ---------------------------------------------------------------------------------


def test_the_api_asks_shows_and_cancels(ana):
    api = APIClient()
    api.force_authenticate(ana)
    state = api.get("/api/me/deletion/").json()
    assert state["pending"] is False and state["blockers"] == [] and state["grace_days"] == 14
    created = api.post("/api/me/deletion/", {"remove_drafts": True}, format="json")
    assert created.status_code == 201 and created.json()["pending"] is True
    assert created.json()["remove_drafts"] is True
    assert api.post("/api/me/deletion/", {}, format="json").status_code == 200
    assert api.delete("/api/me/deletion/").status_code == 204
    assert api.get("/api/me/deletion/").json()["pending"] is False
    assert api.delete("/api/me/deletion/").status_code == 204


def test_the_api_needs_a_member_and_a_valid_body(ana):
    assert APIClient().get("/api/me/deletion/").status_code in (401, 403)
    api = APIClient()
    api.force_authenticate(ana)
    assert_error(api.post("/api/me/deletion/", {"remove_drafts": "maybe"}, format="json"), 400)


def test_a_session_that_asks_through_the_api_is_signed_out(client, ana):
    client.force_login(ana)
    response = client.post("/api/me/deletion/", {}, content_type="application/json")
    assert response.status_code == 201
    assert "_auth_user_id" not in client.session


# --- Staff ----------------------------------------------------------------------------------------


def test_staff_anonymise_now_from_the_admin_respecting_blockers(client, admin_user, ana, ben):
    paid_order(buyer=ben)
    client.force_login(admin_user)
    url = reverse("admin:peerhub_user_changelist")
    response = client.post(
        url,
        {"action": "anonymise_now", "_selected_action": [ana.pk, ben.pk]},
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "1 account(s) anonymised" in text and "not anonymised" in text
    ana.refresh_from_db()
    ben.refresh_from_db()
    assert ana.username == f"deleted-{ana.pk}" and ben.username == "ben"
    assert AccountDeletion.objects.get(user=ana).done_by == admin_user


# --- Property: leaving moves no one else's reputation or money ------------------------------------

MEMBERS = 5

community = st.fixed_dictionaries(
    {
        # (author, parent index or -1)
        "solutions": st.lists(
            st.tuples(st.integers(0, MEMBERS - 1), st.integers(-1, 6)), min_size=1, max_size=6
        ),
        # (voter, solution index, up or down)
        "votes": st.lists(
            st.tuples(st.integers(0, MEMBERS - 1), st.integers(0, 6), st.booleans()), max_size=8
        ),
        # (reviewer, solution index, score)
        "reviews": st.lists(
            st.tuples(st.integers(0, MEMBERS - 1), st.integers(0, 6), st.integers(1, 5)),
            max_size=3,
        ),
        # (seller, buyer, rating): completed and reviewed orders
        "orders": st.lists(
            st.tuples(st.integers(0, MEMBERS - 1), st.integers(0, MEMBERS - 1), st.integers(1, 5)),
            max_size=2,
        ),
        "leaver": st.integers(0, MEMBERS - 1),
    }
)


def build(spec) -> list[User]:
    members = [UserFactory(username=f"p{i}", mfa=True) for i in range(MEMBERS)]
    for member in members:  # every privilege: vote down, review, sell
        ReputationScore.objects.update_or_create(user=member, defaults={"pinned_level": 3})
    challenge = ChallengeFactory(slug="leave")
    solutions = []
    for author, parent in spec["solutions"]:
        if parent < 0 or not solutions:
            solutions.append(make_solution(challenge, members[author]))
        else:
            source = solutions[parent % len(solutions)]
            if source.author_id == members[author].pk:
                solutions.append(make_solution(challenge, members[author]))
            else:
                solutions.append(make_fork(source, members[author]))
    for voter, index, up in spec["votes"]:
        solution = solutions[index % len(solutions)]
        with suppress(DomainError):  # own work, own lineage: refused, as in life
            reputation_services.vote_cast(
                voter=members[voter], solution=solution, value=1 if up else -1
            )
    criteria = list(challenge.criteria.all())
    for reviewer, index, score in spec["reviews"]:
        solution = solutions[index % len(solutions)]
        with suppress(DomainError):  # their own solution: refused
            reputation_services.review_save(
                reviewer=members[reviewer],
                solution=solution,
                comment="Solid.",
                scores={c.pk: score for c in criteria},
            )
    for seller, buyer, rating in spec["orders"]:
        if seller == buyer:
            continue
        order = delivered_order(offer=OfferFactory(seller=members[seller]), buyer=members[buyer])
        market_services.order_accept(order=order, by=order.buyer)
        market_services.order_review_save(order=order, by=order.buyer, rating=rating)
    return members


def leaver_lines(leaver) -> int:
    """Lines the leaver caused or received: those a careless anonymisation would move."""
    return ReputationEvent.objects.filter(Q(actor=leaver) | Q(beneficiary=leaver)).count()


def balances() -> dict[int, int]:
    return {account.pk: money_ledger.balance(account) for account in LedgerAccount.objects.all()}


@database_examples("DELETION_EXAMPLES", 8)
@given(spec=community)
def test_leaving_moves_no_one_elses_reputation_or_money(spec):
    with transaction.atomic():
        members = build(spec)
        leaver = members[spec["leaver"]]
        if money_ledger.balances_of(leaver).get("EUR", 0) > 0:
            # the rule: paid out first, and the payout arrived
            payout = market_services.payout_request(seller=leaver)
            assert transfers.payout_send(payout_id=payout.pk) == "done"
        reputation_ledger.sync_everything()
        others = ReputationScore.objects.exclude(user=leaver)
        scores = dict(others.values_list("user_id", "total"))
        money = balances()
        lines = ReputationEvent.objects.count()
        entries = LedgerEntry.objects.count()

        assert deletion.deletion_blockers(user=leaver) == []
        # --hypothesis-show-statistics: how often the leaver had reputation lines or money
        lines_caused = leaver_lines(leaver)
        event(f"leaver's reputation lines: {'3 or more' if lines_caused >= 3 else lines_caused}")
        event(f"ledger entries: {'some' if entries else 'none'}")
        deletion.account_anonymise(user=leaver)

        assert reputation_ledger.sync_everything() == 0
        assert ReputationEvent.objects.count() == lines
        assert dict(others.values_list("user_id", "total")) == scores
        assert LedgerEntry.objects.count() == entries
        assert balances() == money
        assert money_ledger.audit() == []
        leaver.refresh_from_db()
        assert leaver.username == f"deleted-{leaver.pk}" and not leaver.is_active
        transaction.set_rollback(True)


def test_a_member_who_leaves_leaves_no_data_export_behind(ana, django_capture_on_commit_callbacks):
    from peerhub import exports
    from peerhub.models import DataExport

    with django_capture_on_commit_callbacks(execute=True):
        export = exports.export_request(user=ana)
    export.refresh_from_db()
    assert export.state == DataExport.State.READY and export.file_name
    assert exports.storage().exists(export.file_name)
    request_deletion(ana)
    with django_capture_on_commit_callbacks(execute=True):
        deletion.anonymise_due(now=later())
    assert not DataExport.objects.filter(pk=export.pk).exists()
    assert not exports.storage().exists(export.file_name)


def test_others_writing_no_longer_links_to_a_member_who_left(ana, ben):
    """Mentions of a member who left stay as the authors wrote them, as plain `@name` text: a
    link would point at a profile that no longer exists (a 404)."""
    challenge = ChallengeFactory()
    solution = make_solution(challenge, ben, body="Built with @ana and @ben's notes")
    comment = challenge_services.comment_create(author=ben, body="Thanks @ana!", target=solution)
    profile = f'href="{ana.get_absolute_url()}"'
    revision = solution.revisions.get()
    assert profile in revision.body_html and profile in comment.body_html
    request_deletion(ana)
    assert deletion.anonymise_due(now=later()) == 1

    revision.refresh_from_db()
    comment.refresh_from_db()
    assert profile not in revision.body_html and profile not in comment.body_html
    assert f"@{ana.username}" in revision.body_html and "Thanks @ana!" in comment.body_html
    assert comment.body == "Thanks @ana!"  # the author's words, unchanged
    # the other member named in the same text is still linked
    assert f'href="{ben.get_absolute_url()}"' in revision.body_html
