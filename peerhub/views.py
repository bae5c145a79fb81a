from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from . import (
    deletion,
    exports,
    figures,
    following,
    languages,
    locales,
    mentions,
    moderation,
    relations,
    selectors,
    services,
    tokens,
)
from . import home as member_home
from .announce import announce
from .exceptions import DomainError
from .forms import AccessTokenForm, AccountDeletionForm, ProfileForm
from .hooks import collect

SIGNATORIES_PER_PAGE = 48


FEED_PER_PAGE = 20


def home(request):
    if request.user.is_authenticated:
        return _home_member(request)
    language = languages.reader_language()
    version = selectors.manifesto_current(language=language)
    return render(
        request,
        "peerhub/home.html",
        {
            "manifesto": version,
            "text": version and selectors.manifesto_text(version, language=language),
            "values": selectors.manifesto_values(),
            "figures": figures.site_figures(version=version),
            "recent_signatures": (
                selectors.manifesto_signatures(version=version)[:8] if version else []
            ),
        },
    )


def _home_member(request):
    """A signed-in member's home: what to do next, not the manifesto again (see peerhub.home)."""
    before = request.GET.get("before") or None
    try:
        feed = following.feed_page(user=request.user, before=before, size=FEED_PER_PAGE)
    except DomainError:  # a mangled link: show the newest page rather than an error
        feed = following.feed_page(user=request.user, size=FEED_PER_PAGE)
    steps = member_home.checklist_shown(user=request.user, request=request)
    return render(
        request,
        "peerhub/home_member.html",
        {
            "feed": feed,
            "checklist": steps,
            "checklist_done": sum(step.done for step in steps or ()),
            "tasks": member_home.tasks(user=request.user),
            "sections": member_home.sections(request=request),
        },
    )


def _manifesto_context(request, version) -> dict:
    signatures = None
    if version:
        paginator = Paginator(selectors.manifesto_signatures(version=version), SIGNATORIES_PER_PAGE)
        # The kept count (peerhub.figures) instead of a COUNT over every signature.
        paginator.count = figures.signature_count(version=version)
        signatures = paginator.get_page(request.GET.get("page"))
    return {
        "manifesto": version,
        "has_signed": selectors.manifesto_has_signed(user=request.user, version=version),
        "is_verified": selectors.user_is_verified(request.user),
        "signature_count": signatures.paginator.count if signatures else 0,
        "signatures": signatures,
    }


def manifesto(request):
    language = languages.reader_language()
    version = selectors.manifesto_current(language=language)
    context = _manifesto_context(request, version)
    context["values"] = selectors.manifesto_values()
    context["text"] = version and selectors.manifesto_text(
        version, language=language, original=request.GET.get("original") == "1"
    )
    return render(request, "peerhub/manifesto.html", context)


@require_POST
@login_required
def manifesto_sign(request):
    error = None
    try:
        _signature, created = services.manifesto_sign(user=request.user)
    except DomainError as exc:
        error, created = exc.message, False
    if request.htmx:
        # The sign card and, out of band, the signatory list that now includes the member.
        context = _manifesto_context(request, selectors.manifesto_current())
        context.update({"just_signed": created, "error": error})
        response = render(request, "peerhub/_manifesto_signed.html", context)
        message = error or (_("Thank you for signing the manifesto.") if created else "")
        return announce(response, message, error=bool(error))
    if error:
        messages.error(request, error)
    elif created:
        messages.success(request, _("Thank you for signing the manifesto."))
    return redirect("manifesto")


@require_POST
@login_required
def markdown_preview(request):
    """The editor's Preview tab (htmx): the text rendered as it will be stored. Errors come
    back as a message in the panel, which htmx swaps in (a 200 for htmx, the status otherwise)."""
    text = request.POST.get("text", "")
    try:
        html, error, status = mentions.markdown_preview(user=request.user, text=text), None, 200
    except DomainError as exc:
        html, error, status = "", exc.message, exc.status_code
    return render(
        request,
        "peerhub/_markdown_preview.html",
        {"html": html, "error": error, "empty": not text.strip()},
        status=200 if request.htmx else status,
    )


def code_of_conduct(request):
    return render(request, "peerhub/code_of_conduct.html")


def profile(request, username: str):
    member = selectors.profile_member(viewer=request.user, username=username)
    if member is None:
        left = selectors.member_left(username=username)
        if left is None:
            raise Http404("No such member.")
        # Links to a member who left still lead somewhere: a stub, nothing personal.
        return render(request, "peerhub/profile_deleted.html", {"member": left})
    signed = member.manifesto_signatures.select_related("version").order_by("-version__number")
    current = selectors.manifesto_current()
    sections = collect("profile_sections", request=request, viewer=request.user, member=member)
    return render(
        request,
        "peerhub/profile.html",
        {
            "member": member,
            "sections": sections,
            "signatures": signed,
            "signed_current": any(s.version_id == getattr(current, "id", None) for s in signed),
            "current_manifesto": current,
            # Hidden by moderation (issue 21): its words only to the member and reviewers.
            "see_hidden": moderation.can_see_hidden(request.user, member.pk),
            # Described to the world (OpenGraph, its feed) only when anyone may see it.
            "is_public": selectors.profile_is_public(member),
            "relation": relations.relation_state(viewer=request.user, member=member),
        },
    )


