"""HTML views for notifications, preferences, unsubscribing and following. Thin: they parse,
call peerhub.notifications / peerhub.following and answer."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import following
from .announce import announce
from .exceptions import DomainError, NotFound
from .models import Channel
from .notifications import all_kinds
from .notifications import selectors as notification_selectors
from .notifications import services as notification_services

NOTIFICATIONS_PER_PAGE = 30


@login_required
def notifications(request):
    unread_only = request.GET.get("unread") == "1"
    listing = notification_selectors.notifications_for(user=request.user, unread=unread_only)
    page = Paginator(listing, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "peerhub/notifications.html",
        {
            "page_obj": page,
            "groups": notification_selectors.group_by_day(page.object_list),
            "unread_only": unread_only,
            "unread": notification_selectors.unread_count(user=request.user),
        },
    )


def notifications_bell(request):
    """The bell in the navigation, loaded by htmx so no page pays for the count."""
    return render(
        request,
        "peerhub/_bell.html",
        {"unread": notification_selectors.unread_count(user=request.user)},
    )


@login_required
def notification_open(request, pk: int):
    """Mark one notification read and go to what it is about."""
    try:
        notification = notification_services.notification_mark_read(
            notification_id=pk, user=request.user, with_group=request.GET.get("group") == "1"
        )
    except DomainError:
        raise Http404("No such notification.") from None
    target = notification.target_url
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications")


@require_POST
@login_required
def notification_read(request, pk: int):
    try:
        notification_services.notification_mark_read(
            notification_id=pk, user=request.user, with_group=request.POST.get("group") == "1"
        )
    except DomainError:
        raise Http404("No such notification.") from None
    nxt = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = "notifications"
    return redirect(nxt)


@require_POST
@login_required
def notifications_read_all(request):
    count = notification_services.notifications_mark_all_read(user=request.user)
    messages.success(
        request,
        ngettext(
            "Marked {count} notification read.", "Marked {count} notifications read.", count
        ).format(count=count),
    )
    return redirect("notifications")


class PreferencesForm(forms.Form):
    def __init__(self, *args, initial_channels: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        for kind in all_kinds():
            self.fields[kind.name] = forms.ChoiceField(
                label=(
                    _("{kind} (important)").format(kind=kind.label)
                    if kind.important
                    else kind.label
                ),
                choices=Channel.choices,
                initial=initial_channels.get(kind.name, kind.default_channel),
            )


@login_required
def notification_preferences(request):
    current = notification_selectors.preferences_for(user=request.user)
    form = PreferencesForm(request.POST or None, initial_channels=current)
    if request.method == "POST" and form.is_valid():
        notification_services.preferences_update(user=request.user, channels=form.cleaned_data)
        messages.success(request, _("Your notification preferences are saved."))
        return redirect("notification-preferences")
    return render(request, "peerhub/notification_preferences.html", {"form": form})


@csrf_exempt  # the signed token is the credential; mail clients POST it (RFC 8058) without one
def unsubscribe(request, token: str):
    try:
        member, kind = notification_services.unsubscribe_read(token)
    except DomainError as exc:
        return render(request, "peerhub/unsubscribe.html", {"error": exc.message}, status=400)
    label = next((k.label for k in all_kinds() if k.name == kind), "")
    if request.method == "POST":
        notification_services.unsubscribe(token=token)
        return render(
            request, "peerhub/unsubscribe.html", {"done": True, "member": member, "label": label}
        )
    return render(request, "peerhub/unsubscribe.html", {"member": member, "label": label})


def _follow_message(target, now_following: bool) -> str:
    name = getattr(target, "title", None) or getattr(target, "name", None) or str(target)
    if now_following:
        return _("You follow {name} now.").format(name=name)
    return _("You no longer follow {name}.").format(name=name)


@require_POST
@login_required
def follow_toggle(request, kind: str, pk: int):
    try:
        target = following.follow_target_get(user=request.user, name=kind, pk=pk)
        now_following = following.follow_toggle(follower=request.user, target=target)
        message, error = _follow_message(target, now_following), False
    except NotFound as exc:
        raise Http404(exc.message) from None
    except DomainError as exc:
        if not request.htmx:
            messages.error(request, exc.message)
            return redirect(request.POST.get("next") or "home")
        target = following.follow_target_get(user=request.user, name=kind, pk=pk)
        message, error = exc.message, True
    if request.htmx:
        response = render(
            request,
            "peerhub/_follow.html",
            following.follow_widget(user=request.user, target=target),
        )
        return announce(response, message, error=error)
    nxt = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = target.get_absolute_url()
    return redirect(nxt)
