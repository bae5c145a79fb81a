from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count

from . import services
from .models import ManifestoSignature, ManifestoVersion, User, Value


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Profile", {"fields": ("display_name", "bio", "skills")}),
    )
    list_display = ("username", "display_name", "email", "is_staff", "is_active", "date_joined")
    search_fields = ("username", "display_name", "email")


@admin.register(Value)
class ValueAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "position")
    list_editable = ("position",)
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name", "description")


@admin.register(ManifestoVersion)
class ManifestoVersionAdmin(admin.ModelAdmin):
    list_display = ("number", "title", "published_at", "signature_count")
    list_filter = (("published_at", admin.EmptyFieldListFilter),)
    search_fields = ("title", "body")
    actions = ["publish_now"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_signatures=Count("signatures"))

    @admin.display(description="signatures", ordering="n_signatures")
    def signature_count(self, obj):
        return obj.n_signatures

    @admin.action(description="Publish the selected version now (members are asked to sign it)")
    def publish_now(self, request, queryset):
        for version in queryset.filter(published_at__isnull=True):
            services.manifesto_publish(version=version)
        self.message_user(request, "Published.", messages.SUCCESS)


@admin.register(ManifestoSignature)
class ManifestoSignatureAdmin(admin.ModelAdmin):
    list_display = ("user", "version", "signed_at")
    list_filter = ("version",)
    search_fields = ("user__username", "user__email")
    raw_id_fields = ("user",)
    date_hierarchy = "signed_at"
