"""Encrypt the formulation's parts and the goals' words at rest (docs/formulation.md): new ciphertext
columns, the existing rows encrypted into them, then the plain-text columns dropped."""

import json

from django.db import migrations, models

from spacebetween import crypto

# Frozen copies of the contexts in spacebetween.formulation.models (they never change).
FORMULATION_CONTEXT = "formulation.FormulationVersion.content:episode={episode_id}:number={number}"
GOAL_CONTEXT = "formulation.Goal.text:goal={goal_id}"


def encrypt(apps, schema_editor):  # type: ignore[no-untyped-def]
    Version = apps.get_model("formulation", "FormulationVersion")
    Goal = apps.get_model("formulation", "Goal")
    for v in Version.objects.all().iterator():
        context = FORMULATION_CONTEXT.format(episode_id=v.episode_id, number=v.number)
        v.content_encrypted = crypto.encrypt(json.dumps(v.content or {}), context=context)
        v.save(update_fields=["content_encrypted"])
    for g in Goal.objects.all().iterator():
        g.text_encrypted = crypto.encrypt(g.text, context=GOAL_CONTEXT.format(goal_id=g.pk)) if g.text else ""
        g.save(update_fields=["text_encrypted"])


def decrypt(apps, schema_editor):  # type: ignore[no-untyped-def]
    Version = apps.get_model("formulation", "FormulationVersion")
    Goal = apps.get_model("formulation", "Goal")
    for v in Version.objects.all().iterator():
        context = FORMULATION_CONTEXT.format(episode_id=v.episode_id, number=v.number)
        v.content = (
            json.loads(crypto.decrypt(v.content_encrypted, context=context)) if v.content_encrypted else {}
        )
        v.save(update_fields=["content"])
    for g in Goal.objects.all().iterator():
        context = GOAL_CONTEXT.format(goal_id=g.pk)
        g.text = crypto.decrypt(g.text_encrypted, context=context) if g.text_encrypted else ""
        g.save(update_fields=["text"])


class Migration(migrations.Migration):
    dependencies = [("formulation", "0001_workspace")]

    operations = [
        migrations.AddField(
            model_name="formulationversion",
            name="content_encrypted",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AddField(
            model_name="goal",
            name="text_encrypted",
            field=models.TextField(blank=True, default=""),
        ),
        # The old columns get defaults so that the reverse can add them back to existing rows.
        migrations.AlterField(
            model_name="formulationversion", name="content", field=models.JSONField(default=dict)
        ),
        migrations.AlterField(model_name="goal", name="text", field=models.TextField(default="")),
        migrations.RunPython(encrypt, decrypt),
        migrations.RemoveField(model_name="formulationversion", name="content"),
        migrations.RemoveField(model_name="goal", name="text"),
    ]
