"""The signed-in member's home: what to do next, gathered from the apps through hooks.

The site never imports the apps. Each app may define on its AppConfig (see peerhub.hooks):

- `home_checklist()` -> list of ChecklistStep: steps of "start here" whose `done` is an
  expression over the member row (an `Exists(...)` on `OuterRef("pk")`), so that the whole
  checklist is one query however many apps add steps;
- `home_tasks(*, user, limit)` -> list of HomeTask: the member's own work waiting for them
  (upstream offers to decide, orders to act on), at most `limit` from each app;
- `home_sections(*, request, user)` -> list of (template, context): what to look at
  (challenges closing soon, rising solutions), each bounded by the app, which may keep what
  every member sees alike (the request's page cache).

The anonymous home (the manifesto, the figures, the page cache) is not built here."""

from dataclasses import dataclass
from datetime import datetime

from allauth.account.models import EmailAddress
from django.db.models import Exists, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from .hooks import collect
from .models import ManifestoSignature, ManifestoVersion, User
from .pagecache import Fragments

TASKS_PER_APP = 5


@dataclass(frozen=True)
class ChecklistStep:
    key: str  # unique among the steps: the annotation's name
    label: str
    url: str
    done: object  # a boolean expression over the member row (OuterRef("pk"))
    position: int = 100  # steps are shown by position


@dataclass(frozen=True)
class HomeTask:
    text: str  # "Decide on the change X offered to “Y”"
    url: str
    action: str  # the button's verb: "Decide", "Start", "Deliver", "Pay", "Review"
    when: datetime | None = None  # since when it waits (oldest first)


@dataclass
class ChecklistItem:
    key: str
    label: str
    url: str
    done: bool


def _site_steps() -> list[ChecklistStep]:
    latest = ManifestoVersion.objects.published().order_by("-number").values("pk")[:1]
    return [
        ChecklistStep(
            key="verified",
            label=gettext("Verify your e-mail address"),
            url=reverse("account_email"),
            done=Exists(EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)),
            position=10,
        ),
        ChecklistStep(
            key="signed",
            label=gettext("Sign the manifesto"),
            url=reverse("manifesto"),
            done=Exists(
                ManifestoSignature.objects.filter(user=OuterRef("pk"), version=Subquery(latest))
            ),
            position=20,
        ),
    ]


def checklist(*, user: User) -> list[ChecklistItem]:
    """The "start here" steps with whether the member did each, from the data (one query)."""
    steps = sorted(_site_steps() + collect("home_checklist"), key=lambda s: s.position)
    keys = [f"step_{step.key}" for step in steps]
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(**{key: step.done for key, step in zip(keys, steps, strict=True)})
        .values(*keys)
        .first()
    ) or {}
    return [
        ChecklistItem(key=step.key, label=step.label, url=step.url, done=bool(row.get(key)))
        for key, step in zip(keys, steps, strict=True)
    ]


def checklist_shown(*, user: User, request=None) -> list[ChecklistItem] | None:
    """The checklist while it has something to do and the member has not hidden it (then no
    query at all). With the `request`, a checklist found done is kept as done under the
    versions of the site and of the member's page (a new manifesto version bumps "site"), so a
    member who did every step is not asked again on every visit; one with steps to do is."""
    if user.checklist_hidden_at is not None:
        return None

    def shown():
        steps = checklist(user=user)
        return None if all(step.done for step in steps) else steps

    if request is None:
        return shown()
    kept = Fragments(request, [f"member:{user.username}"])
    return kept.value("checklist", user.pk, shown, keep=lambda steps: steps is None)


def checklist_hide(*, user: User) -> None:
    """The member hides the checklist for good: a member who knows their way needs no list."""
    if user.checklist_hidden_at is None:
        user.checklist_hidden_at = timezone.now()
        user.save(update_fields=["checklist_hidden_at"])


def tasks(*, user: User) -> list[HomeTask]:
    """The member's own work waiting for them, oldest first, a few from each app."""
    found = collect("home_tasks", user=user, limit=TASKS_PER_APP)
    return sorted(found, key=lambda task: (task.when is None, task.when or datetime.min))


def sections(*, request) -> list[tuple[str, dict]]:
    """The apps' sections; the request lets them keep what every member sees alike."""
    return collect("home_sections", request=request, user=request.user)
