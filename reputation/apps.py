from django.apps import AppConfig

PROFILE_EVENTS = 20


class ReputationConfig(AppConfig):
    name = "reputation"

    def rendered_markdown(self) -> list[tuple]:
        """See ChallengesConfig.rendered_markdown."""
        from .models import Review

        return [(Review, "comment", True)]

    def ready(self) -> None:
        from . import pagecache, signals  # noqa: F401  (connects the fact listeners)

        pagecache.connect()  # writes that invalidate cached anonymous pages (issue 17)

    def request_user_annotations(self) -> dict:
        """The trust level's inputs, loaded with the request's user (peerhub.auth_backends)."""
        from . import selectors

        return selectors.request_user_annotations()

    def reputation_fact_sources(self) -> list:
        """The published selection rounds' lines and confirmed spam or abuse, in the full rebuild
        like any app's facts."""
        from .moderation.facts import SOURCE as MODERATION
        from .selection_credit import SOURCE

        return [SOURCE, MODERATION]

    def solution_annotations(self, *, user) -> list[dict]:
        """Read with the solution on its page (challenges.selectors.solution_get): its vote
        tally and the member's own vote, which the vote widget shows."""
        from . import selectors

        return [selectors.vote_tally_annotations(user)]

    def solution_sections(self, *, request, solution) -> list[tuple[str, dict]]:
        """Sections of a solution page (see challenges.views.solutions.solution_detail): the
        vote widget with the review means, then the reviews and the review form."""
        from . import presenters

        return presenters.solution_panel(request=request, solution=solution)

    def solution_row_figures(self, *, request, solutions) -> dict[int, list[tuple[str, int]]]:
        """The vote score of each solution row on a challenge page."""
        from django.utils.translation import gettext

        from . import presenters

        presenters.load_row_facts(solutions)  # with solution_row_sections: one query in all
        label = gettext("votes")
        return {s.pk: [(label, s.reputation_votes)] for s in solutions}

    def solution_sorts(self) -> list[tuple[str, str, object]]:
        """Orderings the challenge page offers (key, label, queryset → queryset); the first
        one is its default: by rank."""
        from django.utils.translation import gettext_lazy as _

        from . import rankings

        return [
            ("rank", _("Rank"), rankings.order_by_rank),
            ("reviewed", _("Most reviewed"), rankings.order_by_reviews),
        ]

    def solution_row_sections(self, *, request, solutions) -> dict[int, list[tuple[str, dict]]]:
        """Each solution row's fitness bar and "why this rank": read with the vote scores, in one
        query for the page (presenters.load_row_facts)."""
        from . import presenters, rankings

        presenters.load_row_facts(solutions)
        return {
            s.pk: [
                (
                    "reputation/_fitness_row.html",
                    rankings.score_context(
                        s.reputation_score,
                        withdrawn=s.status == s.Status.WITHDRAWN,
                        copy=s.unchanged_fork,
                    ),
                )
            ]
            for s in solutions
        }

    def challenge_links(self, *, request, challenge) -> list[tuple[str, str]]:
        """Links the challenge page adds: its evolution view, and to members who may review,
        the solutions that most need a review (reputation.review_queue)."""
        from django.urls import reverse
        from django.utils.translation import gettext

        links = [
            (gettext("Evolution view"), reverse("reputation:evolution", args=[challenge.slug]))
        ]
        if request.user.is_authenticated and request.user.has_perm("reputation.add_review"):
            links.append(
                (gettext("To review"), reverse("reputation:to-review", args=[challenge.slug]))
            )
        return links

    def profile_sections(self, *, request, viewer, member) -> list[tuple[str, dict]]:
        """The reputation panel of a profile (see peerhub.views.profile): score, trust level,
        privileges, the next level, the reputation chart and the latest ledger lines explained
        (kept: the ledger's syncs bump the profile)."""
        from django.template.loader import render_to_string
        from django.utils.translation import gettext

        from challenges.pagecache import visitors_or_own_value
        from peerhub.hooks import rendered_section

        from . import chart, presenters, selectors

        def panel(reader) -> str:
            events = selectors.reputation_events(member)[: PROFILE_EVENTS + 1]
            lines = presenters.event_lines(viewer=reader, events=events)
            section = {
                "member": member,
                "summary": selectors.reputation_summary(member),
                "lines": lines[:PROFILE_EVENTS],
                "more_events": len(lines) > PROFILE_EVENTS,
                "chart": chart.reputation_chart(
                    chart.reputation_series(member),
                    label=gettext("Reputation of {name} over time").format(name=member.name),
                ),
            }
            return render_to_string("reputation/_profile_panel.html", {"section": section})

        html = visitors_or_own_value(
            request,
            [f"member:{member.username}", "reputation"],
            "profile-reputation",
            member.pk,
            panel,
            own=viewer.pk == member.pk,
        )
        return [rendered_section(html)]

    def home_checklist(self) -> list:
        """The "first vote" step of a new member's "start here" (see peerhub.home)."""
        from . import home

        return home.checklist_steps()

    def home_sections(self, *, request, user) -> list[tuple[str, dict]]:
        """The solutions rising this week, on a member's home (see peerhub.home), and to members
        who may review, the way to the solutions that most need a review in every challenge
        (reputation.review_queue)."""
        from . import home

        rising = home.rising_solutions(request)
        sections = [("reputation/_home_rising.html", {"solutions": rising})]
        if user.has_perm("reputation.add_review"):
            sections.append(("reputation/_home_to_review.html", {}))
        return sections

    def staff_queues(self) -> list:
        """This app's queues on the staff dashboard, counted here (see peerhub.staff)."""
        from . import staff

        return staff.queues()

    def member_export(self, *, user) -> list:
        """This app's part of a member's data export (peerhub.exports, issue 21)."""
        from . import member_export

        return member_export.member_parts(user=user)