@require_POST
def language_set(request):
    """The language chooser of the header and footer: Django's set_language (the language
    cookie, then back to the page), and for a signed-in member their settings too, so the
    choice follows them to every device and to their e-mails."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in locales.language_codes():
        services.member_locale_set(user=request.user, language=language)
    return response


@login_required
def profile_edit(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.profile_update(user=request.user, **form.profile_data())
        services.member_locale_set(user=request.user, **form.locale_data())
        messages.success(request, _("Your profile is saved."))
        return redirect("profile", username=request.user.username)
    return render(request, "peerhub/profile_edit.html", {"form": form})


# --- Account security: API tokens (issue 16) ---------------------------------------------------


@login_required
def access_tokens(request):
    """The member's API tokens: listed, made and revoked. A new token's secret is in this one
    answer and nowhere else (not stored, not cached); the form carries a one-time nonce, so a
    reload that sends it again makes no second token."""
    issued = None
    form = AccessTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        nonce = form.cleaned_data["nonce"]
        if not cache.add(f"token-form:{request.user.pk}:{nonce}", 1, timeout=24 * 3600):
            messages.info(request, _("That form was already sent: its token exists (see below)."))
            return redirect("access-tokens")
        try:
            issued = tokens.token_create(user=request.user, **form.token_kwargs())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            form = AccessTokenForm()
    response = render(
        request,
        "peerhub/access_tokens.html",
        {"form": form, "issued": issued, "tokens": tokens.tokens_of(user=request.user)},
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def access_token_revoke(request, pk: int):
    try:
        token = tokens.token_get(user=request.user, pk=pk)
    except DomainError as error:
        raise Http404(error.message) from None
    tokens.token_revoke(token=token)
    messages.success(
        request, _("The token “{name}” is revoked: it no longer works.").format(name=token.name)
    )
    return redirect("access-tokens")


# --- Your data: exports (issue 21) -------------------------------------------------------------

EXPORTS_SHOWN = 10


@login_required
def data_settings(request):
    """The member's data exports: ask for one (POST), follow its progress (the list polls
    itself through htmx while one is being built) and download it when it is ready."""
    if request.method == "POST":
        try:
            exports.export_request(user=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _(
                    "Your export is being built. We will e-mail you a link when it is ready; "
                    "you can also download it from this page."
                ),
            )
        return redirect("data-settings")
    shown = list(exports.exports_of(user=request.user)[:EXPORTS_SHOWN])
    context = {
        "exports": shown,
        "building": any(export.in_flight for export in shown),
        "next_request_at": exports.next_request_at(user=request.user),
        "link_days": exports.config()["link_days"],
        "every_hours": exports.config()["every_hours"],
    }
    template = "peerhub/_data_exports.html" if request.htmx else "peerhub/data_settings.html"
    response = render(request, template, context)
    response["Cache-Control"] = "no-store"
    return response


@login_required
def data_export_download(request, token: str):
    """The archive, as an attachment, for its owner only and until its link expires (410)."""
    try:
        export = exports.export_for_download(user=request.user, token=token)
    except DomainError as error:
        raise Http404(error.message) from None
    if not export.is_downloadable:
        return render(request, "peerhub/data_export_gone.html", {"export": export}, status=410)
    response = FileResponse(
        exports.storage().open(export.file_name, "rb"),
        as_attachment=True,
        filename=f"peerhub-data-{export.created_at:%Y-%m-%d}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- Leaving (issue 21) ---------------------------------------------------------------------------


@login_required
def account_delete(request):
    """What leaving erases and keeps, what must be settled first, and the confirmation step.
    On success the member is signed out and told the date and how to change their mind."""
    blockers = deletion.deletion_blockers(user=request.user)
    form = AccountDeletionForm(request.POST or None, user=request.user)
    if request.method == "POST" and not blockers and form.is_valid():
        try:
            pending, _created = deletion.deletion_request(
                user=request.user, remove_drafts=form.cleaned_data["remove_drafts"]
            )
        except deletion.DeletionBlocked as blocked:
            blockers = blocked.blockers
        else:
            logout(request)
            messages.success(
                request,
                _(
                    "Your account will be deleted on {moment}. Changed your mind? Sign in again "
                    "before then and nothing is deleted."
                ).format(moment=locales.format_moment(pending.due_at)),
            )
            return redirect("home")
    response = render(
        request,
        "peerhub/account_delete.html",
        {"form": form, "blockers": blockers, "grace_days": deletion.grace().days},
        status=409 if request.method == "POST" and blockers else 200,
    )
    response["Cache-Control"] = "no-store"
    return response


# --- Staff (issue 18) ---------------------------------------------------------------------------


@login_required
def staff_dashboard(request):
    """Staff only: every queue that needs a person, with its count (peerhub.staff)."""
    if not request.user.is_staff:
        raise PermissionDenied
    from . import staff

    return render(request, "peerhub/staff_dashboard.html", {"queues": staff.staff_queues()})


@login_required
@require_POST
def checklist_hide(request):
    """Hide the home's "start here" checklist (the button on it)."""
    member_home.checklist_hide(user=request.user)
    if request.htmx:
        return announce(HttpResponse(""), _("The “start here” list is hidden."))
    messages.success(request, _("The “start here” list is hidden."))
    return redirect("home")
