import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0002_crisis_resources_moved_to_safety"),
        ("measures", "0005_assignment_session"),
    ]

    operations = [
        migrations.AddField(
            model_name="questionnairelink",
            name="replaced_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="LinkStep",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveSmallIntegerField()),
                (
                    "assignment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="link_steps",
                        to="measures.assignment",
                    ),
                ),
                (
                    "link",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="steps",
                        to="delivery.questionnairelink",
                    ),
                ),
            ],
            options={
                "ordering": ["link", "position"],
                "constraints": [
                    models.UniqueConstraint(fields=("link", "position"), name="link_step_position_once"),
                    models.UniqueConstraint(fields=("link", "assignment"), name="link_step_assignment_once"),
                ],
            },
        ),
    ]
