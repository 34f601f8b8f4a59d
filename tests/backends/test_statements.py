"""spacebetween.statements writes and reads rows exactly as the ORM does (the answer path relies on it):
times in UTC to the microsecond, JSON, foreign keys and NULLs; an upsert replaces only the other
columns; a joined row splits into instances whose fields equal the ORM's. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Model

from spacebetween import statements
from spacebetween.accounts.models import User
from spacebetween.clients.models import Client, Episode
from spacebetween.insights.models import StaleEpisode
from spacebetween.measures.models import Assignment, AssignmentStatus, Response

WHEN = dt.datetime(2026, 11, 3, 14, 5, 9, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))


def _values(instance: object, model: type[Model]) -> dict[str, object]:
    return {f.attname: getattr(instance, f.attname) for f in model._meta.concrete_fields}


@pytest.fixture
def assignment(episode: Episode, alice: User) -> Assignment:
    return Assignment.objects.create(
        episode=episode,
        instrument_id="phq9",
        instrument_version="1.0.0",
        due_at=WHEN,
        expires_at=WHEN + dt.timedelta(days=7),
        status=AssignmentStatus.ANSWERED,
        created_by=alice,
        created_at=WHEN,
    )


def test_an_inserted_row_reads_back_through_the_orm_as_written(assignment: Assignment) -> None:
    written = {
        "assignment": assignment.pk,
        "instrument_id": "phq9",
        "instrument_version": "1.0.0",
        "instrument_language": "en",
        "answers": {"phq9_1": 2, "phq9_2": None, "phq9_3": 1.5},
        "submitted_at": WHEN,
        "submitted_via": "api",
        "submitted_by": None,
        "scores": {"total": {"score": 7.0, "band": "mild", "prorated": False}},
        "risk": {"phq9_item9": False},
        "any_risk": False,
    }
    pk = statements.insert(Response, written)
    stored = Response.objects.get(pk=pk)
    assert stored.assignment_id == assignment.pk
    assert stored.submitted_at == WHEN
    assert stored.submitted_at.utcoffset() == dt.timedelta(0)  # stored as UTC, like the ORM's rows
    assert (stored.answers, stored.scores, stored.risk) == (
        written["answers"],
        written["scores"],
        written["risk"],
    )
    assert stored.submitted_by_id is None
    assert Response.objects.filter(submitted_at=WHEN).get().pk == pk  # the ORM's lookups find it


def test_an_upsert_replaces_the_other_columns_of_an_existing_row(episode: Episode) -> None:
    statements.insert(StaleEpisode, {"episode": episode.pk, "marked_at": WHEN}, returning_pk=False)
    later = WHEN + dt.timedelta(minutes=3)
    statements.insert(
        StaleEpisode, {"episode": episode.pk, "marked_at": later}, returning_pk=False, unique=["episode"]
    )
    [mark] = StaleEpisode.objects.all()
    assert (mark.episode_id, mark.marked_at) == (episode.pk, later)


def test_a_joined_row_splits_into_instances_equal_to_the_orms(assignment: Assignment) -> None:
    listed = ", ".join(statements.select_list(m, m._meta.db_table) for m in (Assignment, Episode, Client))
    a, e, c = (statements.columns(m, "id") for m in (Assignment, Episode, Client))
    _, rows = statements.execute(
        f"SELECT {listed} FROM {a['table']} "  # noqa: S608 - test's own names
        f"JOIN {e['table']} ON {e['table']}.{e['id']} = {a['table']}.episode_id "
        f"JOIN {c['table']} ON {c['table']}.{c['id']} = {e['table']}.client_id "
        f"WHERE {a['table']}.{a['id']} = %s",
        (assignment.pk,),
    )
    got = statements.from_row(rows[0], Assignment, Episode, Client)
    orm = Assignment.objects.select_related("episode__client").get(pk=assignment.pk)
    assert _values(got[0], Assignment) == _values(orm, Assignment)
    assert _values(got[1], Episode) == _values(orm.episode, Episode)
    assert _values(got[2], Client) == _values(orm.episode.client, Client)
    assert isinstance(got[0], Assignment) and got[0].due_at == WHEN
    assert not got[0]._state.adding


def test_a_conditional_update_reports_the_rows_it_changed(assignment: Assignment) -> None:
    t = statements.columns(Assignment, "id", "status")
    sql = f"UPDATE {t['table']} SET {t['status']} = %s WHERE {t['id']} = %s AND {t['status']} = %s"  # noqa: S608
    assert statements.execute(sql, ("revoked", assignment.pk, "due")) == (0, [])
    assert statements.execute(sql, ("revoked", assignment.pk, "answered")) == (1, [])
    assert Assignment.objects.get(pk=assignment.pk).status == "revoked"


def _another(assignment: Assignment, instrument_id: str) -> Assignment:
    """A second assignment in the same episode."""
    return Assignment.objects.create(
        episode=assignment.episode,
        instrument_id=instrument_id,
        instrument_version="1.0.0",
        due_at=WHEN,
        expires_at=WHEN + dt.timedelta(days=7),
        created_by=assignment.created_by,
        created_at=WHEN,
    )


def test_get_reads_one_row_by_key_or_unique_fields_as_the_orm_does(assignment: Assignment) -> None:
    other = _another(assignment, "gad7")
    got = statements.get(Assignment, id=assignment.pk)
    orm = Assignment.objects.get(pk=assignment.pk)
    assert got is not None and _values(got, Assignment) == _values(orm, Assignment)
    # A foreign key by its id, with another field: the other assignment is not it.
    by_fields = statements.get(Assignment, episode=assignment.episode_id, instrument_id="gad7")
    assert by_fields is not None and by_fields.pk == other.pk
    assert statements.get(Assignment, id=other.pk + 1000) is None


def test_get_refuses_more_than_one_row(assignment: Assignment) -> None:
    _another(assignment, "phq9")
    with pytest.raises(Assignment.MultipleObjectsReturned, match="2 rows of Assignment"):
        statements.get(Assignment, episode=assignment.episode_id)


def test_select_reads_every_matching_row_in_the_order_asked(assignment: Assignment) -> None:
    second, third = _another(assignment, "gad7"), _another(assignment, "core10")
    rows = statements.select(Assignment, order_by=("instrument_id", "id"), episode=assignment.episode_id)
    assert [a.pk for a in rows] == [third.pk, second.pk, assignment.pk]  # core10, gad7, phq9
    assert statements.select(Assignment, episode=assignment.episode_id, instrument_id="wsas") == []


def test_select_without_a_condition_is_refused_before_any_sql(assignment: Assignment) -> None:
    with pytest.raises(ValueError, match="select from Assignment needs at least one field"):
        statements.select(Assignment)
    with pytest.raises(ValueError, match="select from Assignment needs at least one field"):
        statements.get(Assignment)
