"""Recount every offer's tallies (completed orders, ratings) from its orders and reviews."""

from django.core.management.base import BaseCommand

from marketplace.services.tallies import offer_tallies_rebuild


class Command(BaseCommand):
    help = (
        "Recount each offer's completed orders and ratings from the orders and reviews, "
        "correcting any that drifted (e.g. after an edit in the admin). Safe to run any time."
    )

    def handle(self, *args, **options):
        fixed = offer_tallies_rebuild()
        self.stdout.write(self.style.SUCCESS(f"Offer tallies rebuilt: {fixed} offer(s) corrected."))
