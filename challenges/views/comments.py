"""Threaded comments. Every action answers htmx with the re-rendered thread, and plain form posts
with a redirect back to the page the thread belongs to."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from peerhub.exceptions import DomainError
from peerhub.inputs import parse_id

from .. import permissions, selectors, services
from ..forms import CommentForm
from ..models import Challenge, Comment, Solution


def thread_context(request, target) -> dict:
    user = request.user
    challenge = target if isinstance(target, Challenge) else target.challenge
    return {
        "thread_target": target,
        "thread_kind": "challenge" if isinstance(target, Challenge) else "solution",
        "thread": selectors.comment_thread(target=target),
        "can_comment": permissions.can_comment(user, target),
        "can_moderate": permissions.can_edit_challenge(user, challenge),
        "comment_form": CommentForm(),
    }


def _target(request, kind: str, key: str):
    if kind == "challenge":
        return selectors.challenge_get(user=request.user, slug=key)
    if kind == "solution" and (pk := parse_id(key)) is not None:
        return selectors.solution_get(user=request.user, pk=pk)
    raise Http404


def _answer(request, target, *, error: str | None = None):
    if request.htmx:
        context = thread_context(request, target)
        context["thread_error"] = error
        return render(request, "challenges/_comments.html", context)
    if error:
        messages.error(request, error)
    return redirect(target.get_absolute_url() + "#discussion")


def _visible_comment(request, pk: int) -> tuple[Comment, Challenge | Solution]:
    comment = get_object_or_404(
        Comment.objects.select_related("challenge", "solution__challenge"), pk=pk
    )
    target = comment.challenge or comment.solution
    if isinstance(target, Solution):
        if not permissions.can_view_solution(request.user, target):
            raise Http404
    elif not permissions.can_view_challenge(request.user, target):
        raise Http404
    return comment, target


@require_POST
@login_required
def comment_create(request, kind: str, key: str):
    target = _target(request, kind, key)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _answer(request, target, error="Write something first (at most 10,000 characters).")
    parent = None
    if form.cleaned_data["parent"]:
        parent = Comment.objects.filter(pk=form.cleaned_data["parent"]).first()
    try:
        services.comment_create(
            author=request.user, target=target, body=form.cleaned_data["body"], parent=parent
        )
    except DomainError as error:
        return _answer(request, target, error=error.message)
    return _answer(request, target)


@login_required
def comment_edit(request, pk: int):
    comment, target = _visible_comment(request, pk)
    if not permissions.can_edit_comment(request.user, comment):
        raise Http404
    form = CommentForm(request.POST or None, initial={"body": comment.body})
    if request.method == "POST" and form.is_valid():
        try:
            services.comment_edit(comment=comment, by=request.user, body=form.cleaned_data["body"])
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            return redirect(target.get_absolute_url() + f"#comment-{comment.pk}")
    return render(
        request,
        "challenges/comment_edit.html",
        {"form": form, "comment": comment, "target": target},
    )


@require_POST
@login_required
def comment_delete(request, pk: int):
    comment, target = _visible_comment(request, pk)
    try:
        services.comment_delete(comment=comment, by=request.user)
    except DomainError as error:
        return _answer(request, target, error=error.message)
    return _answer(request, target)


@require_POST
@login_required
def comment_hide(request, pk: int):
    comment, target = _visible_comment(request, pk)
    try:
        services.comment_set_hidden(
            comment=comment, by=request.user, hidden=request.POST.get("hidden") != "0"
        )
    except DomainError as error:
        return _answer(request, target, error=error.message)
    return _answer(request, target)
