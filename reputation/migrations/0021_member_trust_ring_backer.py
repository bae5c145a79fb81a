from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reputation", "0020_member_trust_voting_ring"),
    ]

    operations = [
        migrations.AddField(
            model_name="membertrust",
            name="ring_backer",
            field=models.BooleanField(default=False),
        ),
    ]
