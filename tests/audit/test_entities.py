"""One vocabulary for what an audit event is about: `audit.models.Entity`. Every `entity_type=` in the
package names a member (or is a parameter typed `Entity`, which mypy holds callers to), and the members
are the very strings rows carried before there was a vocabulary: the chain's hashes cover them."""

from __future__ import annotations

import ast
from pathlib import Path

from spacebetween.audit.models import Entity

PACKAGE = Path(__file__).resolve().parent.parent.parent / "spacebetween"

# Every entity type the package wrote when the vocabulary was made (literal strings, and the class
# names of Client, Episode, Session, PackAcceptance and ImportedInstrument). Add; never change one.
IN_USE_BEFORE = {
    "ApiKey",
    "ApiRequest",
    "Assignment",
    "AssignmentReminder",
    "Caseload",
    "Client",
    "CrisisResource",
    "Episode",
    "EscalationPolicy",
    "ExpectedRecoveryFit",
    "ImportedInstrument",
    "InsightSettings",
    "Instrument",
    "MeasurementPlan",
    "OutboxMessage",
    "PackAcceptance",
    "Page",
    "Practice",
    "PracticeOutcomes",
    "PracticeOverview",
    "QuestionnaireLink",
    "Response",
    "RiskFlag",
    "RiskNotification",
    "RiskSeverityRule",
    "SafetyPlan",
    "Session",
    "SessionReflection",
    "User",
}
# Members added since, each for a new kind of thing.
ADDED_SINCE = {
    "ConsentRecord",  # a client's consent decisions (spacebetween.consent)
    "RetentionPolicy",  # a practice's retention rule for erasure (spacebetween.rights)
    "SignInLink",  # `spacebetween setup`'s one-time sign-in links (accounts.SignInLink)
    "AuditLog",  # the admin's audit log page and its CSV export
    "InstrumentAcceptance",  # one licensed instrument's terms accepted (measures.InstrumentAcceptance)
    "Outbox",  # the admin's e-mail outbox page
    "PracticeSettings",  # the admin's settings page
    "ExerciseAssignment",  # an exercise set for an episode (spacebetween.exercises)
    "ExerciseEntry",  # a client's entry in an exercise
    "ReadingShare",  # a psychoeducation page shared with a client
    "PracticeExercise",  # an exercise a practice wrote from building blocks (spacebetween.exercises.own)
    "PracticePage",  # a library page a practice wrote in Markdown (spacebetween.exercises.own_pages)
    "NoteTemplate",  # a practice's headings for a kind of session note (spacebetween.notes)
    "ProcessNote",  # a therapist's private process note (spacebetween.notes)
    "ProgressNote",  # a session's progress note (spacebetween.notes)
    "FormulationVersion",  # one version of an episode's case formulation (spacebetween.formulation)
    "Goal",  # a client's goal in their own words (spacebetween.formulation)
    "GoalRating",  # a goal rated 0-10 at a session (spacebetween.formulation)
    "ProgressViewSetting",  # whether a client sees their own progress in the portal (spacebetween.progress)
    "Transcript",  # a session's transcript, its turns encrypted (spacebetween.transcripts)
    "Search",  # a therapist's search of their own caseload (spacebetween.search)
    "SessionQuestion",  # a Socratic question pinned to a session (spacebetween.notes)
    "SocraticQuestion",  # a practice's library of Socratic questions (spacebetween.notes)
    "SupervisionNote",  # a supervisor's note on an episode shared for supervision (spacebetween.notes)
    "RuptureNote",  # a therapist's note on an alliance rupture (spacebetween.relationship)
    "SessionTheme",  # a transference or counter-transference theme tagged on a session (relationship)
    "ThemeLabel",  # a label in a practice's list of transference themes (spacebetween.relationship)
    "ReconsolidationWork",  # memory-reconsolidation work in an episode (spacebetween.formulation)
    "ReconsolidationStep",  # a dated step of reconsolidation work
    "MarkerCheck",  # verification markers checked on reconsolidation work
}


def _typed_entity(annotation: ast.expr | None) -> bool:
    return annotation is not None and "Entity" in ast.unparse(annotation)


def _named(value: ast.expr, entity_params: set[str]) -> bool:
    """Whether `value` is a member (`Entity.X`, `Entity(name)`), None, a parameter typed Entity, or a
    choice between those."""
    if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id == "Entity":
        return value.attr in Entity.__members__
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "Entity":
        return True
    if isinstance(value, ast.Constant) and value.value is None:
        return True
    if isinstance(value, ast.Name):
        return value.id in entity_params
    if isinstance(value, ast.IfExp):
        return _named(value.body, entity_params) and _named(value.orelse, entity_params)
    return False


def unnamed_entity_types(path: str, source: str) -> list[str]:
    """Each `entity_type=` that is not a member of Entity, and each `entity_type` parameter not typed
    Entity."""
    found = []

    def visit(node: ast.AST, entity_params: set[str]) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = node.args
            params = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            for param in params:
                if param.arg == "entity_type" and not _typed_entity(param.annotation):
                    found.append(f"{path}:{node.lineno} the parameter entity_type is not typed Entity")
            entity_params = {p.arg for p in params if _typed_entity(p.annotation)}
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "entity_type" and not _named(keyword.value, entity_params):
                    found.append(f"{path}:{node.lineno} entity_type={ast.unparse(keyword.value)}")
        for child in ast.iter_child_nodes(node):
            visit(child, entity_params)

    visit(ast.parse(source, filename=path), set())
    return found


def test_every_entity_type_in_the_package_is_a_member_of_entity() -> None:
    sources = {
        path.relative_to(PACKAGE).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(PACKAGE.rglob("*.py"))
        if "migrations" not in path.parts
    }
    found = [line for path, source in sources.items() for line in unnamed_entity_types(path, source)]
    assert not found, "name the entity with audit.models.Entity:\n" + "\n".join(found)


def test_the_check_finds_a_string() -> None:
    source = (
        "def f(entity_type: Entity, other: str):\n"
        "    record(entity_type=Entity.CLIENT)\n"
        "    record(entity_type=entity_type)\n"
        "    record(entity_type=Entity.CLIENT if other else None)\n"
        "    record(entity_type=Entity(type(other).__name__))\n"
        "    record(entity_type='Client')\n"
        "    record(entity_type=other)\n"
        "    record(entity_type=Entity.NO_SUCH_THING)\n"
        "    record(entity_type=Entity.CLIENT if other else 'Session')\n"
        "def g(entity_type: str): pass\n"
    )
    assert [line.split(" ", 1)[0] for line in unnamed_entity_types("x.py", source)] == [
        "x.py:6",
        "x.py:7",
        "x.py:8",
        "x.py:9",
        "x.py:10",
    ]


def test_the_members_are_the_strings_rows_already_carry() -> None:
    assert {str(member) for member in Entity} == IN_USE_BEFORE | ADDED_SINCE
    assert all(member == member.value and str(member) == member.value for member in Entity)
