"""Threaded comments. Every action answers htmx with the re-rendered thread, and plain form posts
with a redirect back to the page the thread belongs to."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from peerhub.announce import announce
from peerhub.exceptions import DomainError
from peerhub.inputs import parse_id
from peerhub.pagecache import FRAGMENT_CSRF, Fragments
from peerhub.templatetags.peerhub import relative
from peerhub.widgets import enable_mentions

from .. import history, permissions, selectors, services
from ..forms import CommentForm
from ..models import Challenge, Comment, Solution
from ..pagecache import sees_as_visitor
from .base import mentions_url


def _kind_and_key(target) -> tuple[str, str]:
    if isinstance(target, Challenge):
        return "challenge", target.slug
    return "solution", str(target.pk)


def thread_context(
    request, target, *, focus: Comment | None = None, fragments: Fragments | None = None
) -> dict:
    """The discussion part of a challenge's or a solution's page: one page of threads (the
    `cpage` parameter, or the page that shows `focus`, whose thread is then shown in full),
    rendered as `threads_html`. `fragments`: the page's own, when it keeps parts already."""
    if focus is not None:
        number = selectors.comment_page_number(comment=focus)
        expand = focus.thread_root_id
    else:
        number, expand = request.GET.get("cpage"), None
    page, threads = selectors.discussion_page(target=target, number=number, expand=expand)
    context = {
        **thread_context_for_one(request, target),
        "discussion_page": page,
        "threads": threads,
    }
    if fragments is None:
        fragments = Fragments(request, [f"{context['thread_kind']}:{context['thread_key']}"])
    context["threads_html"] = _threads_html(request, fragments, context, expand)
    return context


class _Reader:
    """Who a shared discussion is rendered for: a member who wrote none of its comments."""

    is_authenticated = True
    pk = None


def discussion_html(request, target, *, scopes: list[str]) -> SafeString:
    """The discussion section of a challenge's or a solution's page (`_comments.html`), one
    page of it (`cpage`). It differs between members only by what they may see and do (reply,
    moderate) and by the actions on their own comments: so members who see what a visitor sees
    and wrote none of the comments shown share one copy, kept under the page's visitor
    versions (`scopes`) by those permissions, with the ids of the comments' authors; an author
    among them gets a copy of their own, kept the same way. Everyone else gets it rendered for
    them."""
    user = request.user
    kept = Fragments(request, scopes)
    if not (kept.on and sees_as_visitor(request)):
        return _discussion_for(request, target)
    base = thread_context_for_one(request, target)
    number = request.GET.get("cpage")

    def compute(reader) -> dict:
        page, threads = selectors.discussion_page(target=target, number=number)
        context = {
            **base,
            "discussion_page": page,
            "threads": threads,
            "user": reader,
            "request": request,
            "csrf_token": FRAGMENT_CSRF,
        }
        context["threads_html"] = mark_safe(  # noqa: S308  (rendered by a template)
            render_to_string("challenges/_threads.html", context)
        )
        return {
            "html": render_to_string("challenges/_comments.html", context),
            "authors": sorted({node.comment.author_id for node in _walk(threads)}),
        }

    variant = (number, user.is_authenticated, base["can_comment"], base["can_moderate"])
    shared = kept.value(
        "discussion", variant, lambda: compute(_Reader() if user.is_authenticated else user)
    )
    if user.is_authenticated and user.pk in shared["authors"]:
        shared = kept.value("discussion", (*variant, user.pk), lambda: compute(user))
    return mark_safe(shared["html"].replace(FRAGMENT_CSRF, get_token(request)))  # noqa: S308


def _discussion_for(request, target) -> SafeString:
    """The discussion section rendered for this member."""
    return mark_safe(  # noqa: S308  (rendered by a template)
        render_to_string(
            "challenges/_comments.html", thread_context(request, target), request=request
        )
    )


def _walk(nodes):
    for node in nodes:
        yield node
        yield from _walk(node.replies)


def _threads_html(request, fragments: Fragments, context: dict, expand):
    """The page of threads. It differs between members only by what they may do (reply,
    moderate) and by the actions on their own comments, so members who wrote none of the
    comments shown share it: it is kept under the target's page-cache versions, by those
    permissions, the comments' relative times and, for an author among them, the author."""
    user = request.user
    page = context["discussion_page"]
    comments = [node.comment for node in _walk(context["threads"])]
    wrote = user.is_authenticated and any(c.author_id == user.pk for c in comments)
    variant = (
        page.number,
        page.paginator.count,
        expand,
        user.is_authenticated,
        context["can_comment"],
        context["can_moderate"],
        user.pk if wrote else None,
        tuple((c.pk, relative(c.created_at)) for c in comments),
    )

    def render():
        return render_to_string(
            "challenges/_threads.html", {**context, "user": user, "csrf_token": FRAGMENT_CSRF}
        )

    return fragments.get("threads", variant, render)


def _target(request, kind: str, key: str):
    if kind == "challenge":
        return selectors.challenge_get(user=request.user, slug=key)
    if kind == "solution" and (pk := parse_id(key)) is not None:
        return selectors.solution_get(user=request.user, pk=pk)
    raise Http404


def _answer(
    request, target, *, error: str | None = None, focus: Comment | None = None, done: str = ""
):
    """The discussion again (htmx; `error` or `done` read out by the page's live region), or a
    redirect to it."""
    if request.htmx:
        context = thread_context(request, target, focus=focus)
        context["thread_error"] = error
        if error and not request.POST.get("parent"):
            # The new comment's text stays in the form that could not send it.
            context["comment_body"] = request.POST.get("body", "")
        response = render(request, "challenges/_comments.html", context)
        return announce(response, error or done, error=bool(error))
    if error:
        messages.error(request, error)
    if focus is not None:
        return redirect("challenges:comment-permalink", pk=focus.pk)
    return redirect(target.get_absolute_url() + "#discussion")


