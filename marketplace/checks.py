"""Money configuration that fails closed: system checks tagged "payments".

runserver and migrate stop on their errors; gunicorn (peerhub/wsgi.py) and Celery
(peerhub/celery.py) run them through peerhub.startup before they serve anything. Production-ness
comes from PEERHUB_MARKETPLACE["production"], decided from the DEBUG variable when the settings
were read (pytest-django turns settings.DEBUG off in every test, so DEBUG itself cannot tell).

Ids are stable: README.md ("Payments in production") and the tests name them.
"""

from django.conf import settings
from django.core import checks

from .payments import PROVIDERS

TAG = "payments"
# Providers that can send a seller's money out. Stripe's payout() refuses: it would need Stripe
# Connect, which PeerHub does not use yet.
PAYOUT_PROVIDERS = {"sandbox"}


def payment_provider_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    config = settings.PEERHUB_MARKETPLACE
    name = config["payment_provider"]
    production = config.get("production", False)
    if name not in PROVIDERS:
        return [
            checks.Error(
                f"PAYMENT_PROVIDER is {name!r}, which PeerHub does not know.",
                hint=f"Choose one of: {', '.join(sorted(PROVIDERS))}.",
                id="marketplace.E001",
            )
        ]
    errors: list[checks.CheckMessage] = []
    if name == "sandbox":
        if production and not config.get("sandbox_in_production", {}).get("payments"):
            errors.append(
                checks.Error(
                    "Payments go through the sandbox, which takes no real money, and DEBUG is off.",
                    hint="Set PAYMENT_PROVIDER=stripe with STRIPE_SECRET_KEY and "
                    "STRIPE_WEBHOOK_SECRET; or, for a demo that moves no money, name the sandbox "
                    "on purpose: PAYMENT_PROVIDER=sandbox and PAYMENT_SANDBOX_IN_PRODUCTION=1 "
                    "(every page then says so).",
                    id="marketplace.E002",
                )
            )
        if not settings.SANDBOX_WEBHOOK_SECRET:
            errors.append(
                checks.Error(
                    "SANDBOX_WEBHOOK_SECRET is empty: no sandbox payment could ever be confirmed.",
                    hint="Unset it (it is then derived from SECRET_KEY) or give it a long value.",
                    id="marketplace.E007",
                )
            )
    if name == "stripe":
        # In development a missing secret only warns: the provider refuses at its first use.
        level, letter = (checks.Error, "E") if production else (checks.Warning, "W")
        for variable, number, consequence in [
            ("STRIPE_SECRET_KEY", "003", "no checkout or refund can be made"),
            ("STRIPE_WEBHOOK_SECRET", "004", "no payment can ever be confirmed"),
        ]:
            if not getattr(settings, variable):
                errors.append(
                    level(
                        f"PAYMENT_PROVIDER is stripe but {variable} is empty: {consequence}.",
                        hint=f"Set {variable} (from the Stripe dashboard).",
                        id=f"marketplace.{letter}{number}",
                    )
                )
    return errors


def payout_provider_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    config = settings.PEERHUB_MARKETPLACE
    name = config.get("payout_provider", "sandbox")
    if name not in PAYOUT_PROVIDERS:
        return [
            checks.Error(
                f"MARKETPLACE_PAYOUT_PROVIDER is {name!r}, which cannot pay sellers out"
                + (" (Stripe would need Stripe Connect)." if name == "stripe" else "."),
                hint="Only the sandbox pays out: MARKETPLACE_PAYOUT_PROVIDER=sandbox.",
                id="marketplace.E005",
            )
        ]
    production = config.get("production", False)
    if production and not config.get("sandbox_in_production", {}).get("payouts"):
        return [
            checks.Error(
                "Payouts go through the sandbox, which sends sellers no money, and DEBUG is off.",
                hint="Only the sandbox pays out so far. To record payouts here and pay sellers "
                "by hand, or for a demo, name it on purpose: MARKETPLACE_PAYOUT_PROVIDER=sandbox "
                "and PAYMENT_SANDBOX_IN_PRODUCTION=1 (every page then says so).",
                id="marketplace.E006",
            )
        ]
    return []
