"""CrisisResource now belongs to `safety` (safety 0003): it leaves `delivery`'s picture of the models
only. Its table stays where it is, under its first name (`delivery_crisisresource`)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0001_links_drafts_crisis_resources"),
        ("safety", "0003_crisis_resources_move_here"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="CrisisResource"),
            ],
        ),
    ]
