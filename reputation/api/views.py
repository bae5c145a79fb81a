"""API twins of the reputation pages: vote, review, and a member's reputation. Lookups go
through challenges.selectors.solution_get, so solutions the member may not see are 404; the
services' refusals become the JSON error shape (peerhub.api.errors)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from challenges.pagecache import api_as_visitors_see, kept_solution, visitors_or_own_value
from challenges.selectors import challenge_get, solution_get
from peerhub.api.pagination import PageNumberPagination
from peerhub.models import User

from .. import evolution, leaderboards, presenters, rankings, selectors, services
from ..models import Review, SolutionScore
from . import serializers as s


def _vote_state(user, solution) -> dict:
    tally = selectors.vote_tally(solution)
    mine = selectors.votes_by(user, [solution.pk]).get(solution.pk)
    return {"solution": solution.pk, **tally, "my_vote": mine}


class SolutionVoteView(APIView):
    """The member's vote on a solution. POST votes (again: changes the vote), DELETE removes
    it; both answer the tally and the member's vote."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=s.VoteInputSerializer, responses=s.VoteStateSerializer)
    def post(self, request, pk: int):
        solution = solution_get(user=request.user, pk=pk)
        serializer = s.VoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.vote_cast(
            voter=request.user, solution=solution, value=serializer.validated_data["value"]
        )
        return Response(_vote_state(request.user, solution))

    @extend_schema(request=None, responses={200: s.VoteStateSerializer})
    def delete(self, request, pk: int):
        solution = solution_get(user=request.user, pk=pk)
        services.vote_remove(voter=request.user, solution=solution)
        return Response(_vote_state(request.user, solution))


