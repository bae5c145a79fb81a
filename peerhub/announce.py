"""Status messages of htmx actions, read out by screen readers.

Every page has one persistent, polite live region (`#site-status` in base.html). An htmx response
names its message in an `HX-Trigger` header (`peerhub:status`), and site.js writes it into that
region: a region that is already in the page is announced reliably, where one arriving inside the
swapped fragment is often missed. The fragment may still show the message where it belongs."""

from django.http import HttpResponse
from django_htmx.http import trigger_client_event

EVENT = "peerhub:status"


def announce(response: HttpResponse, message: str, *, error: bool = False) -> HttpResponse:
    """The response, carrying `message` for the page's live region (nothing when empty)."""
    if message:
        trigger_client_event(response, EVENT, {"message": str(message), "error": error})
    return response
