from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """For append-only records (revisions, ledger lines): staff read them, nobody edits them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def render_stored_html(obj, fields: dict[str, str]) -> None:
    """Render each Markdown field of `obj` into its stored HTML field (`{"body": "body_html"}`),
    mentions linked, as the services do when the author writes. Nobody is notified: a staff
    correction is not a new mention by the author."""
    from .mentions import render_with_mentions

    for source, html in fields.items():
        setattr(obj, html, render_with_mentions(getattr(obj, source)).html)


class RenderedMarkdownAdmin(admin.ModelAdmin):
    """For models that store their Markdown rendered at write time: an edit made here renders
    it again, so the page never shows the words from before the edit."""

    rendered_fields: dict[str, str] = {}

    def save_model(self, request, obj, form, change):
        render_stored_html(obj, self.rendered_fields)
        super().save_model(request, obj, form, change)
