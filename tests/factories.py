import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from peerhub.models import ManifestoSignature, ManifestoVersion, User, Value

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"member{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    display_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified(user, create, extracted, **kwargs):
        """UserFactory(verified=False) makes a member whose address is not verified yet."""
        if create:
            EmailAddress.objects.create(
                user=user, email=user.email, primary=True, verified=extracted is not False
            )


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
