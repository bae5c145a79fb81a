from django.core.management.base import BaseCommand

from challenges.models import Comment, Revision
from challenges.rendering import rerender_markdown


class Command(BaseCommand):
    help = (
        "Render the stored HTML of comments and revisions again from their Markdown: after a "
        "change to peerhub.markdown, or with --missing for rows that have none yet."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--missing", action="store_true", help="Only rows whose HTML is still empty."
        )

    def handle(self, *args, missing: bool = False, **options):
        for model in (Comment, Revision):
            written = rerender_markdown(model, missing_only=missing)
            self.stdout.write(f"{model._meta.verbose_name_plural}: {written} rendered")
