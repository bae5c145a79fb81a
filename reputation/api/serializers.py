"""Serializers of the reputation API: input ones parse types and ranges only (the rules stay in
reputation.services); output ones shape what the selectors and presenters return."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from challenges.api.serializers import UserRefSerializer
from peerhub import limits
from peerhub.api.fields import ReputationPointsField

from ..models import Review, ReviewScore


class VoteInputSerializer(serializers.Serializer):
    value = serializers.ChoiceField(choices=[1, -1], help_text="1 votes up, -1 votes down.")


class VoteStateSerializer(serializers.Serializer):
    solution = serializers.IntegerField()
    score = serializers.IntegerField(help_text="Upvotes minus downvotes.")
    up = serializers.IntegerField()
    down = serializers.IntegerField()
    my_vote = serializers.IntegerField(
        allow_null=True, help_text="The member's vote: 1, -1, or null when they have none."
    )


class ReviewScoreInputSerializer(serializers.Serializer):
    criterion = serializers.IntegerField(help_text="Id of one of the challenge's criteria.")
    score = serializers.IntegerField(min_value=1, max_value=5)


class ReviewInputSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=limits.REVIEW, trim_whitespace=True)
    scores = ReviewScoreInputSerializer(many=True, allow_empty=False)

    def validate_scores(self, value):
        criteria = [row["criterion"] for row in value]
        if len(criteria) != len(set(criteria)):
            raise serializers.ValidationError(_("Score each criterion once."))
        return {row["criterion"]: row["score"] for row in value}


class ReviewScoreSerializer(serializers.ModelSerializer):
    criterion_name = serializers.CharField(source="criterion.name", read_only=True)

    class Meta:
        model = ReviewScore
        fields = ["criterion", "criterion_name", "score"]
        read_only_fields = fields


class ReviewSerializer(serializers.ModelSerializer):
    reviewer = UserRefSerializer(read_only=True)
    scores = ReviewScoreSerializer(many=True, read_only=True)

    class Meta:
        model = Review
        fields = [
            "id",
            "solution",
            "reviewer",
            "comment",
            "mean_score",
            "scores",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ReputationEventSerializer(serializers.Serializer):
    """A ledger line explained; solution ids the viewer may not see are null."""

    id = serializers.IntegerField(source="event.id")
    kind = serializers.CharField(source="event.kind")
    amount = serializers.DecimalField(source="event.amount", max_digits=10, decimal_places=2)
    fact_at = serializers.DateTimeField(source="event.fact_at")
    description = serializers.CharField(source="text")
    correction = serializers.BooleanField()
    solution = serializers.SerializerMethodField()
    actor = serializers.SerializerMethodField()

    def get_solution(self, line) -> int | None:
        return line.solution.pk if line.solution else None

    def get_actor(self, line) -> str | None:
        actor = line.event.actor
        # Downvoters stay anonymous, in the API as on the page.
        if actor is None or line.event.kind == "downvote_received":
            return None
        return actor.username


class ReputationSummarySerializer(serializers.Serializer):
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    total_points = ReputationPointsField(source="total")
    level = serializers.IntegerField()
    level_name = serializers.CharField()
    pinned = serializers.BooleanField()
    privileges = serializers.ListField(child=serializers.CharField())
    next_level = serializers.IntegerField(allow_null=True)
    next_level_name = serializers.CharField(allow_null=True)
    next_needs = serializers.IntegerField(
        allow_null=True, help_text="Reputation the next level needs (null: a verified address)."
    )
    next_unlocks = serializers.ListField(child=serializers.CharField())


class LeaderboardQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(
        choices=["all", "30d"],
        default="all",
        help_text="all: every line; 30d: lines whose fact day is within the last 30 days.",
    )
    challenge = serializers.SlugField(
        required=False,
        allow_unicode=True,
        help_text="Only lines about solutions of this challenge (its slug).",
    )
    value = serializers.SlugField(
        required=False,
        help_text="Only lines about solutions of challenges serving this manifesto value.",
    )


class StandingSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    member = UserRefSerializer(source="user")
    score = serializers.DecimalField(max_digits=12, decimal_places=2)
    score_points = ReputationPointsField(source="score")
    trust_level = serializers.IntegerField(source="level")
    trust_level_name = serializers.CharField(source="level_name")


# --- Fitness and rankings --------------------------------------------------------------------


class ScoreComponentSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    detail = serializers.CharField(help_text="What was measured, in words.")
    weight = serializers.FloatField()
    value = serializers.FloatField(help_text="The measured value, from 0 to 1.")
    points = serializers.DecimalField(
        max_digits=8, decimal_places=4, help_text="100 x weight x value; they sum to fitness."
    )


class SolutionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    author = UserRefSerializer()
    generation = serializers.IntegerField()
    status = serializers.CharField()


class SolutionScoreSerializer(serializers.Serializer):
    solution = SolutionRefSerializer()
    challenge = serializers.CharField(source="challenge.slug", read_only=True)
    fitness = serializers.DecimalField(max_digits=8, decimal_places=4)
    rank = serializers.IntegerField(allow_null=True, help_text="null: withdrawn, no rank.")
    built_upon = serializers.IntegerField(help_text="Published descendants by other members.")
    components = serializers.SerializerMethodField()
    computed_at = serializers.DateTimeField(
        help_text="When these figures were computed: a later recompute that finds them the same "
        "leaves the score, and this time, as they were."
    )

    @extend_schema_field(ScoreComponentSerializer(many=True))
    def get_components(self, score):
        from ..rankings import explanation

        return ScoreComponentSerializer(explanation(score), many=True).data


class GenerationSerializer(serializers.Serializer):
    generation = serializers.IntegerField()
    count = serializers.IntegerField()
    best = serializers.DecimalField(max_digits=8, decimal_places=2)
    mean = serializers.DecimalField(max_digits=8, decimal_places=2)


class EvolutionLineageSerializer(serializers.Serializer):
    root = serializers.IntegerField(allow_null=True)
    size = serializers.IntegerField()
    fittest_branch = serializers.ListField(child=serializers.IntegerField())
    tree = serializers.DictField(help_text="Nested nodes, as the lineage endpoint answers.")


class EvolutionRoundSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    title = serializers.CharField()
    published_at = serializers.DateTimeField()
    winners = serializers.ListField(child=serializers.IntegerField())
    shortlisted = serializers.ListField(child=serializers.IntegerField())


class EvolutionSerializer(serializers.Serializer):
    challenge = serializers.CharField()
    generations = GenerationSerializer(many=True)
    lineages = EvolutionLineageSerializer(many=True)
    more_lineages = serializers.IntegerField()
    rounds = EvolutionRoundSerializer(many=True)


class RankingQuerySerializer(serializers.Serializer):
    board = serializers.ChoiceField(choices=["fittest", "built-upon"], default="fittest")
