"""Every main page of PeerHub, in one list, over data that tries to break layouts.

NEW PAGES MUST BE ADDED HERE (to `main_pages`): tests/e2e/test_every_page.py visits each one at
phone and desktop widths, signed out and signed in, and checks that nothing is wider than the
screen (and, later, what axe-core finds). The URL confs to look at are peerhub/urls.py,
peerhub/social_urls.py and each app's urls.py; POST-only actions, API endpoints, htmx fragments
and the Django admin are left out.

`seed_pages()` builds the data with the factories and the real services: long unbroken words in
titles, names, skills and URLs (the longest each field allows), a lineage several generations
deep, a published selection round, an order with messages, notifications."""

from datetime import timedelta
from typing import NamedTuple

from django.urls import reverse
from django.utils import timezone

from challenges import services as challenge_services
from marketplace import services as market_services
from marketplace.services import purses
from peerhub import exports, limits, relations
from peerhub.following import follow_set
from peerhub.models import DataExport, User
from reputation import services as reputation_services
from reputation.moderation import services as moderation_services
from tests.factories import (
    ChallengeFactory,
    ManifestoVersionFactory,
    UserFactory,
    ValueFactory,
    grant,
    make_fork,
    make_solution,
)
from tests.helpers import after_commit
from tests.marketplace.factories import OfferFactory, make_seller, pay

# The member who signs in for the pages needing it, and the staff member for staff pages.
MEMBER = "Longname" * 18 + "member"  # 150 characters: the most a username may hold
STAFF = "stafflongname" + "x" * 60


class Page(NamedTuple):
    name: str
    path: str
    needs_sign_in: bool  # visited signed in only (as MEMBER, or STAFF when `staff`)
    staff: bool = False
    signed_out_only: bool = False  # login, signup: a signed-in member is sent away from them


