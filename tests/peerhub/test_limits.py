"""The maximum size of every free text field (peerhub/limits.py), enforced three times: by the
HTML forms, by the API serializers and by the database — max_length on CharFields, a
CheckConstraint on each TextField — and by the services where a page posts without a form."""

import pytest
from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

from challenges import forms as challenge_forms
from challenges.api import serializers as challenge_serializers
from challenges.models import (
    Challenge,
    ChallengeProposal,
    ChallengeTranslation,
    Comment,
    SelectionEntry,
    SelectionRound,
    UpstreamProposal,
)
from marketplace import forms as market_forms
from marketplace.api import serializers as market_serializers
from marketplace.models import OrderMessage, OrderReview
from marketplace.plans import plans_ensure
from peerhub import limits
from peerhub.api.serializers import MeSerializer
from peerhub.forms import ProfileForm
from peerhub.models import ManifestoTranslation
from reputation.api.serializers import ReviewInputSerializer
from reputation.models import ReputationScore, Review
from tests.factories import (
    ChallengeFactory,
    ManifestoVersionFactory,
    UserFactory,
    ValueFactory,
    make_fork,
    make_organiser,
    make_solution,
)
from tests.marketplace.factories import OfferFactory, place

APPS = ["peerhub", "challenges", "reputation", "marketplace"]

TEXT_FIELDS = [
    (model, field)
    for app in APPS
    for model in apps.get_app_config(app).get_models()
    for field in model._meta.get_fields()
    if isinstance(field, models.TextField)
    # Rendered Markdown (`*_html`) is derived from a limited field by peerhub.markdown, not typed.
    and not field.name.endswith("_html")
]


def _id(value) -> str:
    model, field = value
    return f"{model.__name__}.{field.name}"


# --- The schema --------------------------------------------------------------------------------


def test_every_text_field_is_counted():
    assert len(TEXT_FIELDS) == 27  # a new TextField needs a limit: add it to peerhub/limits.py


@pytest.mark.parametrize("entry", TEXT_FIELDS, ids=_id)
def test_every_text_field_has_a_limit_and_a_database_constraint_for_it(entry):
    model, field = entry
    assert field.max_length, f"{_id(entry)} has no max_length"
    assert field.max_length in vars(limits).values()
    expected = LessThanOrEqual(Length(field.name), field.max_length)
    checks = [c.condition for c in model._meta.constraints if isinstance(c, models.CheckConstraint)]
    assert expected in checks, f"{_id(entry)} has no CheckConstraint on its length"


def test_every_char_field_of_free_text_reads_its_limit_from_one_place():
    pairs = {
        ("peerhub", "User", "display_name"): limits.DISPLAY_NAME,
        ("peerhub", "User", "skills"): limits.SKILLS,
        ("challenges", "Challenge", "title"): limits.TITLE,
        ("challenges", "Challenge", "summary"): limits.SUMMARY,
        ("challenges", "ChallengeProposal", "title"): limits.TITLE,
        ("challenges", "Solution", "title"): limits.TITLE,
        ("challenges", "Revision", "title"): limits.TITLE,
        ("challenges", "Revision", "message"): limits.REVISION_MESSAGE,
        ("challenges", "SelectionRound", "title"): limits.TITLE,
        ("challenges", "Criterion", "name"): limits.CRITERION_NAME,
        ("challenges", "Criterion", "description"): limits.CRITERION_DESCRIPTION,
        ("challenges", "Tag", "name"): limits.TAG,
        ("marketplace", "Offer", "title"): limits.OFFER_TITLE,
        ("marketplace", "Order", "title"): limits.OFFER_TITLE,
    }
    for (app, model, field), limit in pairs.items():
        assert apps.get_model(app, model)._meta.get_field(field).max_length == limit


# --- The database refuses one character more ---------------------------------------------------


def _round():
    challenge = ChallengeFactory()
    return SelectionRound.objects.create(challenge=challenge, number=1, created_by=UserFactory())


def _entry():
    round_ = _round()
    return SelectionEntry.objects.create(
        round=round_,
        solution=make_solution(challenge=round_.challenge),
        reason="Solid.",
        shortlisted_by=round_.created_by,
    )


