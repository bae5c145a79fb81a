from django.contrib import messages
from django.shortcuts import redirect

from peerhub.exceptions import DomainError


def refuse(request, error: DomainError, to):
    """A refused action: say why, and go back to where the member was."""
    messages.error(request, error.message)
    return redirect(to)


def page_number(request) -> str | None:
    return request.GET.get("page")
