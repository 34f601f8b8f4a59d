"""What the insights pages read: a practice's rules, its fitted expected-recovery curves, and each
episode's current signals.

The statistics live in the framework-free core (`spacebetween.core.trajectories`, `core.alliance`,
`core.mechanisms`); these tables only keep their inputs and results so that the caseload can be
ordered by need in a fixed number of queries. Writes go through `insights.services`, reads through
`insights.selectors`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from spacebetween.core.alliance import AllianceRules
from spacebetween.core.trajectories import SignalRules
from spacebetween.practice.models import Practice


class InsightSettings(models.Model):
    """A practice's choices for the signal and rupture rules (docs/insights.md explains each one).

    The defaults are the core's (`core.trajectories.SignalRules`, `core.alliance.AllianceRules`, where
    each is explained): product choices, not published thresholds, except where a rule uses the
    instrument's own reliable-change threshold (which comes from its definition file)."""

    practice = models.OneToOneField(Practice, on_delete=models.CASCADE, related_name="insight_settings")
    # "No reliable improvement by session N": the IAPT trajectory study (Saunders et al. 2019,
    # PMC6428692) found a depression class flat until session 6 and then improving, so the default
    # waits until session 6 and the signal stays advisory.
    no_improvement_by_session = models.PositiveSmallIntegerField(
        default=SignalRules.no_improvement_by_session
    )
    # Measures are overdue when the latest symptom score is older than this while sessions go on.
    overdue_after_days = models.PositiveSmallIntegerField(default=SignalRules.overdue_after_days)
    # Alliance rupture by drop: points below the client's running baseline. Blank = the alliance
    # measure's reliable-change threshold from its definition, or, where the definition has none
    # (the WAI-SR: Horvath says no alliance measure has standardised cut-offs), 10% of the scale range.
    alliance_drop_points = models.FloatField(null=True, blank=True)
    # Rupture below an absolute floor; blank = no floor (no verified cut-off for the WAI-SR).
    alliance_floor = models.FloatField(null=True, blank=True)
    # A widening gap between the client's and the therapist's view, in percent-of-range points,
    # sustained over this many measured sessions (only with a validated therapist instrument).
    alliance_gap_points = models.FloatField(default=AllianceRules.gap_points)
    alliance_gap_sessions = models.PositiveSmallIntegerField(default=AllianceRules.gap_sessions)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(no_improvement_by_session__gte=2), name="insights_no_improvement_from_2"
            ),
            models.CheckConstraint(
                condition=models.Q(overdue_after_days__gte=1), name="insights_overdue_days"
            ),
            models.CheckConstraint(
                condition=models.Q(alliance_drop_points__isnull=True) | models.Q(alliance_drop_points__gt=0),
                name="insights_alliance_drop_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(alliance_gap_points__gt=0), name="insights_gap_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(alliance_gap_sessions__gte=1), name="insights_gap_sessions"
            ),
        ]

    def __str__(self) -> str:
        return f"Insight settings of practice {self.practice_id}"


class ExpectedRecoveryFit(models.Model):
    """One fit of the expected-recovery curve on a practice's own completed episodes. The newest row
    per (practice, instrument) is the one in use; older rows stay as the history of refits."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="expected_recovery_fits")
    instrument_id = models.CharField(max_length=64)
    parameters = models.JSONField()  # core.trajectories.ExpectedRecovery.to_json()
    n_episodes = models.PositiveIntegerField()
    n_scores = models.PositiveIntegerField()
    fitted_at = models.DateTimeField()
    fitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["practice", "instrument_id", "-fitted_at"], name="expected_fit_latest")
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} fit for practice {self.practice_id} ({self.n_episodes} episodes)"


class SignalLevel(models.IntegerChoices):
    """How the caseload orders need (issue: risk flags first, then not on track and ruptures, then
    overdue). Risk flags are not stored here: they come from `measures.RiskFlag` directly."""

    ALERT = 2, "Not on track or rupture"
    OVERDUE = 3, "Overdue measures"
    NOTE = 4, "Worth noticing"


class EpisodeSignal(models.Model):
    """A signal that holds for an episode now, as of its latest scores. Replaced as a whole for the
    episode on every refresh."""

    episode = models.ForeignKey("clients.Episode", on_delete=models.CASCADE, related_name="signals")
    instrument_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=32)  # core SignalKind / AllianceEventKind values
    level = models.PositiveSmallIntegerField(choices=SignalLevel.choices)
    session_number = models.PositiveSmallIntegerField()
    value = models.FloatField()
    threshold = models.FloatField(null=True, blank=True)
    explanation = models.TextField()
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["episode", "level"], name="episode_signal_level")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level__in=SignalLevel.values), name="episode_signal_level_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} on episode {self.episode_id}"


class StaleEpisode(models.Model):
    """An episode whose signals need recomputing: marked in the same transaction as the answer or
    reflection or session change that changed it (so a refresh is never lost), cleared by the
    refresh. The worker drains these every minute; until then the pages compute a stale episode's
    signals in memory without writing (`selectors.current_alerts`)."""

    episode = models.OneToOneField(
        "clients.Episode", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    marked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Episode {self.episode_id} to refresh"