def _upstream():
    fork = make_fork(make_solution())
    return UpstreamProposal.objects.create(
        fork=fork,
        parent=fork.parent,
        fork_revision=fork.current_revision,
        base_revision=fork.parent.current_revision,
        author=fork.author,
        message="Take my change.",
    )


def _moderation_case():
    from django.contrib.contenttypes.models import ContentType

    from reputation.models import ModerationCase

    author = UserFactory()
    return ModerationCase.objects.create(
        content_type=ContentType.objects.get_for_model(author),
        object_id=author.pk,
        kind="profile",
        author=author,
    )


BUILDERS = {
    "User": UserFactory,
    "Value": ValueFactory,
    "ManifestoVersion": ManifestoVersionFactory,
    "ManifestoTranslation": lambda: ManifestoTranslation.objects.create(
        version=ManifestoVersionFactory(), language="es", title="T", preamble="P", body="B"
    ),
    "ChallengeTranslation": lambda: ChallengeTranslation.objects.create(
        challenge=ChallengeFactory(), language="es", title="T", summary="S"
    ),
    "Challenge": ChallengeFactory,
    "ChallengeProposal": lambda: ChallengeProposal.objects.create(
        title="T", summary="S", problem="P", proposer=UserFactory()
    ),
    "Revision": lambda: make_solution().current_revision,
    "UpstreamProposal": _upstream,
    "Comment": lambda: Comment.objects.create(
        author=UserFactory(), challenge=ChallengeFactory(), body="Hello."
    ),
    "SelectionRound": _round,
    "SelectionEntry": _entry,
    "Review": lambda: Review.objects.create(
        solution=make_solution(), reviewer=UserFactory(), comment="Good."
    ),
    # The plans a migration wrote may be gone: a transactional test elsewhere flushed them.
    "Plan": lambda: plans_ensure().order_by("pk").first(),
    "Offer": OfferFactory,
    "ModerationCase": lambda: _moderation_case(),
    "Order": place,
    "OrderMessage": lambda: OrderMessage.objects.create(
        order=(order := place()), author=order.buyer, body="Hello."
    ),
    "OrderReview": lambda: OrderReview.objects.create(order=place(), rating=5, text="Great."),
}


@pytest.mark.django_db
@pytest.mark.parametrize("entry", TEXT_FIELDS, ids=_id)
def test_the_database_holds_the_limit_and_refuses_one_character_more(entry):
    model, field = entry
    row = BUILDERS[model.__name__]()
    rows = model._base_manager.filter(pk=row.pk)  # revisions' own manager refuses updates
    # Characters are counted, not bytes: "é" is two bytes in UTF-8.
    rows.update(**{field.name: "é" * field.max_length})
    assert len(rows.values_list(field.name, flat=True).get()) == field.max_length
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(**{field.name: "é" * (field.max_length + 1)})


# --- Forms and serializers refuse it first ----------------------------------------------------

