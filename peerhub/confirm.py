"""One confirmation step for irreversible actions (publish results, resolve a dispute, decline
and refund, accept a delivery, ...), with or without JavaScript.

A form that does something final carries `data-confirm="Question?"`. With JavaScript the browser
asks (peerhub/static/js/site.js) and, on yes, adds `confirmed=yes` to what it sends. Without
JavaScript the form arrives without it, and the view answers this module's confirmation page
instead of acting: the question, what follows, and a form that sends the same fields again with
`confirmed=yes` (or a way back). The API is not asked: a client calling it means it."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

FIELD = "confirmed"
_NOT_RESENT = {"csrfmiddlewaretoken", FIELD}


def is_confirmed(request: HttpRequest) -> bool:
    return request.POST.get(FIELD) == "yes"


def confirmation_page(
    request: HttpRequest,
    *,
    question: str,
    consequence: str,
    button: str,
    back: str,
    undoable: bool = False,
) -> HttpResponse:
    """The page that asks before `request` (a POST) is acted on. `back` is where "No" goes
    (a path on this site). `undoable`: the action can be taken back later (a block), so the
    page does not warn that it cannot."""
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = "/"
    fields = [
        (name, value)
        for name in request.POST
        if name not in _NOT_RESENT
        for value in request.POST.getlist(name)
    ]
    response = render(
        request,
        "peerhub/confirm.html",
        {
            "question": question,
            "consequence": consequence,
            "undoable": undoable,
            "button": button,
            "back": back,
            "action": request.get_full_path(),
            "fields": fields,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


def ask_unless_confirmed(request: HttpRequest, **page) -> HttpResponse | None:
    """None when the member confirmed; otherwise the confirmation page to answer with:
    if (page := confirm.ask_unless_confirmed(request, question=..., ...)) is not None:
        return page"""
    return None if is_confirmed(request) else confirmation_page(request, **page)
