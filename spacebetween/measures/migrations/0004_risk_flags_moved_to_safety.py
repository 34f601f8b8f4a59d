"""RiskFlag and RiskNotification now belong to `safety` (safety 0001): they leave `measures`' picture
of the models only. Their tables stay where they are, under their first names."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("measures", "0003_measurement_plans"),
        ("safety", "0001_risk_flags_move_here"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(model_name="risknotification", name="flag"),
                migrations.RemoveField(model_name="risknotification", name="recipient"),
                migrations.DeleteModel(name="RiskFlag"),
                migrations.DeleteModel(name="RiskNotification"),
            ],
        ),
    ]