FORMS = [
    (ProfileForm, {}, "display_name", limits.DISPLAY_NAME),
    (ProfileForm, {}, "bio", limits.BIO),
    (ProfileForm, {}, "skills", limits.SKILLS),
    (challenge_forms.ChallengeForm, {}, "title", limits.TITLE),
    (challenge_forms.ChallengeForm, {}, "summary", limits.SUMMARY),
    (challenge_forms.ChallengeForm, {}, "problem", limits.CHALLENGE_TEXT),
    (challenge_forms.ChallengeForm, {}, "context", limits.CHALLENGE_TEXT),
    (challenge_forms.ProposalForm, {}, "title", limits.TITLE),
    (challenge_forms.ProposalForm, {}, "summary", limits.SUMMARY),
    (challenge_forms.ProposalForm, {}, "problem", limits.CHALLENGE_TEXT),
    (challenge_forms.ProposalForm, {}, "context", limits.CHALLENGE_TEXT),
    (challenge_forms.NewSolutionForm, {}, "title", limits.TITLE),
    (challenge_forms.SolutionForm, {}, "body", limits.SOLUTION_BODY),
    (challenge_forms.SolutionForm, {}, "message", limits.REVISION_MESSAGE),
    (challenge_forms.ForkForm, {"challenges": Challenge.objects.none()}, "title", limits.TITLE),
    (challenge_forms.UpstreamForm, {}, "message", limits.UPSTREAM_MESSAGE),
    (challenge_forms.ReasonForm, {}, "reason", limits.DECISION_REASON),
    (challenge_forms.CommentForm, {}, "body", limits.COMMENT),
    (market_forms.OfferForm, {"seller": None}, "title", limits.OFFER_TITLE),
    (market_forms.OfferForm, {"seller": None}, "description", limits.OFFER_DESCRIPTION),
    (market_forms.OrderPlaceForm, {}, "brief", limits.ORDER_BRIEF),
    (market_forms.MessageForm, {}, "body", limits.ORDER_MESSAGE),
    (market_forms.DeliverForm, {}, "message", limits.ORDER_MESSAGE),
    (market_forms.DisputeForm, {}, "reason", limits.DISPUTE_REASON),
    (market_forms.ReviewForm, {}, "text", limits.ORDER_REVIEW),
]

SERIALIZERS = [
    (MeSerializer, "display_name", limits.DISPLAY_NAME),
    (MeSerializer, "bio", limits.BIO),
    (MeSerializer, "skills", limits.SKILLS),
    (challenge_serializers.ChallengeCreateSerializer, "title", limits.TITLE),
    (challenge_serializers.ChallengeWriteSerializer, "summary", limits.SUMMARY),
    (challenge_serializers.ChallengeWriteSerializer, "problem", limits.CHALLENGE_TEXT),
    (challenge_serializers.ChallengeWriteSerializer, "context", limits.CHALLENGE_TEXT),
    (challenge_serializers.ChallengeProposalWriteSerializer, "title", limits.TITLE),
    (challenge_serializers.ChallengeProposalWriteSerializer, "summary", limits.SUMMARY),
    (challenge_serializers.ChallengeProposalWriteSerializer, "problem", limits.CHALLENGE_TEXT),
    (challenge_serializers.ChallengeProposalWriteSerializer, "context", limits.CHALLENGE_TEXT),
    (challenge_serializers.ReasonSerializer, "reason", limits.DECISION_REASON),
    (challenge_serializers.SolutionCreateSerializer, "title", limits.TITLE),
    (challenge_serializers.SolutionCreateSerializer, "body", limits.SOLUTION_BODY),
    (challenge_serializers.SolutionCreateSerializer, "message", limits.REVISION_MESSAGE),
    (challenge_serializers.SolutionReviseSerializer, "title", limits.TITLE),
    (challenge_serializers.SolutionReviseSerializer, "body", limits.SOLUTION_BODY),
    (challenge_serializers.SolutionReviseSerializer, "message", limits.REVISION_MESSAGE),
    (challenge_serializers.ForkSerializer, "title", limits.TITLE),
    (challenge_serializers.UpstreamProposalCreateSerializer, "message", limits.UPSTREAM_MESSAGE),
    (challenge_serializers.CommentCreateSerializer, "body", limits.COMMENT),
    (challenge_serializers.CommentEditSerializer, "body", limits.COMMENT),
    (challenge_serializers.SelectionRoundCreateSerializer, "title", limits.TITLE),
    (challenge_serializers.SelectionRoundCreateSerializer, "summary", limits.SELECTION_SUMMARY),
    (challenge_serializers.SelectionChoiceSerializer, "reason", limits.SELECTION_REASON),
    (ReviewInputSerializer, "comment", limits.REVIEW),
    (market_serializers.OfferWriteSerializer, "title", limits.OFFER_TITLE),
    (market_serializers.OfferWriteSerializer, "description", limits.OFFER_DESCRIPTION),
    (market_serializers.OrderCreateSerializer, "brief", limits.ORDER_BRIEF),
    (market_serializers.DeliverSerializer, "message", limits.ORDER_MESSAGE),
    (market_serializers.DisputeSerializer, "reason", limits.DISPUTE_REASON),
    (market_serializers.OrderMessageSerializer, "body", limits.ORDER_MESSAGE),
    (market_serializers.OrderReviewSerializer, "text", limits.ORDER_REVIEW),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "form_class, kwargs, name, limit", FORMS, ids=[f"{f[0].__name__}.{f[2]}" for f in FORMS]
)
def test_the_form_takes_the_limit_and_refuses_one_character_more(form_class, kwargs, name, limit):
    assert name not in form_class({name: "x" * limit}, **kwargs).errors
    refused = form_class({name: "x" * (limit + 1)}, **kwargs)
    assert refused.has_error(name, "max_length"), refused.errors.get(name)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "serializer_class, name, limit",
    SERIALIZERS,
    ids=[f"{s[0].__name__}.{s[1]}" for s in SERIALIZERS],
)
def test_the_serializer_takes_the_limit_and_refuses_one_character_more(
    serializer_class, name, limit
):
    accepted = serializer_class(data={name: "x" * limit}, partial=True)
    accepted.is_valid()
    assert name not in accepted.errors
    refused = serializer_class(data={name: "x" * (limit + 1)}, partial=True)
    assert not refused.is_valid()
    assert refused.errors[name][0].code == "max_length"


