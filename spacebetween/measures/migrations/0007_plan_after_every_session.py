"""Plans may ask for a questionnaire after every session (the alliance, WAI-SR: core.schedule)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("measures", "0006_instrument_acceptances"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="measurementplanitem",
            name="plan_item_when_valid",
        ),
        migrations.AlterField(
            model_name="measurementplanitem",
            name="when",
            field=models.CharField(
                choices=[
                    ("intake", "At intake"),
                    ("every_session", "Before every session"),
                    ("every_nth_session", "Before every n-th session"),
                    ("after_every_session", "After every session"),
                    ("end_of_episode", "At the end of the episode"),
                    ("follow_up", "Follow-up after the episode"),
                ],
                max_length=24,
            ),
        ),
        migrations.AddConstraint(
            model_name="measurementplanitem",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "when__in",
                        [
                            "intake",
                            "every_session",
                            "every_nth_session",
                            "after_every_session",
                            "end_of_episode",
                            "follow_up",
                        ],
                    )
                ),
                name="plan_item_when_valid",
            ),
        ),
    ]
