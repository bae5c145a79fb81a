from django.apps import AppConfig


class ChallengesConfig(AppConfig):
    name = "challenges"

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
