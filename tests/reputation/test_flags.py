"""Flags → threshold → hidden → review → decision, for every flaggable kind and every decision,
with the feedback on flaggers' accuracy and the author's reputation (issue 21)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from peerhub import moderation as registry
from peerhub.exceptions import Conflict, DomainError, NotAllowed, NotFound
from peerhub.models import Notification
from reputation import ledger, rules
from reputation.models import Flag, ModerationAction, ModerationCase, ReputationEvent
from reputation.moderation import selectors, services
from tests.factories import UserFactory
from tests.reputation.flag_helpers import KINDS, make_item, member, moderator

pytestmark = pytest.mark.django_db


def flaggers_for(kind, item, author, n=3):
    """Members who may see the item: the other party of an order for its messages."""
    if kind == "order_message":
        return [item.order.seller]
    return [member() for _ in range(n)]


def flag_until_hidden(kind, item, author, commit, reason="spam"):
    flaggers = flaggers_for(kind, item, author)
    if kind == "order_message":
        # One member can reach the threshold only at a high level: the seller is level 3.
        flaggers = [flaggers[0]]
        from reputation.models import ReputationScore

        ReputationScore.objects.filter(user=flaggers[0]).update(pinned_level=4)
    for flagger in flaggers:
        commit(services.flag_create, flagger=flagger, kind=kind, object_id=item.pk, reason=reason)
    return flaggers


def hidden_reason(item) -> str:
    item.refresh_from_db()
    return item.hidden_reason


def test_flag_weight_rule_grows_with_level_and_accuracy():
    assert rules.flag_weight(level=0, helpful=0, declined=0) == 0
    assert rules.flag_weight(level=1, helpful=0, declined=0) == Decimal("1.00")
    assert rules.flag_weight(level=4, helpful=0, declined=0) == Decimal("3.00")
    assert rules.flag_weight(level=1, helpful=8, declined=0) == Decimal("1.80")
    assert rules.flag_weight(level=1, helpful=0, declined=8) == Decimal("0.20")
    assert rules.flag_weight(level=1, helpful=0, declined=0, staff=True) == Decimal("3")


@pytest.mark.parametrize("kind", KINDS)
def test_flags_past_the_threshold_hide_the_item_and_tell_the_author_why(kind, commit):
    item, author = make_item(kind)
    flaggers = flag_until_hidden(kind, item, author, commit)
    case = ModerationCase.objects.get(kind=kind, object_id=item.pk)
    assert case.status == ModerationCase.Status.HIDDEN
    assert case.author_id == author.pk
    assert "spam" in hidden_reason(item).lower()
    assert item.hidden_at is not None
    told = Notification.objects.get(recipient=author, kind="flagged_content_hidden")
    assert "appeal" in told.text
    assert case.flags.count() == len(flaggers)
    action = ModerationAction.objects.get(case=case)
    assert action.action == ModerationAction.Action.AUTO_HIDDEN
    assert action.role == ModerationAction.Role.FLAGS


def test_below_the_threshold_the_item_stays_visible_but_is_in_the_queue(commit):
    item, _author = make_item("solution")
    commit(services.flag_create, flagger=member(), kind="solution", object_id=item.pk,
           reason="off_topic")  # fmt: skip
    case = ModerationCase.objects.get(object_id=item.pk, kind="solution")
    assert case.status == ModerationCase.Status.OPEN
    assert hidden_reason(item) == ""
    assert selectors.review_queue_count() == 1
    assert list(selectors.review_queue(user=moderator())) == [case]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("outcome", ["hide", "remove", "restore", "defer"])
def test_each_decision_on_each_kind(kind, outcome, commit):
    item, author = make_item(kind)
    flaggers = flag_until_hidden(kind, item, author, commit, reason="abusive")
    case = ModerationCase.objects.get(kind=kind, object_id=item.pk)
    reviewer = moderator()
    commit(services.case_decide, case=case, by=reviewer, outcome=outcome)
    case.refresh_from_db()
    flags = Flag.objects.filter(case=case)
    penalty = ReputationEvent.objects.filter(
        beneficiary=author, kind=ReputationEvent.Kind.MODERATION_PENALTY
    )
    if outcome in ("hide", "remove"):
        assert case.status == ("upheld" if outcome == "hide" else "removed")
        assert set(flags.values_list("status", flat=True)) == {"helpful"}
        assert hidden_reason(item).startswith("Hidden" if outcome == "hide" else "Removed")
        assert sum(e.amount for e in penalty) == Decimal(-100)
        for flagger in flaggers:
            assert selectors.flagger_record(flagger)["helpful"] == 1
    elif outcome == "restore":
        assert case.status == "restored"
        assert set(flags.values_list("status", flat=True)) == {"declined"}
        assert hidden_reason(item) == ""
        assert not penalty.exists()
        for flagger in flaggers:
            assert selectors.flagger_record(flagger)["declined"] == 1
    else:
        assert case.status == "hidden" and case.deferred_at is not None
        assert set(flags.values_list("status", flat=True)) == {"pending"}
    assert Notification.objects.filter(recipient=author, kind="moderation_decided").exists()
    if outcome != "defer":
        for flagger in flaggers:
            assert Notification.objects.filter(recipient=flagger, kind="flag_resolved").exists()
    # The incremental ledger equals the full rebuild.
    assert ledger.sync_everything() == 0


def test_nobody_flags_twice_and_the_database_refuses_it_too(commit):
    item, _author = make_item("comment")
    flagger = member()
    services.flag_create(flagger=flagger, kind="comment", object_id=item.pk, reason="spam")
    with pytest.raises(Conflict):
        services.flag_create(flagger=flagger, kind="comment", object_id=item.pk, reason="abusive")
    flag = Flag.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.create(case=flag.case, flagger=flagger, reason="spam", weight=1)


def test_nobody_flags_their_own_item():
    item, author = make_item("solution")
    with pytest.raises(DomainError) as refused:
        services.flag_create(flagger=author, kind="solution", object_id=item.pk, reason="spam")
    assert refused.value.code == "own_item"


def test_unverified_members_and_other_without_words_are_refused():
    item, _author = make_item("solution")
    with pytest.raises(NotAllowed):
        services.flag_create(
            flagger=UserFactory(verified=False), kind="solution", object_id=item.pk, reason="spam"
        )
    with pytest.raises(DomainError) as refused:
        services.flag_create(flagger=member(), kind="solution", object_id=item.pk, reason="other")
    assert refused.value.code == "reason_text_required"


def test_an_item_the_flagger_cannot_see_is_not_found():
    message, _author = make_item("order_message")
    with pytest.raises(NotFound):
        services.flag_create(
            flagger=member(), kind="order_message", object_id=message.pk, reason="spam"
        )


def test_nobody_reviews_their_own_item_or_one_they_flagged(commit):
    author = moderator()
    item, _ = make_item("solution", author=author)
    flagger = moderator()
    commit(services.flag_create, flagger=flagger, kind="solution", object_id=item.pk,
           reason="spam")  # fmt: skip
    case = ModerationCase.objects.get()
    for who in (author, flagger):
        assert case not in selectors.review_queue(user=who)
        with pytest.raises(NotAllowed):
            services.case_decide(case=case, by=who, outcome="restore")


def test_spam_suspends_a_new_account_but_not_an_established_one(commit):
    item, author = make_item("solution")
    flag_until_hidden("solution", item, author, commit)
    commit(services.case_decide, case=ModerationCase.objects.get(), by=moderator(), outcome="hide")
    author.refresh_from_db()
    assert not author.is_active
    assert ModerationAction.objects.filter(action="suspend").exists()

    old, veteran = make_item("comment", author=member(date_joined=timezone.now() - timedelta(400)))
    flag_until_hidden("comment", old, veteran, commit)
    case = ModerationCase.objects.get(kind="comment")
    commit(services.case_decide, case=case, by=moderator(), outcome="remove")
    veteran.refresh_from_db()
    assert veteran.is_active


def test_an_appeal_returns_the_case_and_a_restore_gives_the_reputation_back(commit):
    item, author = make_item("offer")
    flaggers = flag_until_hidden("offer", item, author, commit, reason="abusive")
    case = ModerationCase.objects.get()
    commit(services.case_decide, case=case, by=moderator(), outcome="hide")
    assert ledger.totals_from_ledger([author.pk])[author.pk] == Decimal(-100)
    with pytest.raises(NotAllowed):
        services.case_appeal(case=case, by=flaggers[0], text="no")
    commit(services.case_appeal, case=case, by=author, text="It was a joke among friends.")
    case.refresh_from_db()
    assert case.status == "appealed" and selectors.review_queue_count() == 1
    commit(services.case_decide, case=case, by=moderator(), outcome="restore")
    assert ledger.totals_from_ledger([author.pk]).get(author.pk, Decimal(0)) == 0
    assert hidden_reason(item) == ""
    assert selectors.flagger_record(flaggers[0]) == {"helpful": 0, "declined": 1, "pending": 0}
    assert ledger.sync_everything() == 0


def test_declined_flags_lower_the_flaggers_weight(commit):
    flagger = member()
    for _ in range(2):
        item, _author = make_item("solution")
        commit(services.flag_create, flagger=flagger, kind="solution", object_id=item.pk,
               reason="spam")  # fmt: skip
        case = ModerationCase.objects.get(object_id=item.pk, kind="solution")
        commit(services.case_decide, case=case, by=moderator(), outcome="restore")
    item, _author = make_item("solution")
    flag = services.flag_create(flagger=flagger, kind="solution", object_id=item.pk, reason="spam")
    assert flag.weight == Decimal("0.50")


def test_every_kind_is_registered():
    assert registry.flaggable_names() == sorted(KINDS)


def edit_as_author(kind, item, author):
    from challenges import services as challenge_services
    from marketplace import services as market_services
    from peerhub import services as site_services

    if kind == "solution":
        challenge_services.solution_revise(
            solution=item, by=author, title="A water filter", body="Sand, gravel and charcoal."
        )
    elif kind == "comment":
        challenge_services.comment_edit(comment=item, by=author, body="Sorry: no shop here.")
    elif kind == "offer":
        market_services.offer_update(offer=item, by=author, title="Filter installation")
    else:
        site_services.profile_update(user=item, display_name="Jo", bio="Plumber.", skills="")


@pytest.mark.parametrize("kind", ["solution", "comment", "offer", "profile"])
def test_an_edit_by_its_author_sends_an_upheld_item_back_to_the_queue(kind, commit):
    item, author = make_item(kind)
    flag_until_hidden(kind, item, author, commit)
    case = ModerationCase.objects.get()
    commit(services.case_decide, case=case, by=moderator(), outcome="hide")
    assert selectors.review_queue_count() == 0
    commit(edit_as_author, kind, item, author)
    case.refresh_from_db()
    assert case.status == "edited" and selectors.review_queue_count() == 1
    assert case.actions.filter(action="edited", role="author").count() == 1
    # The penalty stands until the new review; restoring gives it back and shows the item.
    commit(services.case_decide, case=case, by=moderator(), outcome="restore")
    assert hidden_reason(item) == ""
    assert ledger.sync_everything() == 0


def test_an_edit_of_an_item_that_is_not_hidden_changes_no_case(commit):
    item, author = make_item("comment")
    commit(services.flag_create, flagger=member(), kind="comment", object_id=item.pk, reason="spam")
    commit(edit_as_author, "comment", item, author)
    case = ModerationCase.objects.get()
    assert case.status == "open" and not case.actions.filter(action="edited").exists()
