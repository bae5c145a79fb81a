"""HTML pages of the conduct loop (issue 21): flag an item, my flags, the review queue with its
decisions, a case (why it is hidden, and the author's appeal) and the public moderation record.
Each parses, calls one service or selector, and answers; refusals are messages or form errors."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from peerhub import moderation as registry
from peerhub.exceptions import DomainError, NotFound

from . import rules
from .models import FlagReason, ModerationCase
from .moderation import selectors, services

QUEUE_PER_PAGE = 20
LOG_PER_PAGE = 50
FLAGS_PER_PAGE = 50


def _target(request, kind: str, pk: int):
    try:
        return registry.flag_target_get(user=request.user, name=kind, pk=pk)
    except NotFound:
        raise Http404("Nothing to flag here.") from None


@login_required
def flag_item(request, kind: str, pk: int):
    item = _target(request, kind, pk)
    spec = registry.flaggable_of(item)
    error = ""
    if request.method == "POST":
        try:
            services.flag_create(
                flagger=request.user,
                kind=kind,
                object_id=pk,
                reason=request.POST.get("reason", ""),
                text=request.POST.get("text", ""),
            )
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(
                request,
                _("Thank you: your flag is recorded. You will hear what reviewers decide."),
            )
            return redirect(spec.url(item))
    return render(
        request,
        "reputation/moderation/flag_form.html",
        {
            "item": item,
            "kind": spec,
            "item_label": selectors.item_label(spec.name),
            "back": spec.url(item),
            "reasons": FlagReason.choices,
            "chosen": request.POST.get("reason", ""),
            "text": request.POST.get("text", ""),
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
def my_flags(request):
    page = Paginator(selectors.flags_of(request.user), FLAGS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "reputation/moderation/my_flags.html",
        {
            "page": page,
            "record": selectors.flagger_record(request.user),
            "labels": selectors.item_labels(),
        },
    )


@login_required
def review_queue(request):
    if not selectors.can_review_flags(request.user):
        raise PermissionDenied
    page = Paginator(selectors.review_queue(user=request.user), QUEUE_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "reputation/moderation/queue.html",
        {"page": page, "entries": selectors.queue_entries(page.object_list)},
    )


@require_POST
@login_required
def case_decide(request, pk: int):
    case = get_object_or_404(ModerationCase, pk=pk)
    if not selectors.can_review_flags(request.user):
        raise PermissionDenied
    try:
        services.case_decide(case=case, by=request.user, outcome=request.POST.get("outcome", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Decision recorded; the flaggers and the author are told."))
    return redirect("reputation:review-queue")


@login_required
def case_detail(request, pk: int):
    case = get_object_or_404(ModerationCase.objects.select_related("author"), pk=pk)
    if not selectors.can_view_case(request.user, case):
        raise Http404("No such case.")
    error = ""
    if request.method == "POST":
        try:
            services.case_appeal(case=case, by=request.user, text=request.POST.get("appeal", ""))
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, _("Your appeal is in the review queue."))
            return redirect("reputation:moderation-case", pk=case.pk)
    entry = selectors.queue_entries([case])[0]
    return render(
        request,
        "reputation/moderation/case.html",
        {
            "case": case,
            "entry": entry,
            "is_author": case.author_id == request.user.pk,
            "can_review": case.is_pending and selectors.can_review_case(request.user, case),
            "actions": case.actions.all()[:50],
            "error": error,
        },
        status=400 if error else 200,
    )


def moderation_log(request):
    """Public: every moderation action, newest first; roles, never names."""
    page = Paginator(selectors.moderation_log(), LOG_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "reputation/moderation/log.html",
        {
            "page": page,
            "labels": selectors.item_labels(),
            "flags": rules.flags(),
        },
    )


@login_required
def item_case(request, kind: str, pk: int):
    """The case of an item, for links from the item's own page (whose app knows no case ids)."""
    try:
        spec = registry.flaggable(kind)
    except NotFound:
        raise Http404("No such case.") from None
    case = ModerationCase.objects.filter(kind=spec.name, object_id=pk).first()
    if case is None or not selectors.can_view_case(request.user, case):
        raise Http404("No such case.")
    return redirect("reputation:moderation-case", pk=case.pk)
