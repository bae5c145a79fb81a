"""HTML views for muting and blocking members (issue 21). Thin: they parse, call
peerhub.relations and answer; blocking asks first (peerhub.confirm)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from . import confirm, relations
from .exceptions import DomainError
from .models import MemberRelation, User

DONE = {
    "mute": gettext_lazy(
        "You muted {name}: you will not hear about their comments, mentions or forks."
    ),
    "unmute": gettext_lazy("You unmuted {name}."),
    "block": gettext_lazy(
        "You blocked {name}: neither of you can mention, follow or order from the other."
    ),
    "unblock": gettext_lazy("You unblocked {name}."),
}
ALREADY = {
    "mute": gettext_lazy("{name} is already muted."),
    "unmute": gettext_lazy("{name} was not muted."),
    "block": gettext_lazy("{name} is already blocked."),
    "unblock": gettext_lazy("{name} was not blocked."),
}


@require_POST
@login_required
def member_relation(request, username: str, action: str):
    """Mute, unmute, block or unblock the member; then back to `next` (the profile or the
    settings page). Blocking asks for confirmation unless the form says it was given."""
    other = User.objects.filter(username=username, is_active=True).first()
    if other is None:
        raise Http404("No such member.")
    nxt = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = other.get_absolute_url()
    if action == "block" and other.pk != request.user.pk and not other.is_staff:
        page = confirm.ask_unless_confirmed(
            request,
            question=_("Block {name}?").format(name=other.name),
            consequence=_(
                "Neither of you will hear about the other's comments, mentions or forks, and "
                "neither can mention, follow or order from the other. Orders already placed "
                "between you continue. You can unblock at any time."
            ),
            button=pgettext("button", "Block"),
            back=nxt,
            undoable=True,
        )
        if page is not None:
            return page
    service = getattr(relations, action)
    try:
        changed = service(member=request.user, other=other)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        text = DONE[action] if changed else ALREADY[action]
        messages.success(request, str(text).format(name=other.name))
    return redirect(nxt)


@login_required
def member_relations(request):
    """The settings page: the members the member muted and blocked, each with its undo."""
    return render(
        request,
        "peerhub/member_relations.html",
        {
            "muted": relations.relations_of(member=request.user, kind=MemberRelation.Kind.MUTE),
            "blocked": relations.relations_of(member=request.user, kind=MemberRelation.Kind.BLOCK),
            "here": reverse("member-relations"),
        },
    )
