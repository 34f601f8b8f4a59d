"""RiskFlag and RiskNotification move from `measures` to `safety`, the room that owns risk. Only
Django's picture of the models moves: the tables keep their names (`db_table`), so no row is copied
and nothing is written (measures 0004 takes them out of `measures`' picture)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("measures", "0003_measurement_plans"),
        ("clients", "0001_clients_episodes_sessions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="RiskFlag",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("rule_id", models.CharField(max_length=64)),
                        ("item_id", models.CharField(max_length=64)),
                        ("answer_value", models.FloatField()),
                        ("raised_at", models.DateTimeField()),
                        ("acknowledged_at", models.DateTimeField(blank=True, null=True)),
                        ("action_taken", models.TextField(blank=True)),
                        ("escalated_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "acknowledged_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "assignment",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="risk_flags",
                                to="measures.assignment",
                            ),
                        ),
                        (
                            "episode",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="risk_flags",
                                to="clients.episode",
                            ),
                        ),
                        (
                            "escalated_to",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "response",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="risk_flags",
                                to="measures.response",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["raised_at", "id"],
                        "db_table": "measures_riskflag",
                    },
                ),
                migrations.CreateModel(
                    name="RiskNotification",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("raised", "Raised for the treating therapist"),
                                    ("escalated", "Escalated to the backup"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("created_at", models.DateTimeField()),
                        ("delivered_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "flag",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="notifications",
                                to="safety.riskflag",
                            ),
                        ),
                        (
                            "recipient",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["created_at", "id"],
                        "db_table": "measures_risknotification",
                    },
                ),
                migrations.AddIndex(
                    model_name="riskflag",
                    index=models.Index(fields=["acknowledged_at", "raised_at"], name="risk_flag_open"),
                ),
                migrations.AddConstraint(
                    model_name="riskflag",
                    constraint=models.UniqueConstraint(
                        fields=("assignment", "rule_id"), name="risk_flag_one_per_rule"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="riskflag",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("acknowledged_at__isnull", True), ("acknowledged_by__isnull", True)),
                            models.Q(
                                ("acknowledged_at__isnull", False),
                                ("acknowledged_by__isnull", False),
                                models.Q(("action_taken", ""), _negated=True),
                            ),
                            _connector="OR",
                        ),
                        name="risk_flag_acknowledged_with_action",
                    ),
                ),
                migrations.AddIndex(
                    model_name="risknotification",
                    index=models.Index(
                        fields=["delivered_at", "created_at"], name="risk_notification_pending"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="risknotification",
                    constraint=models.UniqueConstraint(
                        fields=("flag", "kind"), name="risk_notification_once_per_kind"
                    ),
                ),
            ],
        ),
    ]
