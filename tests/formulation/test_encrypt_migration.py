"""Migration 0002 encrypts the formulations and goals written before it, and its reverse restores them."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from spacebetween.accounts.models import User
from spacebetween.clients.models import Episode
from spacebetween.formulation.models import FormulationVersion, Goal
from tests.browser.conftest import _lift_audit_triggers

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("formulation", "0001_workspace")]
AFTER = [("formulation", "0002_encrypt_text")]
PLAIN_VERSION = """INSERT INTO formulation_formulationversion
    (episode_id, number, author_id, recorded_at, content, measures)
    VALUES (%s, 1, %s, '2026-09-01 10:00:00', %s, '[]')"""


def _migrate(target: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


def test_existing_rows_are_encrypted_and_back(alice: User, episode: Episode) -> None:
    _migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                PLAIN_VERSION,
                [episode.pk, alice.pk, json.dumps({"ccrt_wish": "To be looked after"})],
            )
            cursor.execute(
                "INSERT INTO formulation_goal (episode_id, text, created_by_id, created_at) VALUES"
                " (%s, 'Sleep through the night', %s, '2026-09-01 10:00:00')",
                [episode.pk, alice.pk],
            )
        _migrate(AFTER)
        with connection.cursor() as cursor:
            cursor.execute("SELECT content_encrypted FROM formulation_formulationversion")
            (sealed,) = cursor.fetchone()
        assert sealed and "looked after" not in sealed
        # only the columns 0002 has (later migrations add others, such as the evidence)
        version = FormulationVersion.objects.only("episode_id", "number", "content_encrypted").get()
        assert version.content["ccrt_wish"] == "To be looked after"
        assert Goal.objects.get().text == "Sleep through the night"
        _migrate(BEFORE)
        with connection.cursor() as cursor:
            cursor.execute("SELECT content FROM formulation_formulationversion")
            (plain,) = cursor.fetchone()
        assert json.loads(plain) == {"ccrt_wish": "To be looked after"}
    finally:
        _migrate(executor_leaves())
        _lift_audit_triggers()  # the teardown empties every table, the audit log's too


def executor_leaves() -> list[tuple[str, str]]:
    """The latest migration of every app, to leave the schema as the other tests expect."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()
