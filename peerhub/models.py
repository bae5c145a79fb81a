"""The site's own models: members, the manifesto and its values."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.urls import reverse
from django.utils import timezone


class User(AbstractUser):
    """A member. Custom from the first migration so that profiles can grow without a swap."""

    display_name = models.CharField(max_length=80, blank=True)
    bio = models.TextField(blank=True, help_text="Markdown.")
    skills = models.CharField(
        max_length=300, blank=True, help_text="Comma-separated, e.g. “civic tech, soldering”."
    )

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.username

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def skill_list(self) -> list[str]:
        return [s.strip() for s in self.skills.split(",") if s.strip()]

    def get_absolute_url(self) -> str:
        return reverse("profile", kwargs={"username": self.username})


class Value(models.Model):
    """One of the manifesto's values; challenges say which values they serve."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=80, unique=True)
    description = models.TextField(help_text="Markdown.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("manifesto") + f"#value-{self.slug}"


class ManifestoVersionQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published_at__isnull=False, published_at__lte=timezone.now())


class ManifestoVersion(models.Model):
    """A version of the platform's manifesto. The newest published one is the current one;
    signatures belong to a version, so publishing a new one asks every member to sign again."""

    number = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    preamble = models.TextField(help_text="Markdown: the heart of the manifesto, shown on home.")
    body = models.TextField(help_text="Markdown.")
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ManifestoVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        get_latest_by = "number"

    def __str__(self) -> str:
        return f"v{self.number}: {self.title}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None and self.published_at <= timezone.now()


class ManifestoSignature(models.Model):
    version = models.ForeignKey(
        ManifestoVersion, on_delete=models.PROTECT, related_name="signatures"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="manifesto_signatures"
    )
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "user"], name="one_signature_per_member_and_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} signed v{self.version.number}"
