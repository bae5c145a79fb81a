from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChallengesConfig(AppConfig):
    name = "challenges"

    def rendered_markdown(self) -> list[tuple]:
        """Markdown kept rendered as HTML (manage.py rerender_markdown): (model, source field,
        whether its mentions are linked for everyone)."""
        from .models import (
            ChallengeProposal,
            Comment,
            Revision,
            SelectionEntry,
            SelectionRound,
            UpstreamProposal,
        )

        return [
            (Comment, "body", True),
            (Revision, "body", True),
            (ChallengeProposal, "problem", True),
            (ChallengeProposal, "context", True),
            (UpstreamProposal, "message", True),
            (SelectionRound, "summary", True),
            (SelectionEntry, "reason", True),
            (SelectionEntry, "winner_reason", True),
        ]

    def ready(self) -> None:
        # The home page's figures count open challenges and published solutions: recounted
        # after a change that can move them (see peerhub.figures).
        from django.db.models.signals import post_delete, post_save

        from peerhub import figures

        from .models import Challenge, Solution

        on_save = figures.changed_on_save_of("status", "visibility")
        for model in (Challenge, Solution):
            uid = f"figures-{model._meta.model_name}"
            post_save.connect(on_save, sender=model, dispatch_uid=f"{uid}-save")
            post_delete.connect(figures.figures_changed, sender=model, dispatch_uid=uid)
        from . import pagecache

        pagecache.connect()  # writes that invalidate cached anonymous pages (issue 17)

    def profile_sections(self, *, request, viewer, member) -> list[tuple[str, dict]]:
        """Sections of a member's profile page (see peerhub.views.profile): their solutions and
        the challenges they organise, as far as the viewer may see them (kept: the profile's
        versions cover them)."""
        from django.template.loader import render_to_string

        from peerhub.hooks import rendered_section

        from . import selectors
        from .pagecache import visitors_or_own_value

        def work(reader) -> str:
            section = {
                "member_solutions": selectors.member_solutions(user=reader, member=member)[:20],
                "member_organised": selectors.member_challenges(user=reader, member=member)[:10],
            }
            return render_to_string("challenges/_profile_work.html", {"section": section})

        scopes = [f"member:{member.username}", "reputation"]
        own = viewer.pk == member.pk
        html = visitors_or_own_value(request, scopes, "profile-work", member.pk, work, own=own)
        return [rendered_section(html)]

    def sitemaps(self) -> list[tuple[str, object]]:
        """Sections of /sitemap.xml (see peerhub.seo)."""
        from .sitemaps import ChallengeSitemap, SolutionSitemap

        return [("challenges", ChallengeSitemap()), ("solutions", SolutionSitemap())]

    def site_figures(self) -> list[tuple[str, int]]:
        """Figures for the home page (see peerhub.figures.site_figures)."""
        from .models import Challenge, Solution

        public = Challenge.objects.filter(visibility=Challenge.Visibility.PUBLIC)
        return [
            (_("open challenges"), public.filter(status=Challenge.Status.OPEN).count()),
            (
                _("published solutions"),
                Solution.objects.filter(
                    status=Solution.Status.PUBLISHED, challenge__in=public.values("pk")
                ).count(),
            ),
        ]

    def home_checklist(self) -> list:
        """Steps of a new member's "start here" (see peerhub.home)."""
        from . import home

        return home.checklist_steps()

    def home_tasks(self, *, user, limit: int) -> list:
        """Upstream offers to decide and selections to run (see peerhub.home)."""
        from . import home

        return home.tasks_for(user=user, limit=limit)

    def home_sections(self, *, request, user) -> list[tuple[str, dict]]:
        """The challenges closing soon, on a member's home (see peerhub.home): as a visitor
        sees them, kept, for every member who sees what a visitor sees."""
        from . import home
        from .pagecache import visitors_value

        challenges = visitors_value(
            request, [], "home-closing", None, lambda reader: home.closing_soon(user=reader)
        )
        return [("challenges/_home_closing.html", {"challenges": challenges})]

    def staff_queues(self) -> list:
        """This app's queues on the staff dashboard, counted here (see peerhub.staff)."""
        from . import staff

        return staff.queues()

    def member_export(self, *, user) -> list:
        """This app's part of a member's data export (peerhub.exports, issue 21)."""
        from . import member_export

        return member_export.member_parts(user=user)

    def account_deletion_blockers(self, *, user) -> list:
        """What must be settled before a member may leave (see peerhub.deletion)."""
        from . import leaving

        return leaving.deletion_blockers(user=user)

    def account_anonymise(self, *, user, remove_drafts: bool) -> list[str]:
        """A leaving member's drafts, removed if asked (see peerhub.deletion)."""
        from . import leaving

        return leaving.anonymise(user=user, remove_drafts=remove_drafts)
