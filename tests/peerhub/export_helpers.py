"""A member who has one of every kind of data the export holds, built through the real
services; every text they write carries a marker, so that another member's archive can be
searched for it."""

import io
import json
import zipfile
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile

from challenges import services as challenge_services
from marketplace import services as market_services
from peerhub import services as site_services
from peerhub import tokens
from peerhub.following import follow_set
from peerhub.models import DataExport, Notification, NotificationPreference, User
from reputation import services as reputation_services
from reputation.moderation import services as moderation_services
from tests.factories import (
    ChallengeFactory,
    ManifestoVersionFactory,
    UserFactory,
    grant,
    make_fork,
    make_solution,
)
from tests.helpers import after_commit
from tests.marketplace.factories import OfferFactory, make_seller, pay
from tests.marketplace.purse_helpers import contribute, funded_challenge, publish_winners

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass
class Member:
    user: User
    marker: str
    file_bytes: dict[str, bytes]  # archive path -> bytes
    other: User  # someone they dealt with


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def full_member(name: str) -> Member:
    """A member with a row of every kind: profile, signature, follow, notification, mention,
    organised challenge, proposal and backing, solution with two revisions and files, comment,
    upstream offer, vote, review, ledger lines, flag, moderation case, offer, orders as seller
    and buyer with messages and files, order review, payment, payout, earning, contribution,
    subscription, API token, notification choice."""
    marker = f"marker{name}"
    with after_commit():
        return _build(name, marker)


def _build(name: str, marker: str) -> Member:
    from challenges.models import Comment

    if not ManifestoVersionFactory._meta.model.objects.exists():
        ManifestoVersionFactory()
    member = make_seller(username=f"member{name}", mfa=True)
    member.bio = f"Bio {marker}"
    member.save(update_fields=["bio"])
    member = grant(User.objects.get(pk=member.pk), "challenges.add_challenge")
    other = make_seller(username=f"other{name}", mfa=False)
    third = UserFactory(username=f"third{name}")

    site_services.manifesto_sign(user=member)
    tokens.token_create(user=member, name=f"script {marker}", scopes=["read"], expires_in_days=9)
    NotificationPreference.objects.create(user=member, kind="comment_reply", channel="off")

    challenge = ChallengeFactory(created_by=member, title=f"Challenge {marker}")
    follow_set(follower=member, target=challenge)
    theirs = make_solution(challenge=challenge, author=other, title=f"Theirs of {name}")

    # A solution with two revisions, each with a file.
    text_v1 = f"notes {marker} v1\n".encode()
    text_v2 = f"notes {marker} v2\n".encode()
    mine = challenge_services.solution_create(
        challenge=challenge,
        author=member,
        title=f"Mine {marker}",
        body=f"Body {marker}",
        uploads=[upload("notes.txt", text_v1)],
    )
    challenge_services.solution_revise(
        solution=mine,
        by=member,
        title=f"Mine {marker}",
        body=f"Body {marker} revised",
        message=f"Why {marker}",
        uploads=[upload("notes.txt", text_v2), upload("spec.pdf", PDF)],
    )
    files = {
        f"files/solutions/{mine.pk}/r1/notes.txt": text_v1,
        f"files/solutions/{mine.pk}/r2/notes.txt": text_v2,
        f"files/solutions/{mine.pk}/r2/spec.pdf": PDF,
    }
    fork = make_fork(theirs, author=member)
    challenge_services.upstream_propose(fork=fork, by=member, message=f"Take it {marker}")
    comment = challenge_services.comment_create(
        author=member, target=theirs, body=f"Comment {marker}"
    )
    # Others' words: a mention of the member, a notification, a comment they flag.
    challenge_services.comment_create(
        author=third, target=challenge, body=f"Hello @{member.username}"
    )
    flagged = challenge_services.comment_create(
        author=third, target=challenge, body=f"Spam by third {name}"
    )
    proposal = challenge_services.proposal_create(
        proposer=member, title=f"Proposal {marker}", summary="s", problem=f"Problem {marker}"
    )
    challenge_services.proposal_back(
        proposal=challenge_services.proposal_create(
            proposer=other, title="Their proposal", summary="s", problem="p"
        ),
        user=member,
    )
    assert proposal.pk

    reputation_services.vote_cast(voter=member, solution=theirs, value=1)
    reputation_services.vote_cast(voter=other, solution=mine, value=1)
    reputation_services.review_save(
        reviewer=member,
        solution=theirs,
        comment=f"Review {marker}",
        scores={c.pk: 4 for c in challenge.criteria.all()},
    )
    moderation_services.flag_create(
        flagger=member, kind="comment", object_id=flagged.pk, reason="other", text=f"Why {marker}"
    )
    moderation_services.flag_create(
        flagger=other, kind="comment", object_id=comment.pk, reason="spam"
    )
    Notification.objects.get_or_create(
        recipient=member,
        kind="test",
        dedupe_key=marker,
        defaults={"text": f"Notified {marker}"},
    )

    # The marketplace: an order sold (messages both ways, files, delivered, accepted), an order
    # bought and reviewed, a payout, a prize earning, a contribution, a subscription.
    offer = OfferFactory(seller=member, title=f"Offer {marker}", base_solution=mine)
    sold = pay(market_services.order_place(buyer=other, offer=offer, brief=f"Brief for {name}"))
    market_services.order_start(order=sold, by=member)
    market_services.order_message_post(
        order=sold, by=other, body=f"Question from other{name}", uploads=[upload("q.pdf", PDF)]
    )
    delivered_bytes = f"delivery {marker}\n".encode()
    market_services.order_deliver(
        order=sold,
        by=member,
        message=f"Delivery {marker}",
        uploads=[upload("result.txt", delivered_bytes)],
    )
    market_services.order_accept(order=sold, by=other)
    sold.refresh_from_db()
    for message in sold.messages.prefetch_related("files"):
        for entry in message.files.all():
            data = PDF if entry.path.endswith(".pdf") else delivered_bytes
            files[f"files/orders/{sold.pk}/{message.pk}/{entry.path}"] = data

    bought = pay(
        market_services.order_place(
            buyer=member, offer=OfferFactory(seller=other), brief=f"Brief {marker}"
        )
    )
    market_services.order_start(order=bought, by=other)
    market_services.order_deliver(order=bought, by=other, message="Here.")
    market_services.order_accept(order=bought, by=member)
    market_services.order_review_save(order=bought, by=member, rating=5, text=f"Great {marker}")
    market_services.payout_request(seller=member, amount=1000)

    prize = funded_challenge()
    publish_winners(prize, [make_solution(prize, author=member, title=f"Winner {marker}")])
    contribute(funded_challenge(), member, 5000, name=f"Backer {marker}")
    payment = market_services.subscription_start(user=member, interval="monthly")
    market_services.sandbox_answer(payment=payment, by=member, outcome="succeed")

    assert Comment.objects.filter(author=member).exists()
    return Member(user=User.objects.get(pk=member.pk), marker=marker, file_bytes=files, other=other)


def archive_of(export: DataExport) -> zipfile.ZipFile:
    from peerhub import exports

    export.refresh_from_db()
    with exports.storage().open(export.file_name, "rb") as stored:
        return zipfile.ZipFile(io.BytesIO(stored.read()))


def parts_of(archive: zipfile.ZipFile) -> dict[str, list]:
    return {
        name: json.loads(archive.read(name))
        for name in archive.namelist()
        if name.endswith(".json") and name != "manifest.json"
    }
