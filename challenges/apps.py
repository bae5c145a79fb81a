from django.apps import AppConfig


class ChallengesConfig(AppConfig):
    name = "challenges"

    def ready(self) -> None:
        from . import pagecache

        pagecache.connect()  # writes that invalidate cached anonymous pages (issue 17)

    def profile_sections(self, *, viewer, member) -> list[tuple[str, dict]]:
        """Sections of a member's profile page (see peerhub.views.profile): their solutions and
        the challenges they organise, as far as the viewer may see them."""
        from . import selectors

        solutions = selectors.member_solutions(user=viewer, member=member)
        organised = selectors.member_challenges(user=viewer, member=member)
        return [
            (
                "challenges/_profile_work.html",
                {"member_solutions": solutions[:20], "member_organised": organised[:10]},
            )
        ]

    def site_figures(self) -> list[tuple[str, int]]:
        """Figures for the home page (see peerhub.selectors.site_figures)."""
        from .models import Challenge, Solution

        public = Challenge.objects.filter(visibility=Challenge.Visibility.PUBLIC)
        return [
            ("open challenges", public.filter(status=Challenge.Status.OPEN).count()),
            (
                "published solutions",
                Solution.objects.filter(
                    status=Solution.Status.PUBLISHED, challenge__in=public.values("pk")
                ).count(),
            ),
        ]
