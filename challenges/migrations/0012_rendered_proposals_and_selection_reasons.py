"""Challenge proposals, upstream proposals and selection rounds keep their Markdown rendered at
write time (mentions linked), like comments; the rows already there are rendered here with
today's renderer (nobody is notified). Selection reasons were shown as plain text before: they
are Markdown now, written in the same editor."""

from django.db import migrations, models


def render_existing(apps, schema_editor):
    from challenges.rendering import rerender_markdown

    proposal = apps.get_model("challenges", "ChallengeProposal")
    rerender_markdown(proposal, source="problem")
    rerender_markdown(proposal, source="context")
    rerender_markdown(apps.get_model("challenges", "UpstreamProposal"), source="message")
    rerender_markdown(apps.get_model("challenges", "SelectionRound"), source="summary")
    entry = apps.get_model("challenges", "SelectionEntry")
    rerender_markdown(entry, source="reason")
    rerender_markdown(entry, source="winner_reason")


class Migration(migrations.Migration):
    dependencies = [
        ("challenges", "0011_merge_20261203_0603"),
    ]

    operations = [
        migrations.AddField(
            model_name="challengeproposal",
            name="context_html",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="challengeproposal",
            name="problem_html",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="selectionentry",
            name="reason_html",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="selectionentry",
            name="winner_reason_html",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="selectionround",
            name="summary_html",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="upstreamproposal",
            name="message_html",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(render_existing, migrations.RunPython.noop, elidable=True),
    ]