def _word(stem: str, length: int) -> str:
    """One unbroken word of exactly `length` characters."""
    return (stem * (length // len(stem) + 1))[:length]


def _url(n: int = 0) -> str:
    path = _word(f"averyveryverylongpathsegment{n}", 180)
    return f"https://example.org/{path}?q={'9' * 40}"


def _markdown(topic: str) -> str:
    """A body with a long link, a bare long URL, a wide table and a wide code line."""
    return (
        f"## {topic}\n\nSee [{_word('linktext', 90)}]({_url(1)}) and {_url(2)} for details.\n\n"
        f"| {_word('columnheading', 60)} | b | c |\n|---|---|---|\n"
        f"| {_word('cell', 80)} | 2 | 3 |\n\n"
        f"```\n{_word('code_', 200)}\n```\n\n- {_word('listitem', 120)}\n"
    )


def seed_pages() -> list[Page]:
    """Make the data and answer the pages to visit. Runs inside the test's transaction; what
    the actions queue for after commit (notifications) runs too."""
    with after_commit():
        return _seed()


def _seed() -> list[Page]:
    ManifestoVersionFactory(preamble=f"We build together. {_url(3)}", body=_markdown("Why"))
    value = ValueFactory(name=_word("Valuename", 60), slug="long-value")

    member = make_seller(
        username=MEMBER,
        display_name=_word("Displayname", limits.DISPLAY_NAME),
        mfa=False,
    )
    member.skills = ", ".join([_word("Skill", limits.SKILLS - 20), "soldering"])[: limits.SKILLS]
    member.bio = f"I write about {_url(4)}."
    member.save(update_fields=["skills", "bio"])
    member = grant(
        User.objects.get(pk=member.pk),
        "challenges.add_challenge",
    )
    UserFactory(username=STAFF, is_staff=True, is_superuser=True)
    others = [
        UserFactory(username=_word(f"other{i}name", 120), display_name=_word(f"Other{i}", 80))
        for i in range(3)
    ]

    challenge = ChallengeFactory(
        title=_word("Challengetitle", limits.TITLE),
        slug="long-words",
        summary=_word("Summary", limits.SUMMARY),
        problem=_markdown("Problem"),
        context=f"Why: {_url(5)}",
        created_by=member,
        criteria=[_word("Criterion", limits.CRITERION_NAME), "Cheap"],
    )
    challenge.values.add(value)
    challenge.tags.set(challenge_services.tags_from_names([_word("tag", limits.TAG), "water"]))

    root = make_solution(
        challenge=challenge,
        author=others[0],
        title=_word("Solutiontitle", limits.TITLE),
        body=_markdown("Root"),
    )
    challenge_services.solution_revise(
        solution=root,
        by=others[0],
        title=root.title,
        body=_markdown("Root") + f"\n\nChanged: {_word('changed', 150)}\n",
        message=_word("Message", limits.REVISION_MESSAGE),
    )
    # A lineage several generations deep and a few wide, long titles throughout.
    fork = root
    chain = []
    for generation in range(4):
        fork = make_fork(fork, author=others[(generation + 1) % 3])
        chain.append(fork)
        for sibling in range(2):
            make_fork(root if sibling else fork, author=others[sibling])
    mine = make_fork(root, author=member)
    unoffered = make_fork(chain[0], author=member)  # its "offer upstream" form
    upstream = challenge_services.upstream_propose(
        fork=mine, by=member, message=f"Take this: {_url(6)}"
    )

    challenge_services.comment_create(
        author=member, target=root, body=f"Long comment {_word('word', 200)} {_url(7)}"
    )
    comment = challenge_services.comment_create(
        author=others[1], target=challenge, body=f"On the challenge: {_url(8)}"
    )
    challenge_services.comment_create(
        author=member, target=challenge, body=_word("reply", 200), parent=comment
    )

    for voter in [member, *others[1:]]:
        reputation_services.vote_cast(voter=voter, solution=root, value=1)
    reputation_services.vote_cast(voter=others[2], solution=mine, value=1)
    follow_set(follower=others[0], target=member)
    follow_set(follower=member, target=challenge)

    # A prize purse, funded by a backer with a long public name, awarded when the round publishes.
    purses.purse_configure(challenge=challenge, by=member, mode="places", places=[70, 30])
    backing = purses.contribution_start(
        challenge=challenge, backer=others[1], amount=123456,
        public_name=_word("Backername", 60), return_url="/",
    )  # fmt: skip
    market_services.sandbox_answer(payment=backing, by=others[1], outcome="succeed")
    challenge_services.challenge_transition(challenge=challenge, by=member, to="selecting")
    round_ = challenge_services.selection_round_open(
        challenge=challenge,
        by=member,
        title=_word("Roundtitle", limits.TITLE),
        summary=_markdown("Round"),
    )
    challenge_services.selection_shortlist(
        round=round_, by=member, solution=root, reason=_word("Reason", 300)
    )
    challenge_services.selection_shortlist(
        round=round_, by=member, solution=chain[0], reason=f"Also {_url(9)}"
    )
    challenge_services.selection_select(
        round=round_, by=member, solution=root, reason=_word("Winner", 300)
    )
    with after_commit():  # the purse's award is promised through the outbox
        challenge_services.selection_publish(round=round_, by=member)

    proposal = challenge_services.proposal_create(
        proposer=others[1],
        title=_word("Proposaltitle", limits.TITLE),
        summary=_word("Summary", limits.SUMMARY),
        problem=_markdown("Proposal"),
    )
    challenge_services.proposal_back(proposal=proposal, user=member)

    # The marketplace: the member sells (an order from another member, paid, with messages)
    # and buys from another seller.
    offer = OfferFactory(
        seller=member,
        title=_word("Offertitle", limits.OFFER_TITLE),
        description=_markdown("Offer"),
        base_solution=mine,
    )
    sold = market_services.order_place(buyer=others[2], offer=offer, brief=_markdown("Brief"))
    pay(sold)
    market_services.order_start(order=sold, by=member)
    market_services.order_message_post(order=sold, by=others[2], body=f"Link: {_url(10)}")
    market_services.order_deliver(
        order=sold, by=member, message=_markdown("Delivery"), links=[_url(11)]
    )
    other_seller = make_seller(username=_word("sellername", 100))
    # The member muted one member and blocked another: long names on the settings page.
    relations.mute(member=member, other=others[0])
    relations.block(member=member, other=others[1])
    bought = market_services.order_place(
        buyer=member,
        offer=OfferFactory(seller=other_seller, title=_word("Anotheroffer", 140)),
        brief=_word("brief", 300),
    )

    # Edit histories: the challenge's brief, a comment and the offer, edited with long words.
    challenge_services.challenge_update(
        challenge=challenge, by=member, summary=_word("Editedsummary", limits.SUMMARY)
    )
    edited = challenge_services.comment_create(
        author=member, target=challenge, body=f"Before {_word('before', 120)}"
    )
    challenge_services.comment_edit(
        comment=edited, by=member, body=f"After {_word('after', 120)} {_url(12)}"
    )
    market_services.offer_update(
        offer=offer, by=member, price=offer.price + 1500, description=_markdown("Edited")
    )

    # Still open to new solutions (the long one is selecting).
    open_challenge = ChallengeFactory(
        title=_word("Openchallenge", limits.TITLE), created_by=member, slug="open-long-words"
    )
    purses.purse_configure(challenge=open_challenge, by=member, mode="equal")
    # Two data exports: an old one whose link expired, and one ready to download.
    long_ago = timezone.now() - timedelta(days=9)
    DataExport.objects.create(
        user=member,
        token="expired-export",
        state=DataExport.State.EXPIRED,
        progress=100,
        created_at=long_ago,
        finished_at=long_ago,
        expires_at=long_ago + timedelta(days=7),
    )
    exports.export_request(user=member)
    # Moderation: the member flags a comment (a case in the queue, on their flags page).
    flag = moderation_services.flag_create(
        flagger=member, kind="comment", object_id=comment.pk, reason="other",
        text=_word("Flagtext", 300),
    )  # fmt: skip
    solution = root
    return [
        # Signed out and in.
        Page("home", reverse("home"), False),
        Page("manifesto", reverse("manifesto"), False),
        Page("code of conduct", reverse("code-of-conduct"), False),
        Page("challenges", reverse("challenges:list"), False),
        Page("challenge", challenge.get_absolute_url(), False),
        Page("evolution", reverse("reputation:evolution", args=[challenge.slug]), False),
        Page("selection", reverse("challenges:selection", args=[challenge.slug]), False),
        Page("solution", solution.get_absolute_url(), False),
        Page("fork", chain[-1].get_absolute_url(), False),
        Page("lineage", reverse("challenges:solution-lineage", args=[solution.pk]), False),
        Page("history", reverse("challenges:solution-history", args=[solution.pk]), False),
        Page("diff", reverse("challenges:solution-diff", args=[solution.pk]), False),
        Page("upstream", reverse("challenges:upstream-detail", args=[upstream.pk]), False),
        Page("proposals", reverse("challenges:proposal-list"), False),
        Page("proposal", reverse("challenges:proposal-detail", args=[proposal.pk]), False),
        Page("profile", member.get_absolute_url(), False),
        Page("reputation history", reverse("reputation:history", args=[MEMBER]), False),
        Page("leaderboard", reverse("reputation:leaderboard"), False),
        Page("rankings", reverse("reputation:rankings"), False),
        Page("how reputation works", reverse("reputation:how-it-works"), False),
        Page("search", reverse("challenges:search") + "?q=Solutiontitle", False),
        Page("marketplace", reverse("marketplace:offer-list"), False),
        Page("offer", reverse("marketplace:offer-detail", args=[offer.pk]), False),
        Page("premium", reverse("marketplace:subscription"), False),
        Page("purse results", reverse("marketplace:purse", args=[challenge.slug]), False),
        Page("challenge edits", reverse("challenges:history", args=[challenge.slug]), False),
        Page("comment edits", reverse("challenges:comment-history", args=[edited.pk]), False),
        Page("offer edits", reverse("marketplace:offer-history", args=[offer.pk]), False),
        Page("open purse", reverse("marketplace:purse", args=[open_challenge.slug]), False),
        Page("moderation log", reverse("reputation:moderation-log"), False),
        # Signed out only.
        Page("log in", reverse("account_login"), False, signed_out_only=True),
        Page("sign up", reverse("account_signup"), False, signed_out_only=True),
        Page("password reset", reverse("account_reset_password"), False, signed_out_only=True),
        # Signed in: the member's own pages, as a seller, buyer and organiser.
        Page("notifications", reverse("notifications"), True),
        Page("notification settings", reverse("notification-preferences"), True),
        Page("orders", reverse("marketplace:order-list"), True),
        Page("earnings", reverse("marketplace:earnings"), True),
        Page("order as seller", reverse("marketplace:order-detail", args=[sold.pk]), True),
        Page("order as buyer", reverse("marketplace:order-detail", args=[bought.pk]), True),
        Page("new offer", reverse("marketplace:offer-create"), True),
        Page("edit offer", reverse("marketplace:offer-edit", args=[offer.pk]), True),
        Page("new challenge", reverse("challenges:create"), True),
        Page("edit challenge", reverse("challenges:edit", args=[challenge.slug]), True),
        Page(
            "new solution",
            reverse("challenges:solution-create", args=[open_challenge.slug]),
            True,
        ),
        Page("edit solution", reverse("challenges:solution-edit", args=[mine.pk]), True),
        Page("fork form", reverse("challenges:solution-fork", args=[solution.pk]), True),
        Page("offer upstream", reverse("challenges:upstream-create", args=[unoffered.pk]), True),
        Page("new proposal", reverse("challenges:proposal-create"), True),
        Page("profile settings", reverse("profile-edit"), True),
        Page("access tokens", reverse("access-tokens"), True),
        Page("muted and blocked", reverse("member-relations"), True),
        Page("your data", reverse("data-settings"), True),
        Page("delete account", reverse("account-delete"), True),
        Page("e-mail addresses", reverse("account_email"), True),
        Page("password change", reverse("account_change_password"), True),
        Page("two-factor", reverse("mfa_index"), True),
        Page("flag form", reverse("reputation:flag", args=["solution", solution.pk]), True),
        Page("my flags", reverse("reputation:my-flags"), True),
        # Staff.
        Page("trust moderation", reverse("reputation:trust-moderation"), True, staff=True),
        Page("staff money", reverse("marketplace:staff-money"), True, staff=True),
        Page("staff wash trades", reverse("marketplace:staff-wash"), True, staff=True),
        Page("staff dashboard", reverse("staff-dashboard"), True, staff=True),
        Page("review queue", reverse("reputation:review-queue"), True, staff=True),
        # Members who may review (level 2+; staff may): the solutions most in need of a review.
        Page("to review", reverse("reputation:to-review", args=[challenge.slug]), True, staff=True),
        Page("to review everywhere", reverse("reputation:to-review-everywhere"), True, staff=True),
        Page(
            "moderation case",
            reverse("reputation:moderation-case", args=[flag.case_id]),
            True,
            staff=True,
        ),
    ]


def sign_in_users() -> dict[str, User]:
    """The members the signed-in visits use, after `seed_pages()`."""
    return {
        "member": User.objects.get(username=MEMBER),
        "staff": User.objects.get(username=STAFF),
    }
