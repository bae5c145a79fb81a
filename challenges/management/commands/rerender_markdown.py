from django.core.management.base import BaseCommand

from challenges.rendering import rerender_markdown
from peerhub.hooks import collect


class Command(BaseCommand):
    help = (
        "Render the stored HTML of every text kept rendered (comments, revisions, proposals, "
        "selection reasons, offers, orders, reviews: each app's `rendered_markdown` hook) again "
        "from its Markdown: after a change to peerhub.markdown, or with --missing for rows that "
        "have none yet."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--missing", action="store_true", help="Only rows whose HTML is still empty."
        )

    def handle(self, *args, missing: bool = False, **options):
        for model, source, link_mentions in collect("rendered_markdown"):
            written = rerender_markdown(
                model, source=source, missing_only=missing, link_mentions=link_mentions
            )
            name = model._meta.verbose_name_plural
            self.stdout.write(f"{name} ({source}): {written} rendered")
