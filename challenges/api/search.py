from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.generics import GenericAPIView

from peerhub.pagecache import Fragments

from .. import search as search_module
from ..models import Challenge


class SearchHitSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="challenge, solution or member")
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField()
    snippet = serializers.CharField(help_text="Escaped HTML; the matches are in <mark>.")
    rank = serializers.FloatField()
    detail = serializers.CharField()


class SearchParamsSerializer(serializers.Serializer):
    q = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=search_module.KINDS, required=False, default="")
    status = serializers.ChoiceField(choices=Challenge.Status.values, required=False, default="")
    value = serializers.SlugField(required=False, default="")


class SearchView(GenericAPIView):
    """Search challenges, solutions and members: `?q=words` (web-search syntax on PostgreSQL:
    "a phrase", -without, or), filtered by `kind`, challenge `status` and `value`. Results are
    grouped by kind (challenges, then solutions, then members), best first within each."""

    permission_classes = [permissions.AllowAny]
    serializer_class = SearchHitSerializer
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True),
            OpenApiParameter("kind", str, enum=list(search_module.KINDS)),
            OpenApiParameter("status", str, enum=list(Challenge.Status.values)),
            OpenApiParameter("value", str, description="A manifesto value's slug."),
        ],
        responses=SearchHitSerializer(many=True),
    )
    def get(self, request):
        params = SearchParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        results = search_module.search(
            user=request.user,
            **params.validated_data,
            limit=100,
            kept=Fragments(request, ["lists"]),
        )
        hits = [hit for kind in search_module.KINDS for hit in results.get(kind, [])]
        page = self.paginate_queryset(hits)
        return self.get_paginated_response(SearchHitSerializer(page, many=True).data)
