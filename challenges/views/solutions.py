from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from peerhub import confirm
from peerhub.exceptions import DomainError
from peerhub.hooks import collect
from peerhub.widgets import enable_mentions

from .. import archives, artefacts, files, permissions, selectors, services
from ..diff import diff_stats, side_by_side
from ..forms import (
    ForkForm,
    NewSolutionWithFilesForm,
    ReasonForm,
    SolutionWithFilesForm,
    UpstreamForm,
)
from ..lineage_svg import lineage_list, lineage_svg
from ..models import Challenge
from ..pagecache import as_visitors_see, kept_solution, visitors_value
from .base import mentions_url, perform, refuse
from .comments import discussion_html


def _form_error(form, error: DomainError) -> None:
    """A refused file is the files field's error; anything else the form's."""
    on_files = error.code.startswith(("file_", "image_", "svg_")) or error.code == "too_large"
    form.add_error("files" if on_files else None, error.message)


@login_required
def solution_create(request, slug: str):
    challenge = selectors.challenge_get(user=request.user, slug=slug)
    refusal = services.solution_post_refusal(author=request.user, challenge=challenge)
    if refusal is not None:
        return refuse(request, refusal, challenge)
    form = enable_mentions(
        NewSolutionWithFilesForm(request.POST or None, request.FILES or None),
        "body",
        mentions_url(challenge),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            solution = services.solution_create(
                challenge=challenge,
                author=request.user,
                title=data["title"],
                body=data["body"],
                publish=data["publish"],
                message=data["message"],
                uploads=data["files"],
                language=data["language"],
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(
                request,
                gettext("Solution published.") if data["publish"] else gettext("Draft saved."),
            )
            return redirect(solution)
    return render(request, "challenges/solution_form.html", {"form": form, "challenge": challenge})


def solution_detail(request, pk: int):
    # Read as a visitor reads it (the member's own vote is asked for by the vote widget).
    solution = kept_solution(request, pk)
    user = request.user
    stub = solution.hidden_reason or solution.current_revision.hidden_reason
    see_hidden = permissions.can_see_moderated(user, solution)
    # What every member who sees what a visitor sees gets alike.
    parts = visitors_value(
        request,
        [f"solution:{solution.pk}"],
        "solution-parts",
        solution.pk,
        lambda reader: _solution_parts(reader, solution),
        alike=lambda: not (stub and see_hidden),
    )
    context = {
        "solution": solution,
        "challenge": solution.challenge,
        "revision": solution.current_revision,
        **parts,
        # Other apps add their own sections (reputation: votes and reviews) without this app
        # knowing them: the same plug-in hook as the profile page's `profile_sections`.
        "sections": collect("solution_sections", request=request, solution=solution),
        # Rendered by templates, which escape.
        "ancestors_html": mark_safe(parts["ancestors_html"]),  # noqa: S308
        "tree_html": mark_safe(parts["tree_html"]),  # noqa: S308
        # Hidden by moderation (issue 21): a stub that says why, except to those who may see.
        "moderation_stub": stub,
        "see_hidden": see_hidden,
        "is_public": permissions.is_public(solution),
        "can_edit": permissions.can_edit_solution(user, solution),
        "can_fork": permissions.can_fork_solution(user, solution),
        "can_withdraw": permissions.can_withdraw_solution(user, solution),
        # Who may offer first: only the fork's author reads the parent's text for this.
        "can_propose_upstream": parts["parent_visible"]
        and permissions.can_propose_upstream(user, solution)
        and solution.has_changes_to_offer(),
        "discussion_html": discussion_html(request, solution, scopes=[f"solution:{solution.pk}"]),
    }
    return render(request, "challenges/solution_detail.html", context)


def _solution_parts(user, solution) -> dict:
    """What a solution's page shows that depends on the member only through what they may see:
    its files, what it changed from its parent (when they may see the parent), the changes
    offered upstream, what it is built on and its lineage tree."""
    parent = solution.parent
    parent_visible = parent is not None and permissions.can_view_solution(user, parent)
    current = solution.current_revision
    # The current revision's files and the fork point's, in one query.
    manifests = files.manifests_of([current, solution.forked_from_revision])
    fork_diff = parent_moved_diff = fork_files_diff = None
    if parent_visible:
        fork_point = solution.forked_from_revision
        fork_diff = side_by_side(fork_point.body, current.body)
        fork_files_diff = artefacts.files_diff(old=fork_point, new=current, manifests=manifests)
        if parent.current_revision_id != fork_point.pk:
            parent_moved_diff = side_by_side(parent.current_revision.body, current.body)
    lineage = selectors.lineage_for(user=user, solution=solution)
    stub = solution.hidden_reason or current.hidden_reason
    label = (
        gettext("Lineage of %(title)s") % {"title": solution.title}
        if permissions.can_see_moderated(user, solution) or not stub
        else gettext("Lineage of a hidden solution")
    )
    tree = {
        "lineage": lineage,
        "lineage_svg": lineage_svg(lineage, label=label),
        "lineage_list": lineage_list(lineage),
    }
    return {
        "files": artefacts.revision_files(revision=current, manifest=manifests[current.pk]),
        "archive_by_task": archives.built_by_task(manifests[current.pk]),
        "parent_visible": parent_visible,
        "fork_diff": fork_diff,
        "fork_diff_stats": diff_stats(fork_diff) if fork_diff else None,
        "fork_files_diff": fork_files_diff,
        "parent_moved_diff": parent_moved_diff,
        "upstream_proposals": list(selectors.upstream_proposals_for(solution=solution)[:10]),
        "ancestors_html": render_to_string("challenges/_solution_ancestors.html", tree).strip(),
        "tree_html": render_to_string("challenges/_solution_tree.html", tree).strip(),
    }


@login_required
def solution_edit(request, pk: int):
    solution = selectors.solution_get(user=request.user, pk=pk)
    if not permissions.can_edit_solution(request.user, solution):
        raise Http404
    revision = solution.current_revision
    current = artefacts.revision_files(revision=revision, previews=False)
    form = SolutionWithFilesForm(
        request.POST or None,
        request.FILES or None,
        initial={"title": revision.title, "body": revision.body, "language": revision.language},
        current_files=[item.path for item in current],
    )
    enable_mentions(form, "body", mentions_url(solution))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.solution_revise(
                solution=solution,
                by=request.user,
                title=data["title"],
                body=data["body"],
                message=data["message"],
                uploads=data["files"],
                remove_files=data.get("remove_files", []),
                language=data["language"],
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, gettext("Saved as a new revision."))
            return redirect(solution)
    return render(
        request,
        "challenges/solution_form.html",
        {
            "form": form,
            "challenge": solution.challenge,
            "solution": solution,
            "current_files": current,
        },
    )


def solution_history(request, pk: int):
    solution = kept_solution(request, pk, figures=False)
    # The same for every reader (a revision bumps its solution's page), kept with the row.
    revisions = visitors_value(
        request,
        [f"solution:{pk}"],
        "solution-revisions",
        pk,
        lambda user: list(selectors.solution_revisions(solution=solution)),
    )
    return render(
        request,
        "challenges/solution_history.html",
        {
            "solution": solution,
            "revisions": revisions,
            "see_hidden": permissions.can_see_moderated(request.user, solution),
        },
    )


def _revision_number(value: str | None, default: int, maximum: int) -> int:
    try:
        number = int(value) if value else default
    except ValueError:
        raise Http404("No such revision.") from None
    if not 1 <= number <= maximum:
        raise Http404("No such revision.")
    return number


def solution_diff(request, pk: int):
    solution = kept_solution(request, pk, figures=False)
    last = solution.revision_count
    new_number = _revision_number(request.GET.get("to"), last, last)
    old_number = _revision_number(request.GET.get("from"), max(1, new_number - 1), last)
    old = selectors.revision_get(solution=solution, number=old_number)
    new = selectors.revision_get(solution=solution, number=new_number)
    stub = selectors.hidden_from(request.user, solution, old, new)
    rows = [] if stub else selectors.revision_diff(old=old, new=new)
    return render(
        request,
        "challenges/solution_diff.html",
        {
            "solution": solution,
            "moderation_stub": stub,
            "old": old,
            "new": new,
            "rows": rows,
            "stats": diff_stats(rows),
            "files_diff": [] if stub else artefacts.files_diff(old=old, new=new),
            "numbers": range(1, last + 1),
            "old_label": gettext("Revision {number}").format(number=old.number),
            "new_label": gettext("Revision {number}").format(number=new.number),
        },
    )


def solution_lineage(request, pk: int):
    solution = kept_solution(request, pk, figures=False)

    def body(user) -> str:
        lineage = selectors.lineage_for(user=user, solution=solution)
        return render_to_string(
            "challenges/_solution_lineage_body.html",
            {
                "solution": solution,
                "lineage": lineage,
                "lineage_svg": lineage_svg(
                    lineage, label=gettext("Lineage of %(title)s") % {"title": solution.title}
                ),
                "lineage_list": lineage_list(lineage),
            },
            request=request,
        )

    # The tree depends on the member only through which solutions they may see.
    shown = as_visitors_see(request, [f"solution:{solution.pk}", "lists"], "lineage", body)
    return render(
        request, "challenges/solution_lineage.html", {"solution": solution, "body": shown}
    )


@login_required
def solution_fork(request, pk: int):
    source = selectors.solution_get(user=request.user, pk=pk)
    if not permissions.can_fork_solution(request.user, source):
        messages.error(request, gettext("You cannot fork this solution."))
        return redirect(source)
    open_challenges = (
        permissions.challenges_visible_to(request.user)
        .filter(status=Challenge.Status.OPEN)
        .order_by("title")
    )
    initial = {"challenge": source.challenge_id, "title": source.title}
    form = ForkForm(request.POST or None, initial=initial, challenges=open_challenges)
    if request.method == "POST" and form.is_valid():
        try:
            fork = services.solution_fork(
                source=source,
                by=request.user,
                challenge=form.cleaned_data["challenge"],
                title=form.cleaned_data["title"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, gettext("Forked. Edit your copy and make it your own."))
            return redirect(fork)
    return render(request, "challenges/solution_fork.html", {"form": form, "source": source})


@require_POST
@login_required
def solution_withdraw(request, pk: int):
    solution = selectors.solution_get(user=request.user, pk=pk)
    if not confirm.is_confirmed(request):
        return confirm.confirmation_page(
            request,
            question=gettext("Withdraw “{title}”?").format(title=solution.title),
            consequence=gettext(
                "It leaves the rankings for good but keeps its place in the lineage."
            ),
            button=gettext("Withdraw"),
            back=solution.get_absolute_url(),
        )
    return perform(
        request,
        lambda: services.solution_withdraw(solution=solution, by=request.user),
        done=gettext("Withdrawn. It keeps its place in the lineage."),
        then=solution,
        back=solution,
    )


@require_POST
@login_required
def solution_publish(request, pk: int):
    solution = selectors.solution_get(user=request.user, pk=pk)
    return perform(
        request,
        lambda: services.solution_publish(solution=solution, by=request.user),
        done=gettext("Published."),
        then=solution,
        back=solution,
    )


# --- Upstream proposals ----------------------------------------------------------------------


@login_required
def upstream_create(request, pk: int):
    fork = selectors.solution_get(user=request.user, pk=pk)
    if not (fork.parent and permissions.can_propose_upstream(request.user, fork)):
        raise Http404
    form = enable_mentions(
        UpstreamForm(request.POST or None), "message", mentions_url(upstream=fork.pk)
    )
    if request.method == "POST" and form.is_valid():
        try:
            proposal = services.upstream_propose(
                fork=fork, by=request.user, message=form.cleaned_data["message"]
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, gettext("Your change was offered to the original's author."))
            return redirect(proposal)
    rows = side_by_side(fork.parent.current_revision.body, fork.current_revision.body)
    files_diff = artefacts.files_diff(old=fork.parent.current_revision, new=fork.current_revision)
    return render(
        request,
        "challenges/upstream_form.html",
        {
            "form": form,
            "fork": fork,
            "rows": rows,
            "stats": diff_stats(rows),
            "files_diff": files_diff,
        },
    )


def upstream_detail(request, pk: int):
    proposal = selectors.upstream_get(user=request.user, pk=pk)
    rows = side_by_side(proposal.base_revision.body, proposal.fork_revision.body)
    moved = proposal.parent.current_revision_id != proposal.base_revision_id
    return render(
        request,
        "challenges/upstream_detail.html",
        {
            "proposal": proposal,
            "rows": rows,
            "stats": diff_stats(rows),
            "files_diff": artefacts.files_diff(
                old=proposal.base_revision, new=proposal.fork_revision
            ),
            "parent_moved": moved and proposal.status == proposal.Status.OPEN,
            "can_decide": proposal.status == proposal.Status.OPEN
            and permissions.can_decide_upstream(request.user, proposal.parent),
            "can_withdraw": proposal.status == proposal.Status.OPEN
            and proposal.author_id == getattr(request.user, "pk", None),
            "decline_form": ReasonForm(),
        },
    )


@require_POST
@login_required
def upstream_accept(request, pk: int):
    proposal = selectors.upstream_get(user=request.user, pk=pk)
    if not confirm.is_confirmed(request):
        return confirm.confirmation_page(
            request,
            question=gettext("Accept the changes from “{title}”?").format(
                title=proposal.fork.title
            ),
            consequence=gettext(
                "They become a new revision of “{title}”, crediting the fork's author. "
                "Revisions are never removed."
            ).format(title=proposal.parent.title),
            button=gettext("Accept as a new revision"),
            back=proposal.get_absolute_url(),
        )
    try:
        services.upstream_accept(proposal=proposal, by=request.user)
    except DomainError as error:
        return refuse(request, error, proposal)
    messages.success(
        request, gettext("Accepted: your solution has a new revision crediting the fork.")
    )
    return redirect(proposal.parent)


@require_POST
@login_required
def upstream_decline(request, pk: int):
    proposal = selectors.upstream_get(user=request.user, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Say why you decline the change."))
        return redirect(proposal)
    if not confirm.is_confirmed(request):
        return confirm.confirmation_page(
            request,
            question=gettext("Decline the changes from “{title}”?").format(
                title=proposal.fork.title
            ),
            consequence=gettext(
                "The proposal is closed for good and the fork's author reads your reason."
            ),
            button=gettext("Decline"),
            back=proposal.get_absolute_url(),
        )
    return perform(
        request,
        lambda: services.upstream_decline(
            proposal=proposal, by=request.user, reason=form.cleaned_data["reason"]
        ),
        done=gettext("Declined. The fork's author can read your reason."),
        then=proposal,
        back=proposal,
    )


@require_POST
@login_required
def upstream_withdraw(request, pk: int):
    proposal = selectors.upstream_get(user=request.user, pk=pk)
    return perform(
        request,
        lambda: services.upstream_withdraw(proposal=proposal, by=request.user),
        done=gettext("Proposal withdrawn."),
        then=proposal.fork,
        back=proposal,
    )
