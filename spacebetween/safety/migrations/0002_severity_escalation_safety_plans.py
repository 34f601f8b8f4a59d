"""Severity, the escalation chain and safety plans (docs/safety.md). Flags raised before this keep
their story: a notification sent on escalation becomes step 1, and an open flag gets the time of its
next step as the old single escalation would have had it (four hours after it was raised, or after
its escalation)."""

import datetime

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


OLD_ESCALATION = datetime.timedelta(hours=4)  # settings.RISK_ESCALATION_MINUTES' default until now


def number_the_steps(apps, schema_editor):
    RiskFlag = apps.get_model("safety", "RiskFlag")
    RiskNotification = apps.get_model("safety", "RiskNotification")
    RiskNotification.objects.filter(kind="escalated").update(step=1)
    for flag in RiskFlag.objects.filter(acknowledged_at__isnull=True):
        if flag.escalated_at is None:
            flag.next_escalation_at = flag.raised_at + OLD_ESCALATION
        else:
            flag.escalation_step = 1
            flag.next_escalation_at = flag.escalated_at + OLD_ESCALATION
        flag.save(update_fields=["escalation_step", "next_escalation_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0002_client_country_and_emergency_contact"),
        ("measures", "0004_risk_flags_moved_to_safety"),
        ("practice", "0001_practice"),
        ("safety", "0001_risk_flags_move_here"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="EscalationPolicy",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("urgent_minutes", models.PositiveIntegerField()),
                ("review_minutes", models.PositiveIntegerField()),
                ("on_call_email", models.EmailField(blank=True, max_length=254)),
                ("updated_at", models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name="RiskSeverityRule",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("rule_id", models.CharField(max_length=64)),
                ("min_value", models.FloatField()),
                (
                    "severity",
                    models.CharField(
                        choices=[
                            ("urgent", "Urgent: act today"),
                            ("review", "Review within one working day"),
                        ],
                        max_length=8,
                    ),
                ),
                ("updated_at", models.DateTimeField()),
            ],
            options={
                "ordering": ["practice", "rule_id", "min_value"],
            },
        ),
        migrations.CreateModel(
            name="SafetyPlan",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("version", models.PositiveIntegerField()),
                ("warning_signs", models.TextField(blank=True)),
                ("coping_strategies", models.TextField(blank=True)),
                ("distractions", models.TextField(blank=True)),
                ("people_to_ask", models.TextField(blank=True)),
                ("professionals", models.TextField(blank=True)),
                ("safer_environment", models.TextField(blank=True)),
                ("reasons_for_living", models.TextField(blank=True)),
                ("created_at", models.DateTimeField()),
            ],
            options={
                "ordering": ["client", "-version"],
            },
        ),
        migrations.RemoveConstraint(
            model_name="risknotification",
            name="risk_notification_once_per_kind",
        ),
        migrations.AddField(
            model_name="riskflag",
            name="escalation_step",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="riskflag",
            name="last_value",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="riskflag",
            name="next_escalation_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="riskflag",
            name="severity",
            field=models.CharField(
                choices=[("urgent", "Urgent: act today"), ("review", "Review within one working day")],
                default="urgent",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="riskflag",
            name="source",
            field=models.CharField(
                choices=[
                    ("submitted", "Submitted answers"),
                    ("refused", "Answers that could not be scored"),
                    ("draft", "Answer saved before sending"),
                    ("closed", "Sent after the questionnaire had closed"),
                ],
                default="submitted",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="riskflag",
            name="unreachable_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="risknotification",
            name="step",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="risknotification",
            name="to_address",
            field=models.EmailField(blank=True, max_length=254),
        ),
        migrations.AlterField(
            model_name="risknotification",
            name="kind",
            field=models.CharField(
                choices=[
                    ("raised", "Raised for the treating therapist"),
                    ("escalated", "Escalated to the next person"),
                ],
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="risknotification",
            name="recipient",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="riskflag",
            index=models.Index(
                fields=["acknowledged_at", "next_escalation_at"], name="risk_flag_escalation_due"
            ),
        ),
        migrations.AddConstraint(
            model_name="riskflag",
            constraint=models.CheckConstraint(
                condition=models.Q(("severity__in", ["urgent", "review"])), name="risk_flag_severity"
            ),
        ),
        migrations.AddConstraint(
            model_name="riskflag",
            constraint=models.CheckConstraint(
                condition=models.Q(("source__in", ["submitted", "refused", "draft", "closed"])),
                name="risk_flag_source",
            ),
        ),
        migrations.RunPython(number_the_steps, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="risknotification",
            constraint=models.UniqueConstraint(
                fields=("flag", "step"), name="risk_notification_once_per_step"
            ),
        ),
        migrations.AddField(
            model_name="escalationpolicy",
            name="practice",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="escalation_policy",
                to="practice.practice",
            ),
        ),
        migrations.AddField(
            model_name="escalationpolicy",
            name="updated_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddField(
            model_name="riskseverityrule",
            name="practice",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="risk_severity_rules",
                to="practice.practice",
            ),
        ),
        migrations.AddField(
            model_name="riskseverityrule",
            name="updated_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddField(
            model_name="safetyplan",
            name="client",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="safety_plans", to="clients.client"
            ),
        ),
        migrations.AddField(
            model_name="safetyplan",
            name="created_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddConstraint(
            model_name="escalationpolicy",
            constraint=models.CheckConstraint(
                condition=models.Q(("urgent_minutes__gte", 5)), name="escalation_urgent_min"
            ),
        ),
        migrations.AddConstraint(
            model_name="escalationpolicy",
            constraint=models.CheckConstraint(
                condition=models.Q(("review_minutes__gte", 5)), name="escalation_review_min"
            ),
        ),
        migrations.AddConstraint(
            model_name="riskseverityrule",
            constraint=models.UniqueConstraint(
                fields=("practice", "rule_id", "min_value"), name="risk_severity_one_per_value"
            ),
        ),
        migrations.AddConstraint(
            model_name="riskseverityrule",
            constraint=models.CheckConstraint(
                condition=models.Q(("severity__in", ["urgent", "review"])), name="risk_severity_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="safetyplan",
            constraint=models.UniqueConstraint(
                fields=("client", "version"), name="safety_plan_one_per_version"
            ),
        ),
    ]
