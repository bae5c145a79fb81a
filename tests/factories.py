import factory
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Permission
from django.utils import timezone

from challenges import services
from challenges.models import Challenge, Criterion, Solution
from peerhub.models import ManifestoSignature, ManifestoVersion, User, Value

PASSWORD = "correct horse battery staple"
# The authenticator app secret of every test member given 2FA (`UserFactory(mfa=True)`, staff by
# default): tests compute its current code with `totp_code()`.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def add_totp(user, secret: str = TOTP_SECRET) -> None:
    """Give a member an authenticator app, as allauth's activation does."""
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(user, secret)


def totp_code(secret: str = TOTP_SECRET, *, offset: int = 0) -> str:
    """The authenticator app's code now (`offset` periods later or earlier)."""
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"member{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    # Named by sequence, not by Faker: a random name can start with, or contain, what a test
    # searches for or asserts is absent. Zero-padded so no name is part of another.
    display_name = factory.Sequence(lambda n: f"Tester {n:05d}")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified(user, create, extracted, **kwargs):
        """UserFactory(verified=False) makes a member whose address is not verified yet."""
        if create:
            EmailAddress.objects.create(
                user=user, email=user.email, primary=True, verified=extracted is not False
            )

    @factory.post_generation
    def mfa(user, create, extracted, **kwargs):
        """Staff have two-factor authentication by default, since staff pages require it:
        UserFactory(is_staff=True, mfa=False) makes one without; UserFactory(mfa=True) gives any
        member an authenticator app (secret TOTP_SECRET)."""
        if create and (user.is_staff if extracted is None else extracted):
            add_totp(user)


class ValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Value

    name = factory.Sequence(lambda n: f"Value {n}")
    slug = factory.Sequence(lambda n: f"value-{n}")
    description = "What this value means to us."
    position = factory.Sequence(int)


class ManifestoVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ManifestoVersion

    number = factory.Sequence(lambda n: n + 1)
    title = "Build on each other"
    preamble = "We solve real problems **together**."
    body = "## Why\n\nBecause good ideas need many hands."
    published_at = factory.LazyFunction(timezone.now)


class ManifestoSignatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ManifestoSignature

    version = factory.SubFactory(ManifestoVersionFactory)
    user = factory.SubFactory(UserFactory)


# --- Challenges ------------------------------------------------------------------------------


def make_organiser(**kwargs) -> User:
    """A verified member holding the organiser permission (challenges.add_challenge)."""
    user = UserFactory(**kwargs)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="challenges", codename="add_challenge")
    )
    return User.objects.get(pk=user.pk)  # a fresh instance: no stale permission cache


def grant(user: User, *perms: str) -> User:
    """Grant `challenges.<codename>` permissions directly, as staff could in the admin. The
    Premium ones (create_private_challenge, more_open_challenges) have no row of their own —
    the marketplace's backend answers them — so the row is made here when missing."""
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(Challenge)
    for perm in perms:
        codename = perm.removeprefix("challenges.")
        permission, _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": codename}
        )
        user.user_permissions.add(permission)
    return User.objects.get(pk=user.pk)  # a fresh instance: no stale permission cache


def make_premium_organiser(**kwargs) -> User:
    """An organiser holding the Premium organiser features, without the marketplace."""
    return grant(
        make_organiser(**kwargs),
        "challenges.create_private_challenge",
        "challenges.more_open_challenges",
    )


class ChallengeFactory(factory.django.DjangoModelFactory):
    """An open public challenge with two criteria and its creator as organiser.
    ChallengeFactory(organisers=[a, b]), ChallengeFactory(criteria=["Cost"])."""

    class Meta:
        model = Challenge
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Challenge {n}")
    slug = factory.Sequence(lambda n: f"challenge-{n}")
    summary = "Make something that works for real people."
    problem = "The **problem**, in Markdown."
    context = "Why it matters."
    status = Challenge.Status.OPEN
    visibility = Challenge.Visibility.PUBLIC
    created_by = factory.LazyFunction(make_organiser)

    @factory.post_generation
    def organisers(challenge, create, extracted, **kwargs):
        if create:
            challenge.organisers.set(extracted if extracted is not None else [challenge.created_by])

    @factory.post_generation
    def criteria(challenge, create, extracted, **kwargs):
        if create:
            names = extracted if extracted is not None else ["Works", "Affordable"]
            Criterion.objects.bulk_create(
                Criterion(challenge=challenge, position=i, name=name)
                for i, name in enumerate(names, start=1)
            )


def make_solution(
    challenge=None,
    author=None,
    *,
    title="A solution",
    body="First idea.",
    publish=True,
    language="",
) -> Solution:
    """A solution posted through the real service, so its revision and lineage are right.
    Its language is guessed from the text unless given."""
    return services.solution_create(
        challenge=challenge or ChallengeFactory(),
        author=author or UserFactory(),
        title=title,
        body=body,
        publish=publish,
        language=language,
    )


def make_fork(source: Solution, author=None, *, challenge=None, changed: bool = True) -> Solution:
    """A fork, by default a remix: its author revised the body they copied (an unchanged fork,
    `changed=False`, earns its author nothing from votes and reviews)."""
    author = author or UserFactory()
    fork = services.solution_fork(source=source, by=author, challenge=challenge)
    if changed:
        services.solution_revise(
            solution=fork,
            by=author,
            title=fork.title,
            body=f"{fork.current_revision.body}\n\nRemixed.",
        )
        fork.refresh_from_db()
    return fork
