"""Load a believable demo world. Idempotent: running it again updates nothing that exists."""

import importlib
import importlib.util
from datetime import timedelta

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import encrypt
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from peerhub.models import ManifestoSignature, ManifestoVersion, User, Value

DEMO_PASSWORD = "peerhub-demo"  # noqa: S105  (documented demo password, README lists it)
# Staff pages need two-factor authentication: the staff account `ada` has an authenticator app
# with this secret and recovery codes from this seed, both listed in README (a demo's secrets
# are public, like its password).
DEMO_TOTP_SECRET = "PEERHUBDEMOADA234567PEERHUBDEMO2"  # noqa: S105
DEMO_RECOVERY_SEED = "peerhub-demo-recovery-codes-for-ada"

VALUES = [
    (
        "openness",
        "Openness",
        "Challenges, solutions and the reasons behind every decision are public by default. "
        "Anyone can read, learn from and build on them.",
    ),
    (
        "building-on-each-other",
        "Building on each other",
        "We fork, remix and improve each other's work, and we show the lineage. "
        "Building on someone is the highest compliment, and credit flows back to them.",
    ),
    (
        "transparent-feedback",
        "Transparent feedback",
        "Votes, reviews and reputation are explainable line by line. "
        "Nobody has to guess why a solution ranks where it does.",
    ),
    (
        "care-for-the-commons",
        "Care for the commons",
        "What we make together is shared under open licences and maintained for those who "
        "come after us, not enclosed for a few.",
    ),
    (
        "real-world-impact",
        "Real-world impact",
        "We work on problems that matter to real people and places, and judge solutions by "
        "whether they work there.",
    ),
]

PREAMBLE = (
    "PeerHub is a place where people who have never met solve real problems together. "
    "**We frame challenges that matter, answer them in the open, and build on each other's "
    "work** — so that the best ideas win on their merits and everyone who contributed to them "
    "is seen."
)

BODY = """\
## Why we are here

Most good ideas are not born whole. They start as a sketch, get improved by someone who saw a
flaw, are adapted to another town by someone else, and become useful only after many hands.
Yet most platforms reward the last hand and forget the rest. PeerHub keeps the whole story.

## What we commit to

1. **We frame before we build.** A challenge says what the problem is, why it matters, who it
   affects and how a good answer will be judged.
2. **We work in the open.** Every solution keeps its full revision history. Nothing is silently
   overwritten.
3. **We build on each other.** Forking is encouraged. When you build on someone's work, the
   lineage shows it and part of the recognition flows back to them.
4. **We give feedback we can explain.** Votes and reviews are tied to the challenge's criteria.
   Reputation comes from facts anyone can inspect.
5. **We select fairly.** Organisers give reasons for every shortlist and every winner.
6. **We share what we make.** Contributions are licensed CC BY-SA 4.0 unless a challenge says
   otherwise, and hand-made services are paid fairly.

## How we treat each other

We follow the [code of conduct](/code-of-conduct/). Critique the work, not the person. Credit
generously. Never game the feedback that others rely on.
"""

MEMBERS = [
    # username, display name, e-mail, role, bio, skills
    ("ada", "Ada Okafor", "ada@peerhub.localhost", "staff",
     "Community steward at PeerHub. I look after the manifesto and the moderation queue.",
     "community, moderation, facilitation"),
    ("marta", "Marta Lindqvist", "marta@peerhub.localhost", "organiser",
     "Urban planner working on water and mobility in mid-sized towns.",
     "urban planning, water systems, GIS"),
    ("kwame", "Kwame Mensah", "kwame@peerhub.localhost", "organiser",
     "Runs a repair café network and organises open-hardware challenges.",
     "open hardware, repair, electronics"),
    ("li", "Li Wei", "li@peerhub.localhost", "contributor",
     "Civil engineer. I like low-tech answers that a village can maintain itself.",
     "civil engineering, low-tech, hydraulics"),
    ("sofia", "Sofia Rossi", "sofia@peerhub.localhost", "contributor",
     "Designer of public services. Participatory budgeting nerd.",
     "service design, civic tech, facilitation"),
    ("tomas", "Tomás Ferreira", "tomas@peerhub.localhost", "contributor",
     "Maker and firmware developer; I build sensors out of scrap.",
     "firmware, sensors, 3D printing"),
    ("amina", "Amina Yusuf", "amina@peerhub.localhost", "contributor",
     "Agronomist working with food co-ops on short supply chains.",
     "agronomy, logistics, co-ops"),
    ("jonas", "Jonas Becker", "jonas@peerhub.localhost", "contributor",
     "Data scientist. I volunteer on open-data projects for local councils.",
     "data analysis, Python, open data"),
]  # fmt: skip


