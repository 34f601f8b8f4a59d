"""CrisisResource moves from `delivery` to `safety`, the room that owns risk and the crisis page. Only
Django's picture of the model moves: the table keeps its name (`delivery_crisisresource`, `db_table`),
so no row is copied and nothing is written (delivery 0002 takes it out of `delivery`'s picture)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("safety", "0002_severity_escalation_safety_plans"),
        ("delivery", "0001_links_drafts_crisis_resources"),
        ("practice", "0001_practice"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="CrisisResource",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("country", models.CharField(help_text="ISO 3166-1 alpha-2", max_length=2)),
                        ("name", models.CharField(max_length=200)),
                        ("phone", models.CharField(blank=True, max_length=64)),
                        ("text", models.TextField(blank=True)),
                        ("url", models.URLField(blank=True)),
                        ("position", models.PositiveSmallIntegerField(default=0)),
                        (
                            "practice",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="crisis_resources",
                                to="practice.practice",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["practice", "country", "position", "id"],
                        "db_table": "delivery_crisisresource",
                    },
                ),
            ],
        ),
    ]
