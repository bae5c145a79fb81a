"""Query parameters of the challenges API lists, validated by django-filter: a bad value is a 400
naming the parameter, and drf-spectacular documents every parameter from these classes."""

from django_filters import rest_framework as filters

from peerhub.api.filters import FilterSet
from peerhub.api.filters import IntegerFilter as IdFilter

from .. import selectors
from ..models import Challenge, ChallengeProposal, Comment, Solution, UpstreamProposal


def _sort_choices(sorts) -> list[tuple[str, str]]:
    return [(name, name) for name in sorts]


class ChallengeFilter(FilterSet):
    """The parameters of `selectors.challenge_list`, which holds the list's rules (visibility,
    search, sorts): this class only validates, documents and forwards them."""

    status = filters.ChoiceFilter(choices=Challenge.Status.choices)
    tag = filters.CharFilter(help_text="A tag's slug.")
    value = filters.CharFilter(help_text="The slug of a manifesto value the challenge serves.")
    search = filters.CharFilter(help_text="Words in the title or the summary.")
    ordering = filters.ChoiceFilter(
        choices=_sort_choices(selectors.CHALLENGE_SORTS),
        help_text="newest (default); closing: open challenges with a deadline, soonest first; "
        "active: latest activity first; solutions: most solutions first.",
    )

    class Meta:
        model = Challenge
        fields = ["status", "tag", "value", "search", "ordering"]

    def __init__(self, *args, viewer=None, **kwargs):
        """`viewer`: whose list it is (the request's member when not given)."""
        super().__init__(*args, **kwargs)
        self.viewer = viewer if viewer is not None else getattr(self.request, "user", None)

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        return selectors.challenge_list(
            user=self.viewer,
            status=data.get("status") or "",
            tag=data.get("tag") or "",
            value=data.get("value") or "",
            q=data.get("search") or "",
            sort=data.get("ordering") or "newest",
        ).prefetch_related("criteria")


class ChallengeProposalFilter(FilterSet):
    """The parameters of `selectors.proposal_list`; without `status`, every proposal."""

    status = filters.ChoiceFilter(choices=ChallengeProposal.Status.choices)
    ordering = filters.ChoiceFilter(
        choices=[("backed", "backed"), ("newest", "newest")],
        help_text="backed (default): most backed first; newest: newest first.",
    )

    class Meta:
        model = ChallengeProposal
        fields = ["status", "ordering"]

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        return selectors.proposal_list(
            status=data.get("status") or "", sort=data.get("ordering") or "backed"
        ).select_related("decided_by")


# The solutions API's sorts: the page's, but "newest" by posting time, which every solution has
# (drafts have no publication time), so that a cursor can follow it (KeysetPagination).
API_SOLUTION_SORTS = {
    "newest": ["-created_at", "-pk"],
    "forked": selectors.SOLUTION_SORTS["forked"],
    "discussed": selectors.SOLUTION_SORTS["discussed"],
}


class SolutionFilter(FilterSet):
    challenge = filters.CharFilter(field_name="challenge__slug", help_text="A challenge's slug.")
    author = filters.CharFilter(field_name="author__username", help_text="The author's username.")
    status = filters.ChoiceFilter(choices=Solution.Status.choices)
    root = IdFilter(
        field_name="root_id", help_text="The id of a lineage's root: the whole family tree."
    )
    ordering = filters.ChoiceFilter(
        choices=_sort_choices(API_SOLUTION_SORTS),
        method="filter_ordering",
        help_text="newest (default): latest posted first; forked: most forked first; "
        "discussed: most comments first.",
    )

    class Meta:
        model = Solution
        fields = ["challenge", "author", "status", "root", "ordering"]

    def filter_ordering(self, queryset, name, value):
        return queryset.order_by(*API_SOLUTION_SORTS[value])


class UpstreamProposalFilter(FilterSet):
    fork = IdFilter(field_name="fork_id", help_text="The offering fork's id.")
    parent = IdFilter(field_name="parent_id", help_text="The parent solution's id.")
    status = filters.ChoiceFilter(choices=UpstreamProposal.Status.choices)

    class Meta:
        model = UpstreamProposal
        fields = ["fork", "parent", "status"]


class CommentFilter(FilterSet):
    challenge = filters.CharFilter(
        field_name="challenge__slug",
        help_text="Comments on this challenge (its own discussion, not its solutions').",
    )
    solution = IdFilter(field_name="solution_id", help_text="Comments on a solution.")

    class Meta:
        model = Comment
        fields = ["challenge", "solution"]
