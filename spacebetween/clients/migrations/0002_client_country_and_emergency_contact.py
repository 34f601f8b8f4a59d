from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0001_clients_episodes_sessions"),
    ]

    operations = [
        migrations.AddField(
            model_name="client",
            name="country",
            field=models.CharField(blank=True, max_length=2),
        ),
        migrations.AddField(
            model_name="client",
            name="emergency_contact_name",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="client",
            name="emergency_contact_phone",
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.AddField(
            model_name="client",
            name="emergency_contact_relationship",
            field=models.CharField(blank=True, max_length=100),
        ),
    ]