class SolutionReviewListView(generics.GenericAPIView):
    """Reviews of a solution, newest first. POST creates the member's review, or edits it
    (200 instead of 201): a comment and a score from 1 to 5 for every criterion."""

    serializer_class = s.ReviewSerializer
    filter_backends = []

    def get_permissions(self):
        if self.request.method == "POST":
            return [permissions.IsAuthenticated()]
        return [permissions.AllowAny()]

    def get_queryset(self):
        return selectors.solution_reviews(self.solution)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Who may see it, without the figures its page shows (a busy solution's tally).
        self.solution = kept_solution(request, kwargs["pk"], figures=False)

    @extend_schema(responses=s.ReviewSerializer(many=True))
    def get(self, request, pk: int):
        def answer(user) -> Response:
            rows = self.paginate_queryset(self.get_queryset())
            return self.get_paginated_response(s.ReviewSerializer(rows, many=True).data)

        # The same for every reader who may see the solution: the visitors' answer for every
        # member who sees what a visitor sees, kept under the solution's page versions.
        return api_as_visitors_see(request, [f"solution:{pk}"], f"api-reviews:{pk}", answer)

    @extend_schema(
        request=s.ReviewInputSerializer,
        responses={200: s.ReviewSerializer, 201: s.ReviewSerializer},
    )
    def post(self, request, pk: int):
        serializer = s.ReviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        existed = Review.objects.filter(solution=self.solution, reviewer=request.user).exists()
        review = services.review_save(
            reviewer=request.user,
            solution=self.solution,
            comment=serializer.validated_data["comment"],
            scores=serializer.validated_data["scores"],
        )
        review = selectors.solution_reviews(self.solution).get(pk=review.pk)
        return Response(
            s.ReviewSerializer(review).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )


class ReputationPagination(PageNumberPagination):
    """The usual page of ledger lines, with the member's summary alongside."""

    summary: dict = {}

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["summary"] = s.ReputationSummarySerializer(self.summary).data
        return response

    def get_paginated_response_schema(self, schema):
        answer = super().get_paginated_response_schema(schema)
        answer["properties"]["summary"] = {
            "type": "object",
            "description": "Total, trust level, privileges, and what the next level needs.",
            "properties": {
                "total": {"type": "string", "format": "decimal"},
                "total_points": {
                    "type": "integer",
                    "description": "The same reputation rounded to a whole number, to show.",
                },
                "level": {"type": "integer"},
                "level_name": {"type": "string"},
                "pinned": {"type": "boolean"},
                "privileges": {"type": "array", "items": {"type": "string"}},
                "next_level": {"type": "integer", "nullable": True},
                "next_level_name": {"type": "string", "nullable": True},
                "next_needs": {"type": "integer", "nullable": True},
                "next_unlocks": {"type": "array", "items": {"type": "string"}},
            },
        }
        answer["required"] = [*answer.get("required", []), "summary"]
        return answer


class UserReputationView(generics.GenericAPIView):
    """A member's reputation: the summary and their ledger, newest first, each line explained."""

    serializer_class = s.ReputationEventSerializer
    permission_classes = [permissions.AllowAny]
    pagination_class = ReputationPagination
    filter_backends = []

    @extend_schema(responses=s.ReputationEventSerializer(many=True))
    def get(self, request, username: str):
        member = get_object_or_404(User, username=username, is_active=True)

        def answer(viewer) -> dict:
            self.paginator.summary = selectors.reputation_summary(member)
            events = self.paginate_queryset(selectors.reputation_events(member))
            lines = presenters.event_lines(viewer=viewer, events=events)
            return self.get_paginated_response(
                s.ReputationEventSerializer(lines, many=True).data
            ).data

        # Kept like the page (reputation.views.history): once for everyone who sees what a
        # visitor sees, and the member's own for them alone. Its links are absolute.
        return Response(
            visitors_or_own_value(
                request,
                [f"member:{member.username}", "reputation", "lists"],
                "api-user-reputation",
                (member.pk, request.get_host(), request.GET.urlencode()),
                answer,
                own=request.user.pk == member.pk,
            )
        )


class LeaderboardView(generics.GenericAPIView):
    """Members ranked by reputation: all time (the stored score) or the last 30 days, optionally
    for one challenge or one manifesto value (ledger lines under the daily cap). Lines about
    challenges the viewer may not see never count; an unknown or invisible challenge, or an
    unknown value, is 404; a bad period is 400."""

    serializer_class = s.StandingSerializer
    permission_classes = [permissions.AllowAny]
    filter_backends = []

    @extend_schema(
        parameters=[s.LeaderboardQuerySerializer], responses=s.StandingSerializer(many=True)
    )
    def get(self, request):
        query = s.LeaderboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        challenge = value = None
        if "challenge" in params:
            challenge = get_object_or_404(
                leaderboards.board_challenges(request.user), slug=params["challenge"]
            )
        if "value" in params:
            value = get_object_or_404(leaderboards.board_values(), slug=params["value"])

        def compute(user) -> Response:
            board = leaderboards.leaderboard(
                viewer=user, period=params["period"], challenge=challenge, value=value
            )
            rows = self.paginate_queryset(board)
            return self.get_paginated_response(s.StandingSerializer(rows, many=True).data)

        return api_as_visitors_see(request, ["lists", "boards"], "api-leaderboard", compute)


# --- Fitness, rankings and evolution (issue 5) -------------------------------------------------


class ChallengeRankingView(generics.GenericAPIView):
    """A challenge's ranked solutions, best first, each with its fitness explained."""

    serializer_class = s.SolutionScoreSerializer
    permission_classes = [permissions.AllowAny]
    filter_backends = []

    @extend_schema(responses=s.SolutionScoreSerializer(many=True))
    def get(self, request, slug: str):
        challenge = challenge_get(user=request.user, slug=slug)

        def compute(_user) -> Response:
            rows = self.paginate_queryset(
                rankings.challenge_ranking(challenge).select_related("challenge")
            )
            return self.get_paginated_response(s.SolutionScoreSerializer(rows, many=True).data)

        scopes = [f"challenge:{challenge.slug}"]
        return api_as_visitors_see(
            request, scopes, f"api-challenge-rankings:{challenge.slug}", compute
        )


class SolutionScoreView(generics.GenericAPIView):
    """A solution's fitness, rank and components (404 until its first recompute)."""

    serializer_class = s.SolutionScoreSerializer
    permission_classes = [permissions.AllowAny]
    filter_backends = []

    def get(self, request, pk: int):
        solution = solution_get(user=request.user, pk=pk)
        score = get_object_or_404(
            # A row without components awaits its first recompute (reputation.review_counts).
            SolutionScore.objects.select_related("solution__author", "challenge").exclude(
                components={}
            ),
            solution=solution,
        )
        return Response(s.SolutionScoreSerializer(score).data)


class PlatformRankingView(generics.GenericAPIView):
    """Across the challenges the member may see: `fittest` (solutions published in the last 30
    days, by fitness) or `built-upon` (lineage roots by published descendants of others)."""

    serializer_class = s.SolutionScoreSerializer
    permission_classes = [permissions.AllowAny]
    filter_backends = []

    @extend_schema(
        parameters=[s.RankingQuerySerializer], responses=s.SolutionScoreSerializer(many=True)
    )
    def get(self, request):
        query = s.RankingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)

        def compute(user) -> Response:
            scores = rankings.platform_ranking(viewer=user, board=query.validated_data["board"])
            rows = self.paginate_queryset(scores)
            return self.get_paginated_response(s.SolutionScoreSerializer(rows, many=True).data)

        return api_as_visitors_see(request, ["lists", "boards"], "api-rankings", compute)


class EvolutionView(generics.GenericAPIView):
    """The evolution view's data: fitness per generation, the lineage forest with each tree's
    fittest branch, and the published selection rounds."""

    serializer_class = s.EvolutionSerializer
    permission_classes = [permissions.AllowAny]
    filter_backends = []
    pagination_class = None

    def get(self, request, slug: str):
        challenge = challenge_get(user=request.user, slug=slug)
        result = evolution.evolution(user=request.user, challenge=challenge)
        data = {
            "challenge": challenge.slug,
            "generations": result.generations,
            "lineages": [
                {
                    "root": lineage.root.id if lineage.root.visible else None,
                    "size": lineage.size,
                    "fittest_branch": sorted(branch),
                    "tree": lineage.root.as_dict(),
                }
                for lineage, branch in result.lineages
            ],
            "more_lineages": result.more_lineages,
            "rounds": [
                {
                    "number": r.number,
                    "title": str(r),
                    "published_at": r.published_at,
                    "winners": [e.solution_id for e in r.entries.all() if e.is_winner],
                    "shortlisted": [e.solution_id for e in r.entries.all()],
                }
                for r in result.rounds
            ],
        }
        return Response(s.EvolutionSerializer(data).data)
