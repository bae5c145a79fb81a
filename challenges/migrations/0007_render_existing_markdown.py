"""Fill what 0006 added for the rows already there: each reply's thread, and the rendered HTML
of comments and revisions. It calls today's renderer (peerhub.markdown); when the renderer
changes later, `manage.py rerender_markdown` renders everything again."""

from django.db import migrations


def forwards(apps, schema_editor):
    from challenges.rendering import link_comment_threads, rerender_markdown

    comment = apps.get_model("challenges", "Comment")
    link_comment_threads(comment)
    rerender_markdown(comment, missing_only=True)
    rerender_markdown(apps.get_model("challenges", "Revision"), missing_only=True)


class Migration(migrations.Migration):
    dependencies = [("challenges", "0006_rendered_markdown")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
