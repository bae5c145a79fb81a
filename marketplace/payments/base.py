"""The one interface every payment provider implements. Services talk to it, never to a
provider's library; the webhook endpoint hands it the raw request and gets a Notification."""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field


class InvalidNotification(Exception):
    """A webhook the provider did not send (bad signature, stale timestamp, bad JSON)."""


@dataclass(frozen=True)
class Checkout:
    url: str
    reference: str


@dataclass(frozen=True)
class Notification:
    """What a provider told us about one payment. `outcome` is one of SUCCEEDED, FAILED,
    PENDING, or IGNORED for event types we do not act on."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING = "pending"
    IGNORED = "ignored"

    event_id: str
    kind: str
    outcome: str
    payment_key: str = ""
    provider_reference: str = ""
    provider_charge: str = ""
    # What the provider says was paid, in minor units: compared with the payment before any
    # money moves (None when the event does not say).
    amount: int | None = None
    currency: str = ""
    payload: dict = field(default_factory=dict)


class PaymentProvider(ABC):
    """A provider must answer all of these; `charge_renewal` has a default (it cannot)."""

    name = ""

    @abstractmethod
    def start_checkout(
        self, *, payment, title: str, success_url: str, cancel_url: str, expires_at=None
    ) -> Checkout:
        """Ask the provider for a page where the payer pays `payment`, open until `expires_at`
        at most (the order's reservation). Must be idempotent on payment.idempotency_key: a
        retry returns the same checkout."""

    @abstractmethod
    def parse_notification(self, *, body: bytes, headers) -> Notification:
        """Verify and decode one webhook; raise InvalidNotification when it is not genuine. A
        missing or empty secret verifies nothing."""

    @abstractmethod
    def refund(self, *, payment, amount: int, key: str) -> str:
        """Give `amount` of a succeeded payment back to the payer; returns the reference."""

    def charge_renewal(self, *, payment) -> bool | None:
        """Charge a subscription renewal without the member (off-session). True: paid, False:
        declined, None: this provider cannot, the member pays through a checkout instead."""
        return None

    @abstractmethod
    def payout(self, *, payout) -> str:
        """Send a seller's money out; returns the provider's reference."""
