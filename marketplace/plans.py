"""The plans: rows in the Plan table (prices edited in the admin), created from
settings.PEERHUB_MARKETPLACE["plans"] when missing (the first migration does the same)."""

from django.conf import settings
from django.db.models import QuerySet

from .models import Plan


def plans_ensure() -> QuerySet[Plan]:
    """Every plan named in settings exists; existing rows (and their prices) are left alone."""
    config = settings.PEERHUB_MARKETPLACE
    existing = set(Plan.objects.values_list("code", flat=True))
    for position, (code, plan) in enumerate(config["plans"].items()):
        if code not in existing:
            Plan.objects.get_or_create(
                code=code,
                defaults={
                    "name": plan["name"],
                    "monthly_price": plan["monthly"],
                    "yearly_price": plan["yearly"],
                    "currency": config["currency"],
                    "is_premium": code != Plan.FREE,
                    "position": position,
                },
            )
    return Plan.objects.all()
