"""Members at a trust level, and items of every flaggable kind, for the flag tests."""

from challenges import services as challenge_services
from challenges.models import Comment
from marketplace import services as market_services
from reputation.models import ReputationScore
from tests.factories import ChallengeFactory, UserFactory, make_solution
from tests.marketplace.factories import OfferFactory, paid_order


def member(level: int = 1, **kwargs):
    user = UserFactory(**kwargs)
    if level != 1:
        ReputationScore.objects.update_or_create(
            user=user, defaults={"pinned_level": level, "trust_level": level}
        )
    return user


def moderator(**kwargs):
    return member(4, **kwargs)


def make_item(kind: str, author=None):
    """(item, author) of the given flaggable kind, written through the real services."""
    author = author or member()
    if kind == "solution":
        return make_solution(author=author, title="Buy cheap watches", body="spam spam"), author
    if kind == "revision":
        solution = make_solution(author=author)
        return solution.current_revision, author
    if kind == "comment":
        challenge = ChallengeFactory()
        comment = challenge_services.comment_create(
            author=author, target=challenge, body="Visit my shop"
        )
        return Comment.objects.get(pk=comment.pk), author
    if kind == "offer":
        return OfferFactory(seller=author), author
    if kind == "order_message":
        order = paid_order(buyer=author)
        message = market_services.order_message_post(order=order, by=author, body="Rude words")
        return message, author
    if kind == "profile":
        author.bio = "Cheap pills at example.test"
        author.save()
        return author, author
    raise ValueError(kind)


KINDS = ["solution", "revision", "comment", "offer", "order_message", "profile"]
