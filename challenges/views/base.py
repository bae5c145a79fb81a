from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

from peerhub.exceptions import DomainError


def refuse(request, error: DomainError, to):
    """A refused action: say why, and go back to where the member was."""
    messages.error(request, error.message)
    return redirect(to)


def perform(request, action, *, done: str, then, back):
    """Run one service call for a POST: on success say `done` and go to `then` (an object or a
    callable taking the call's result); when the rules refuse, say why and go back to `back`."""
    try:
        result = action()
    except DomainError as error:
        return refuse(request, error, back)
    messages.success(request, done)
    return redirect(then(result) if callable(then) else then)


def mentions_url(target=None, **query) -> str:
    """Where the editor asks for members to @mention while writing about `target` (a challenge
    or a solution), or what `query` names (`proposal="new"`, `upstream=<fork id>`): the API's
    suggestions, limited to who may see it."""
    from ..models import Challenge

    if isinstance(target, Challenge):
        query = {"challenge": target.slug}
    elif target is not None:
        query = {"solution": target.pk}
    return f"{reverse('api-mention-suggestions')}?{urlencode(query)}"