def test_a_delivery_link_over_its_limit_is_refused_by_the_form():
    form = market_forms.DeliverForm(
        {"message": "Here.", "links": "https://example.org/" + "a" * limits.DELIVERY_LINK}
    )
    assert form.has_error("links", "max_length")


# --- Pages that post without a form: the services say it -----------------------------------------


@pytest.mark.django_db
def test_an_over_long_review_from_the_page_is_refused_with_a_message_not_a_500(member_client):
    ReputationScore.objects.update_or_create(user=member_client.user, defaults={"pinned_level": 2})
    solution = make_solution()
    scores = {f"criterion-{c.pk}": "4" for c in solution.challenge.criteria.all()}
    response = member_client.post(
        f"/solutions/{solution.pk}/review/",
        {"comment": "x" * (limits.REVIEW + 1), **scores},
        follow=True,
    )
    assert response.status_code == 200
    assert "Keep the review to 10,000 characters." in response.content.decode()
    assert not Review.objects.exists()


@pytest.mark.django_db
def test_an_over_long_selection_summary_is_refused_and_a_long_title_cut():
    from challenges import services
    from peerhub.exceptions import DomainError

    organiser = make_organiser()
    challenge = ChallengeFactory(created_by=organiser, status=Challenge.Status.SELECTING)
    with pytest.raises(DomainError):
        services.selection_round_open(
            challenge=challenge, by=organiser, summary="x" * (limits.SELECTION_SUMMARY + 1)
        )
    round_ = services.selection_round_open(
        challenge=challenge, by=organiser, title="\u202e" + "t" * 500
    )
    assert round_.title == "t" * limits.TITLE


# --- Existing data: the migration cuts what is over a new limit, so the constraints hold ---


@pytest.mark.django_db(transaction=True)
def test_the_migration_cuts_stored_values_over_the_new_limits():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.recorder import MigrationRecorder

    before, after = ("challenges", "0004_unchanged_fork"), ("challenges", "0005_text_limits")
    solution = make_solution(body="Short.")
    comment = Comment.objects.create(
        author=UserFactory(), challenge=solution.challenge, body="Short too."
    )
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    try:
        old = MigrationExecutor(connection).loader.project_state([before]).apps
        old.get_model("challenges", "Revision").objects.filter(
            pk=solution.current_revision_id
        ).update(body="b" * (limits.SOLUTION_BODY + 5))
        old.get_model("challenges", "Comment").objects.filter(pk=comment.pk).update(
            body="c" * (limits.COMMENT + 1)
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert after in MigrationRecorder(connection).applied_migrations()
    solution.current_revision.refresh_from_db()
    comment.refresh_from_db()
    assert solution.current_revision.body == "b" * limits.SOLUTION_BODY
    assert comment.body == "c" * limits.COMMENT
