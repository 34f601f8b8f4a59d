"""What a risk answer asks of the clinician: urgent (act today) or review within one working day.

The defaults below apply until a practice sets its own (`RiskSeverityRule`, set by the admin on the
risk settings page). They err towards urgency: every risk rule is urgent, except the lowest answer of
PHQ-9 item 9 ("Several days"), which is a review within one working day. Why grade item 9 at all:
risk of a suicide attempt or death rises with each step of its answer (Simon GE et al. Does response
on the PHQ-9 Depression Questionnaire predict subsequent suicide attempt or suicide death? Psychiatr
Serv. 2013;64(12):1195-1202: "nearly every day" carried up to ten times the risk of "not at all");
a frequent thought of death is treated as urgent, an occasional one is still reviewed the same
working day. CORE-10 item 6 ("I made plans to end my life") is urgent at any answer: a plan is the
more serious step beyond ideation (Posner K et al. The Columbia-Suicide Severity Rating Scale. Am J
Psychiatry. 2011;168(12):1266-1277). docs/safety.md explains the table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from spacebetween.safety.models import RiskSeverityRule, Severity

# rule id -> ((from value, severity), ...) in ascending order of value; a rule not named is urgent.
DEFAULTS: Mapping[str, Sequence[tuple[float, Severity]]] = {
    "phq9_9": ((1.0, Severity.REVIEW), (2.0, Severity.URGENT)),
}


def grade(bands: Sequence[tuple[float, str]], value: float) -> Severity:
    """The severity of `value` under bands of (from value, severity), ascending; urgent below them all
    (an answer that met the risk rule is never less than urgent by default)."""
    chosen = Severity.URGENT
    for start, severity in bands:
        if value >= start:
            chosen = Severity(severity)
    return chosen


def bands_for(practice_id: int, rule_id: str) -> Sequence[tuple[float, str]]:
    """The practice's own bands for a rule when it has set any, else the defaults."""
    own = list(
        RiskSeverityRule.objects.filter(practice_id=practice_id, rule_id=rule_id)
        .order_by("min_value")
        .values_list("min_value", "severity")
    )
    return own or DEFAULTS.get(rule_id, ())


def severity_for(practice_id: int, rule_id: str, value: float) -> Severity:
    return grade(bands_for(practice_id, rule_id), value)
