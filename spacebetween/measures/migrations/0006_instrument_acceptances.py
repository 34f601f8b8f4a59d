"""Each licensed instrument is accepted by itself (InstrumentAcceptance), no longer the whole pack.

What happens to a practice that had accepted the whole pack: its acceptance in force (not withdrawn,
and for the pack's terms as they read when this migration runs) becomes an acceptance of each
instrument whose terms need no separate permission (`licence.needs_permission` false: the WAI-SR),
by the same admin at the same time. Instruments whose terms ask for the authors' permission
(DERS-16, FFMQ-15, and the others marked so) stay off until the admin accepts them one by one and
confirms the practice holds that permission. The old PackAcceptance rows stay as the record. No audit
row is written here: the migration changes no one's access, it narrows it, and the operator's
`migrate` run is the act (docs/operations.md, "Licensed instruments").
"""

import hashlib
import json
from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _pack_digest(instruments: list[Any]) -> str:
    # The whole-pack digest exactly as measures.selectors.pack_terms_digest computed it then.
    shown = [
        [i.id, i.version, i.licence.licence_class, i.licence.name, i.licence.statement, i.licence.terms or ""]
        for i in instruments
    ]
    return hashlib.sha256(json.dumps(shown, ensure_ascii=False).encode("utf-8")).hexdigest()


def _instrument_digest(i: Any) -> str:
    # measures.selectors.instrument_terms_digest as of this migration.
    lic = i.licence
    shown = [
        i.id,
        i.version,
        lic.licence_class,
        lic.name,
        lic.statement,
        lic.terms or "",
        lic.needs_permission,
    ]
    return hashlib.sha256(json.dumps(shown, ensure_ascii=False).encode("utf-8")).hexdigest()


def pack_to_instruments(apps: Any, schema_editor: Any) -> None:
    from spacebetween.core import instruments as catalogue

    PackAcceptance = apps.get_model("measures", "PackAcceptance")
    InstrumentAcceptance = apps.get_model("measures", "InstrumentAcceptance")
    pack = sorted(
        (i for i in catalogue.registry(include_licensed=True).values() if i.pack == "licensed"),
        key=lambda i: i.id,
    )
    digest = _pack_digest(pack)
    free = [i for i in pack if not i.licence.needs_permission]
    in_force = PackAcceptance.objects.filter(pack="licensed", withdrawn_at__isnull=True, terms_digest=digest)
    for old in in_force.order_by("accepted_at", "id"):
        for instrument in free:
            InstrumentAcceptance.objects.get_or_create(
                practice_id=old.practice_id,
                instrument_id=instrument.id,
                withdrawn_at=None,
                defaults={
                    "terms_digest": _instrument_digest(instrument),
                    "permission_held": False,
                    "accepted_by_id": old.accepted_by_id,
                    "accepted_at": old.accepted_at,
                },
            )


class Migration(migrations.Migration):
    dependencies = [
        ("measures", "0005_assignment_session"),
        ("practice", "0001_practice"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="InstrumentAcceptance",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("instrument_id", models.CharField(max_length=64)),
                ("terms_digest", models.CharField(max_length=64)),
                ("permission_held", models.BooleanField(default=False)),
                ("accepted_at", models.DateTimeField()),
                ("withdrawn_at", models.DateTimeField(blank=True, null=True)),
                (
                    "accepted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "practice",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="instrument_acceptances",
                        to="practice.practice",
                    ),
                ),
            ],
            options={
                "ordering": ["instrument_id", "-accepted_at"],
                "indexes": [
                    models.Index(fields=["practice", "instrument_id"], name="instrument_acceptance_lookup")
                ],
            },
        ),
        migrations.RunPython(pack_to_instruments, migrations.RunPython.noop),
    ]