def _visible_comment(request, pk: int) -> tuple[Comment, Challenge | Solution]:
    comment = get_object_or_404(
        Comment.objects.select_related("challenge", "solution__challenge", "author"), pk=pk
    )
    target = comment.challenge or comment.solution
    if isinstance(target, Solution):
        if not permissions.can_view_solution(request.user, target):
            raise Http404
    elif not permissions.can_view_challenge(request.user, target):
        raise Http404
    return comment, target


def discussion_threads(request, kind: str, key: str):
    """More threads (htmx appends them to the list); without htmx, that page of the target."""
    target = _target(request, kind, key)
    if not request.htmx:
        number = parse_id(request.GET.get("cpage", "")) or 1
        return redirect(f"{target.get_absolute_url()}?cpage={number}#discussion")
    return render(request, "challenges/_thread_page.html", thread_context(request, target))


def comment_permalink(request, pk: int):
    """A comment's lasting address: the page of its discussion that shows it, or its thread
    opened in full when it is past the first replies."""
    comment, target = _visible_comment(request, pk)
    if selectors.comment_shown_in_page(comment=comment):
        number = selectors.comment_page_number(comment=comment)
        return redirect(f"{target.get_absolute_url()}?cpage={number}#comment-{comment.pk}")
    url = reverse("challenges:comment-thread", args=[comment.thread_root_id])
    return redirect(f"{url}#comment-{comment.pk}")


def comment_thread(request, pk: int):
    """One thread with all its replies: an htmx fragment replacing the thread's first replies,
    or a page of its own."""
    comment, target = _visible_comment(request, pk)
    if comment.thread_id is not None:
        return redirect("challenges:comment-thread", pk=comment.thread_id)
    context = thread_context_for_one(request, target)
    context["node"] = selectors.comment_thread_full(root=comment)
    if request.htmx:
        return render(request, "challenges/_comment.html", context)
    return render(request, "challenges/comment_thread.html", context)


def thread_context_for_one(request, target) -> dict:
    """What a single comment's template needs, without loading a page of the discussion."""
    challenge = target if isinstance(target, Challenge) else target.challenge
    kind, key = _kind_and_key(target)
    return {
        "thread_target": target,
        "thread_kind": kind,
        "thread_key": key,
        "thread_url": target.get_absolute_url(),
        "mentions_url": mentions_url(target),
        "can_comment": permissions.can_comment(request.user, target),
        "can_moderate": permissions.can_edit_challenge(request.user, challenge),
    }


@login_required
def comment_reply(request, pk: int):
    """The one reply form, loaded when asked for (htmx) rather than one per comment; a page of
    its own without JavaScript."""
    comment, target = _visible_comment(request, pk)
    context = thread_context_for_one(request, target)
    if not context["can_comment"] or comment.is_deleted or comment.is_hidden:
        raise Http404
    context["comment"] = comment
    if request.htmx:
        return render(request, "challenges/_reply_form.html", context)
    return render(request, "challenges/comment_reply.html", context)


@require_POST
@login_required
def comment_create(request, kind: str, key: str):
    target = _target(request, kind, key)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _answer(
            request, target, error=_("Write something first (at most 10,000 characters).")
        )
    parent = None
    if form.cleaned_data["parent"]:
        parent = Comment.objects.filter(pk=form.cleaned_data["parent"]).first()
    try:
        comment = services.comment_create(
            author=request.user,
            target=target,
            body=form.cleaned_data["body"],
            parent=parent,
            language=form.cleaned_data["language"],
        )
    except DomainError as error:
        return _answer(request, target, error=error.message)
    return _answer(request, target, focus=comment, done=_("Your comment is posted."))


@login_required
def comment_edit(request, pk: int):
    comment, target = _visible_comment(request, pk)
    if not permissions.can_edit_comment(request.user, comment):
        raise Http404
    form = CommentForm(
        request.POST or None, initial={"body": comment.body, "language": comment.language}
    )
    enable_mentions(form, "body", mentions_url(target))
    if request.method == "POST" and form.is_valid():
        try:
            services.comment_edit(
                comment=comment,
                by=request.user,
                body=form.cleaned_data["body"],
                language=form.cleaned_data["language"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            return redirect("challenges:comment-permalink", pk=comment.pk)
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
        return _answer(request, target, error=error.message, focus=comment)
    return _answer(request, target, focus=comment, done=_("The comment is deleted."))


@require_POST
@login_required
def comment_hide(request, pk: int):
    comment, target = _visible_comment(request, pk)
    hidden = request.POST.get("hidden") != "0"
    try:
        services.comment_set_hidden(comment=comment, by=request.user, hidden=hidden)
    except DomainError as error:
        return _answer(request, target, error=error.message, focus=comment)
    done = _("The comment is hidden.") if hidden else _("The comment is shown again.")
    return _answer(request, target, focus=comment, done=done)


def comment_history(request, pk: int):
    """Every edit of a comment, for whoever may read its words."""
    comment, target = _visible_comment(request, pk)
    if not permissions.can_read_comment_words(request.user, comment):
        raise Http404(_("No such comment."))
    context = history.history_context(comment, history.COMMENT_LABELS)
    context.update(
        item_title=_("A comment by {name} on “{target}”").format(
            name=comment.author.name, target=target
        ),
        back_url=reverse("challenges:comment-permalink", args=[comment.pk]),
    )
    return render(request, "history.html", context)
