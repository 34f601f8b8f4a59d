import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0002_client_country_and_emergency_contact"),
        ("measures", "0004_risk_flags_moved_to_safety"),
    ]

    operations = [
        migrations.AddField(
            model_name="assignment",
            name="session",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="assignments",
                to="clients.session",
            ),
        ),
    ]