DEMO_MAILERS = {"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}


class Command(BaseCommand):
    help = "Create the demo world (idempotent). Demo password for every account: peerhub-demo."

    def handle(self, *args, **options):
        # The demo's notifications tell of events in its past: none of them is e-mailed (the
        # e-mails go out after commit, hence around the transaction). Its members write a
        # community's weeks in a second: the write throttles would stop them.
        with (
            override_settings(MAILERS=DEMO_MAILERS, PEERHUB_WRITE_LIMITS_ENABLED=False),
            transaction.atomic(),
        ):
            self._seed()

    def _seed(self) -> None:
        values = self._values()
        version = self._manifesto()
        members = self._members()
        self._signatures(version, members)
        self._staff_second_factor(members)
        # The story's payouts happened before sellers were asked for 2FA; a seller who asks for
        # one now is asked to set it up.
        with override_settings(PEERHUB_MFA={**settings.PEERHUB_MFA, "payouts": False}):
            self._seed_apps()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(values)} values, manifesto v{version.number}, "
                f"{len(members)} members (password “{DEMO_PASSWORD}”)."
            )
        )

    def _seed_apps(self) -> None:
        """Each domain app may ship a `demo` module with `seed(command)`. It is found through the
        app registry, so the site never imports the apps that build on it. A demo module may
        also define `prepare(command)`, run for every app before any `seed`: what the members
        hold before the story starts (e.g. the marketplace's Premium organiser, whom the
        challenges demo needs for a private challenge)."""
        demos = [
            importlib.import_module(f"{config.name}.demo")
            for config in apps.get_app_configs()
            if config.name != "peerhub" and importlib.util.find_spec(f"{config.name}.demo")
        ]
        for demo in demos:
            if hasattr(demo, "prepare"):
                demo.prepare(command=self)
        for config in apps.get_app_configs():
            # `<app>.social_demo`: follows and notifications, after the app's own demo.
            for module_name in (f"{config.name}.demo", f"{config.name}.social_demo"):
                if config.name == "peerhub" or importlib.util.find_spec(module_name) is None:
                    continue
                importlib.import_module(module_name).seed(command=self)

    def _values(self) -> list[Value]:
        values = []
        for position, (slug, name, description) in enumerate(VALUES):
            value, _ = Value.objects.get_or_create(
                slug=slug,
                defaults={"name": name, "description": description, "position": position},
            )
            values.append(value)
        return values

    def _manifesto(self) -> ManifestoVersion:
        version, _ = ManifestoVersion.objects.get_or_create(
            number=1,
            defaults={
                "title": "Build on each other",
                "preamble": PREAMBLE,
                "body": BODY,
                "published_at": timezone.now() - timedelta(days=30),
            },
        )
        return version

    def _members(self) -> list[User]:
        add_challenge = Permission.objects.filter(
            content_type__app_label="challenges", codename="add_challenge"
        ).first()
        members = []
        now = timezone.now()
        for index, (username, name, email, role, bio, skills) in enumerate(MEMBERS):
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(
                    username=username,
                    email=email,
                    display_name=name,
                    bio=bio,
                    skills=skills,
                    is_staff=role == "staff",
                    is_superuser=role == "staff",
                    # Members joined before the story's weeks began (the manifesto, a month
                    # ago; the first challenges, some weeks before it) and signed in lately.
                    date_joined=now - timedelta(days=120 - 7 * index),
                    last_login=now - timedelta(hours=3 + 5 * index),
                )
                user.set_password(DEMO_PASSWORD)
                user.save()
                EmailAddress.objects.get_or_create(
                    user=user, email=email, defaults={"verified": True, "primary": True}
                )
            # Granted on every run: members seeded before the challenges app existed get it too.
            if role == "organiser" and add_challenge is not None:
                user.user_permissions.add(add_challenge)
            members.append(user)
        return members

    def _staff_second_factor(self, members: list[User]) -> None:
        for user in members:
            if not user.is_staff or Authenticator.objects.filter(user=user).exists():
                continue
            Authenticator.objects.create(
                user=user, type=Authenticator.Type.TOTP, data={"secret": encrypt(DEMO_TOTP_SECRET)}
            )
            Authenticator.objects.create(
                user=user,
                type=Authenticator.Type.RECOVERY_CODES,
                data={"seed": encrypt(DEMO_RECOVERY_SEED), "used_mask": 0},
            )

    def _signatures(self, version: ManifestoVersion, members: list[User]) -> None:
        start = version.published_at or timezone.now()
        for index, user in enumerate(members[:6]):
            ManifestoSignature.objects.get_or_create(
                user=user,
                version=version,
                defaults={"signed_at": start + timedelta(days=index * 3, hours=index)},
            )
