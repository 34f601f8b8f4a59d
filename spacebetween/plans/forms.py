"""The measurement plan form: a grid of the instruments the practice uses against occasions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from spacebetween.core.schedule import FOLLOW_UP_MONTHS, PlanRow, When
from spacebetween.ui.forms import PageForm

# ------------------------------------------------------------------------------ measurement plans

PLAN_INCOMPLETE = "The form did not arrive in full; nothing was saved. Please try again."
BOTH_SESSION_CHOICES = (
    "Choose either before every session or before every n-th session, not both; nothing was saved."
)
OCCASIONS = (
    (When.INTAKE, "At intake"),
    (When.EVERY_SESSION, "Before every session"),
    (When.END_OF_EPISODE, "At the end"),
    (When.AFTER_EVERY_SESSION, "After every session"),
)


class PlanForm(PageForm):
    """A plan as a grid: one row per instrument the practice uses, one column per occasion."""

    # Present on every page the form is drawn on: a truncated request must not empty the plan.
    plan = forms.CharField(
        widget=forms.HiddenInput, initial="1", error_messages={"required": PLAN_INCOMPLETE}
    )

    def __init__(
        self, data: Any = None, *, instruments: Sequence[tuple[str, str]], rows: Sequence[PlanRow]
    ) -> None:
        super().__init__(data, initial=_initial(rows))
        self.instruments = list(instruments)
        for iid, title in self.instruments:
            for when, label in OCCASIONS:
                self.fields[f"{iid}__{when}"] = forms.BooleanField(required=False, label=f"{label}: {title}")
            self.fields[f"{iid}__every_n"] = forms.IntegerField(
                required=False,
                min_value=2,
                max_value=52,
                label=f"Before every n-th session (n): {title}",
            )
            for months in FOLLOW_UP_MONTHS:
                self.fields[f"{iid}__follow_up_{months}"] = forms.BooleanField(
                    required=False, label=f"{months} months after the end: {title}"
                )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for iid, _ in self.instruments:
            if data.get(f"{iid}__{When.EVERY_SESSION}") and data.get(f"{iid}__every_n"):
                self.add_error(f"{iid}__every_n", BOTH_SESSION_CHOICES)
        return data

    def plan_rows(self) -> list[PlanRow]:
        data = self.cleaned_data
        rows: list[PlanRow] = []
        for iid, _ in self.instruments:
            rows += [PlanRow(iid, when) for when, _label in OCCASIONS if data.get(f"{iid}__{when}")]
            if data.get(f"{iid}__every_n"):
                rows.append(PlanRow(iid, When.EVERY_NTH_SESSION, n=data[f"{iid}__every_n"]))
            rows += [
                PlanRow(iid, When.FOLLOW_UP, months=m)
                for m in FOLLOW_UP_MONTHS
                if data.get(f"{iid}__follow_up_{m}")
            ]
        return rows

    def grid(self) -> list[tuple[str, list[forms.BoundField]]]:
        """(instrument title, its fields in column order) for the template."""
        columns = [str(When.INTAKE), str(When.EVERY_SESSION), "every_n", str(When.AFTER_EVERY_SESSION)]
        columns += [str(When.END_OF_EPISODE)]
        columns += [f"follow_up_{m}" for m in FOLLOW_UP_MONTHS]
        return [(title, [self[f"{iid}__{c}"] for c in columns]) for iid, title in self.instruments]


def _initial(rows: Sequence[PlanRow]) -> dict[str, Any]:
    initial: dict[str, Any] = {"plan": "1"}
    for row in rows:
        if row.when == When.EVERY_NTH_SESSION:
            initial[f"{row.instrument_id}__every_n"] = row.n
        elif row.when == When.FOLLOW_UP:
            initial[f"{row.instrument_id}__follow_up_{row.months}"] = True
        else:
            initial[f"{row.instrument_id}__{row.when}"] = True
    return initial
