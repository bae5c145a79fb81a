"""Payment providers behind one interface (base.PaymentProvider): `sandbox` and `stripe`."""

from django.conf import settings

from peerhub.exceptions import DomainError

from .base import Checkout, InvalidNotification, Notification, PaymentProvider
from .sandbox import SandboxProvider
from .stripe_provider import StripeProvider

PROVIDERS: dict[str, type[PaymentProvider]] = {"sandbox": SandboxProvider, "stripe": StripeProvider}

__all__ = [
    "Checkout", "InvalidNotification", "Notification", "PaymentProvider", "get", "payment_provider",
    "payout_provider",
]  # fmt: skip


def get(name: str) -> PaymentProvider:
    try:
        return PROVIDERS[name]()
    except KeyError as error:
        raise DomainError(f"Unknown payment provider {name!r}.", code="not_found") from error


def payment_provider() -> PaymentProvider:
    """The provider new payments go through (settings.PEERHUB_MARKETPLACE["payment_provider"])."""
    return get(settings.PEERHUB_MARKETPLACE["payment_provider"])


def payout_provider() -> PaymentProvider:
    return get(settings.PEERHUB_MARKETPLACE.get("payout_provider", "sandbox"))
