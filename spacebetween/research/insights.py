"""`spacebetween insights batch FILE.parquet`: trajectory signals and alliance ruptures of a whole network.

    spacebetween insights batch scores.parquet [--out SIGNALS.parquet] [--today YYYY-MM-DD]
                                [--no-improvement-by N] [--overdue-after-days N]

Input: a long Parquet table, one row per score, with the columns client_id, episode_id, instrument
(an instrument id of the shipped definitions, licensed pack included, or of a `--definition` file),
session_number (an integer from 1), date and score. An episode is one (client_id, episode_id) pair.

For each instrument the expected-recovery model (`core.trajectories`) is fitted on the table's own
episodes when there are enough of them: the table is taken to be the network's archive, and the
summary says so; with too few there is no band and no not-on-track signal. Then every episode gets
the signals of `core.trajectories.detect_signals` at its last score (reliable change and sudden gains
from the definition's reliable change in points, as `spacebetween change` uses it), overdue against
`--today` (default: the latest date in the table), and, for alliance instruments, ruptures and repairs
from `core.alliance`. Nothing loops over episodes in Python.

Output: Parquet with client_id, episode_id, instrument, signal, session_number, value, threshold (one
row per signal; `Signal` in core.trajectories says what value and threshold hold for each kind),
written atomically (default: FILE.signals.parquet beside the input), and a JSON summary on stdout.
Bad input (a missing column, an unknown instrument, a session that is not an integer from 1, a score
outside its scale, a duplicate episode/instrument/session) stops with a message naming it, exit
status 2, and no output file. docs/insights.md has the rules and an example.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from spacebetween.core import alliance, trajectories
from spacebetween.core import instruments as catalogue
from spacebetween.core.change import HIGHER_IS_BETTER, LOWER_IS_BETTER, parameters_from_scale
from spacebetween.core.instruments import Instrument, InstrumentDefinitionError
from spacebetween.research.tabular import UsageError, fail

INPUT_COLUMNS = ("client_id", "episode_id", "instrument", "session_number", "date", "score")
OUTPUT_COLUMNS = ("client_id", "episode_id", "instrument", "signal", "session_number", "value", "threshold")
ARCHIVE_NOTE = (
    "fitted on this table's own episodes, taken as the network's archive; not a published reference curve"
)
# One instrument's panel (episodes × highest session, 8 bytes a cell) must fit comfortably in memory.
MAX_PANEL_BYTES = 2 * 1024**3
_ROW = "__row"
_EPISODE = "__episode"


def build_parser() -> argparse.ArgumentParser:
    defaults = trajectories.SignalRules()
    p = argparse.ArgumentParser(
        prog="spacebetween insights batch",
        description="Expected recovery, signals and alliance ruptures over a long Parquet table of scores.",
    )
    p.add_argument("file", metavar="FILE.parquet", help="columns: " + ", ".join(INPUT_COLUMNS))
    p.add_argument("--out", metavar="SIGNALS.parquet", help="where to write the signals (atomically)")
    p.add_argument(
        "--today", metavar="YYYY-MM-DD", help="the day overdue is counted to (default: latest date)"
    )
    p.add_argument(
        "--no-improvement-by",
        type=int,
        default=defaults.no_improvement_by_session,
        metavar="N",
        help=f"flag no reliable improvement from session N on (default {defaults.no_improvement_by_session})",
    )
    p.add_argument(
        "--overdue-after-days",
        type=int,
        default=defaults.overdue_after_days,
        metavar="DAYS",
        help=f"overdue when the last score is more than DAYS old (default {defaults.overdue_after_days})",
    )
    p.add_argument(
        "--min-episodes",
        type=int,
        default=trajectories.MIN_EPISODES_TO_FIT,
        metavar="N",
        help=f"episodes needed to fit expected recovery (default {trajectories.MIN_EPISODES_TO_FIT})",
    )
    p.add_argument(
        "--alliance-drop-points",
        type=float,
        metavar="POINTS",
        help="alliance drop that counts as a rupture (default: the definition's reliable change, "
        "else 10%% of the range)",
    )
    p.add_argument(
        "--definition",
        action="append",
        default=[],
        metavar="FILE.json",
        help="an extra instrument definition (e.g. a practice's own licensed instrument); repeatable",
    )
    return p


# --- Reading and checking the table ------------------------------------------------------------------


def _first_row(df: pl.DataFrame, mask: pl.Expr) -> int | None:
    hits = df.select(mask.arg_true().first()).item()
    return None if hits is None else int(hits) + 1


def _bad(path: str, row: int, column: str, problem: str) -> UsageError:
    return UsageError(f"{path}: row {row} (counting from 1), column {column}: {problem}")


def read_table(path: str) -> pl.DataFrame:
    """The six input columns, checked and typed: session_number Int64, date Date, score Float64."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{path}: no such file")
    try:
        df = pl.read_parquet(p)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise UsageError(f"{path}: not a readable Parquet file ({exc})") from exc
    missing = [c for c in INPUT_COLUMNS if c not in df.columns]
    if missing:
        raise UsageError(f"{path}: missing column(s) {', '.join(missing)} (needs {', '.join(INPUT_COLUMNS)})")
    df = df.select(INPUT_COLUMNS)
    if df.height == 0:
        raise UsageError(f"{path}: the table has no rows")
    for column in INPUT_COLUMNS:
        row = _first_row(df, pl.col(column).is_null())
        if row is not None:
            raise _bad(path, row, column, "value is missing")
    return df.with_columns(
        instrument=_instrument_column(df, path),
        session_number=_session_column(df, path),
        date=_date_column(df, path),
        score=_score_column(df, path),
    )


def _instrument_column(df: pl.DataFrame, path: str) -> pl.Series:
    if df.schema["instrument"] not in (pl.String, pl.Categorical, pl.Enum):
        raise UsageError(
            f"{path}: column instrument must hold instrument ids as text, not {df.schema['instrument']}"
        )
    return df.get_column("instrument").cast(pl.String)


def _session_column(df: pl.DataFrame, path: str) -> pl.Series:
    s = df.get_column("session_number")
    if s.dtype.is_integer():
        row = _first_row(df, pl.col("session_number") < 1)
        if row is not None:
            raise _bad(path, row, "session_number", f"{s[row - 1]} is not a session number from 1")
        return s.cast(pl.Int64)
    if s.dtype.is_float():
        value = pl.col("session_number")
        row = _first_row(df, ~value.is_finite() | (value < 1) | (value != value.floor()))
        if row is not None:
            raise _bad(path, row, "session_number", f"{s[row - 1]} is not an integer session number from 1")
        return s.cast(pl.Int64)
    raise UsageError(f"{path}: column session_number must hold integers, not {s.dtype}")


def _date_column(df: pl.DataFrame, path: str) -> pl.Series:
    s = df.get_column("date")
    if s.dtype == pl.Date:
        return s
    if isinstance(s.dtype, pl.Datetime):
        return s.dt.date()
    if s.dtype == pl.String:
        parsed = s.str.to_date("%Y-%m-%d", strict=False)
        bad = parsed.is_null()
        if bad.any():
            row = int(bad.arg_true()[0]) + 1
            raise _bad(path, row, "date", f"{s[row - 1]!r} is not a date YYYY-MM-DD")
        return parsed
    raise UsageError(f"{path}: column date must hold dates, not {s.dtype}")


def _score_column(df: pl.DataFrame, path: str) -> pl.Series:
    s = df.get_column("score")
    if not s.dtype.is_numeric():
        raise UsageError(f"{path}: column score must hold numbers, not {s.dtype}")
    score = s.cast(pl.Float64)
    bad = ~score.is_finite()
    if bad.any():
        row = int(bad.arg_true()[0]) + 1
        raise _bad(path, row, "score", f"{score[row - 1]} is not a finite number")
    return score


def check_instruments(df: pl.DataFrame, path: str, registry: Mapping[str, Instrument]) -> list[str]:
    """Instrument ids of the table, each known, with every score inside its scale's range."""
    ids = sorted(df.get_column("instrument").unique().to_list())
    for instrument_id in ids:
        if instrument_id not in registry:
            row = _first_row(df, pl.col("instrument") == instrument_id)
            known = ", ".join(sorted(registry))
            raise UsageError(
                f"{path}: row {row} (counting from 1), column instrument: unknown instrument "
                f"{instrument_id!r} (known: {known})"
            )

    def edge(end: int) -> pl.Expr:
        by_id = {i: float(_scale(registry[i]).range[end]) for i in ids}
        return pl.col("instrument").replace_strict(by_id, return_dtype=pl.Float64)

    row = _first_row(df, (pl.col("score") < edge(0)) | (pl.col("score") > edge(1)))
    if row is not None:
        entry = df.row(row - 1, named=True)
        low, high = _scale(registry[entry["instrument"]]).range
        raise _bad(
            path,
            row,
            "score",
            f"{entry['score']:g} is outside the {entry['instrument']} range {low:g}–{high:g}",
        )
    return ids


def _scale(instrument: Instrument) -> Any:
    """The scale a trajectory follows: the definition's first (its total, where it has one)."""
    return instrument.scales[0]


# --- The batch --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchResult:
    signals: pl.DataFrame  # OUTPUT_COLUMNS
    summary: dict[str, Any]


_KINDS = [str(kind) for kind in trajectories.SignalKind]
_SIGNAL_SCHEMA = {
    _EPISODE: pl.Int64,
    "signal": pl.String,
    "session_number": pl.Int64,
    "value": pl.Float64,
    "threshold": pl.Float64,
}


def _kind_column(kinds: NDArray[np.str_]) -> pl.Series:
    """Signal kinds as a polars column, by code: turning a million numpy strings into Python ones is slow."""
    codes = np.zeros(kinds.size, dtype=np.int64)
    for code, name in enumerate(_KINDS):
        codes[kinds == name] = code
    return pl.Series("signal", _KINDS, dtype=pl.String).gather(codes)


def _signal_frame(
    episodes: NDArray[np.int64],
    signal: pl.Series,
    sessions: NDArray[np.int64],
    values: NDArray[np.float64],
    thresholds: NDArray[np.float64],
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            _EPISODE: episodes,
            "signal": signal,
            "session_number": sessions,
            "value": values,
            "threshold": thresholds,
        },
        schema=_SIGNAL_SCHEMA,
    )


def _trajectory_signals(
    instrument: Instrument,
    panel: trajectories.Panel,
    *,
    rules: trajectories.SignalRules,
    min_episodes: int,
    coverage: float,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    params = parameters_from_scale(_scale(instrument))
    rc_points = params.reliable_change_points()
    info: dict[str, Any] = {
        "role": "trajectory",
        "direction": HIGHER_IS_BETTER if params.higher_is_better else LOWER_IS_BETTER,
        "reliable_change_points": rc_points,
    }
    model: trajectories.ExpectedRecovery | None = None
    try:
        model = trajectories.fit_expected_recovery(
            panel,
            instrument_id=instrument.id,
            higher_is_better=params.higher_is_better,
            coverage=coverage,
            min_episodes=min_episodes,
        )
        info["model"] = model.to_json()
        info["model_note"] = f"{ARCHIVE_NOTE} ({model.n_episodes} episodes, {model.n_scores} scores)"
    except trajectories.NotEnoughData as exc:
        info["model"] = None
        info["model_note"] = f"no band: {exc}"
    if rc_points is None:
        info["change_note"] = (
            "the definition gives no reliable change: no reliable-change or sudden-gain signals"
        )
    found = trajectories.scale_signals(panel, _scale(instrument), model=model, rules=rules)
    frame = _signal_frame(
        np.asarray(panel.keys, dtype=np.int64)[found.row],
        _kind_column(found.kind),
        found.session_number,
        found.value,
        found.threshold,
    )
    return frame, info


def _alliance_signals(
    instrument: Instrument, panel: trajectories.Panel, *, drop_points: float | None
) -> tuple[pl.DataFrame | None, dict[str, Any]]:
    """Ruptures and repairs as signal rows."""
    scale = _scale(instrument)
    low, high = (float(x) for x in scale.range)
    info: dict[str, Any] = {"role": "alliance", "direction": scale.direction}
    drop, source = alliance.drop_threshold(
        chosen=drop_points,
        chosen_by="--alliance-drop-points",
        published=parameters_from_scale(scale).reliable_change_points(),
        minimum=low,
        maximum=high,
    )
    info.update(
        drop_points=drop,
        drop_source=source,
        note="no therapist ratings in the table: the gap rule does not run",
    )
    events = alliance.alliance_events(
        panel.scores, alliance.AllianceRules(drop_points=drop), client_minimum=low, client_maximum=high
    )
    kind = np.asarray(events.kind).astype(str)
    reason = np.asarray(events.reason).astype(str)
    rupture = kind == "rupture"
    # One signal name per event: rupture_drop, rupture_floor, rupture_gap, or repair. The threshold of
    # a rupture is the line the score fell below; of a repair, the level it came back to.
    names = np.where(rupture, np.char.add("rupture_", reason), kind)
    baseline = np.asarray(events.baseline, dtype=np.float64)
    line = np.asarray(getattr(events, "threshold", baseline), dtype=np.float64)
    frame = _signal_frame(
        np.asarray(panel.keys, dtype=np.int64)[np.asarray(events.row, dtype=np.intp)],
        pl.Series("signal", names.tolist(), dtype=pl.String),
        np.asarray(events.session_number, dtype=np.int64),
        np.asarray(events.value, dtype=np.float64),
        np.where(rupture, line, baseline),
    )
    return frame, info


def _overdue_signals(
    panel: trajectories.Panel,
    latest_day: NDArray[np.int64],
    today: np.datetime64,
    rules: trajectories.SignalRules,
) -> pl.DataFrame:
    """One overdue signal per episode whose latest score of this instrument is too old."""
    last_measured = latest_day[np.asarray(panel.keys, dtype=np.intp)].astype("datetime64[D]")
    late = trajectories.overdue(last_measured, today, after_days=rules.overdue_after_days)
    return _signal_frame(
        np.asarray(panel.keys, dtype=np.int64)[late],
        pl.Series("signal", [str(trajectories.SignalKind.OVERDUE)], dtype=pl.String).gather(
            np.zeros(int(late.sum()), dtype=np.int64)
        ),
        panel.last_session()[late],
        trajectories.days_since(last_measured, today)[late],
        np.full(int(late.sum()), float(rules.overdue_after_days)),
    )


def _panel(rows: pl.DataFrame, source: str) -> trajectories.Panel:
    """One instrument's rows as a Panel keyed by episode index; a duplicate session names its rows, and
    a session number so high that the panel would not fit in memory names its row."""
    widest = rows.row(int(rows.get_column("session_number").arg_max() or 0), named=True)
    size = rows.get_column(_EPISODE).n_unique() * widest["session_number"] * 8
    if size > MAX_PANEL_BYTES:
        raise UsageError(
            f"{source}: row {widest[_ROW] + 1} (counting from 1), column session_number: "
            f"{widest['session_number']} sessions for the {widest['instrument']} episodes would need "
            f"{size / 1024**3:.1f} GiB; check the session numbers or split the table"
        )
    try:
        return trajectories.Panel.from_long(
            rows.get_column(_EPISODE).to_numpy(),
            rows.get_column("session_number").to_numpy(),
            rows.get_column("score").to_numpy(),
        )
    except trajectories.DuplicateScore as exc:
        first, second = (rows.row(i, named=True) for i in exc.entries)
        raise UsageError(
            f"{source}: rows {first[_ROW] + 1} and {second[_ROW] + 1} (counting from 1) are both client "
            f"{first['client_id']!r}, episode {first['episode_id']!r}, {first['instrument']} session "
            f"{first['session_number']}: one score per episode, instrument and session"
        ) from exc


def run_batch(
    df: pl.DataFrame,
    registry: Mapping[str, Instrument],
    *,
    today: dt.date | None = None,
    rules: trajectories.SignalRules = trajectories.SignalRules(),  # noqa: B008 - frozen
    min_episodes: int = trajectories.MIN_EPISODES_TO_FIT,
    coverage: float = trajectories.DEFAULT_COVERAGE,
    alliance_drop_points: float | None = None,
    source: str = "table",
) -> BatchResult:
    """All signals of a table checked by `read_table` and `check_instruments` (`source` names it in errors).

    A duplicate episode/instrument/session is a UsageError naming both rows.
    """
    keyed = df.with_columns(
        (pl.struct("client_id", "episode_id").rank("dense") - 1).cast(pl.Int64).alias(_EPISODE),
        pl.int_range(pl.len(), dtype=pl.Int64).alias(_ROW),
    )
    episode_of_entry = keyed.get_column(_EPISODE).to_numpy()
    n_episodes = int(episode_of_entry.max()) + 1 if episode_of_entry.size else 0
    # The first entry of each episode, by scattering positions in reverse (the first write lands last).
    first_entry = np.zeros(n_episodes, dtype=np.int64)
    first_entry[episode_of_entry[::-1]] = np.arange(episode_of_entry.size - 1, -1, -1)
    episodes = df.select("client_id", "episode_id")[first_entry]
    latest: dt.date | None = df.get_column("date").max()  # type: ignore[assignment]
    day = today if today is not None else latest

    frames: list[pl.DataFrame] = []
    instruments: dict[str, dict[str, Any]] = {}
    for instrument_id in sorted(keyed.get_column("instrument").unique().to_list()):
        instrument = registry[instrument_id]
        rows = keyed.filter(pl.col("instrument") == instrument_id)
        panel = _panel(rows, source)
        counts = {"title": instrument.title, "episodes": int(panel.keys.size), "scores": rows.height}
        if instrument.construct in alliance.ALLIANCE_CONSTRUCTS:
            frame, info = _alliance_signals(instrument, panel, drop_points=alliance_drop_points)
        else:
            frame, info = _trajectory_signals(
                instrument, panel, rules=rules, min_episodes=min_episodes, coverage=coverage
            )
        if frame is not None:
            frames.append(frame.with_columns(pl.lit(instrument_id).alias("instrument")))
        if day is not None:
            latest_day = np.full(n_episodes, np.iinfo(np.int64).min)
            np.maximum.at(
                latest_day,
                rows.get_column(_EPISODE).to_numpy(),
                rows.get_column("date").to_numpy().astype("datetime64[D]").astype(np.int64),
            )
            overdue = _overdue_signals(panel, latest_day, np.datetime64(day, "D"), rules)
            frames.append(overdue.with_columns(pl.lit(instrument_id).alias("instrument")))
        instruments[instrument_id] = {**counts, **info}

    columns = [_EPISODE, "instrument", *(c for c in _SIGNAL_SCHEMA if c != _EPISODE)]
    found = (
        pl.concat([f.select(columns) for f in frames], how="vertical")
        if frames
        else pl.DataFrame(schema={_EPISODE: pl.Int64, "instrument": pl.String, **_SIGNAL_SCHEMA})
    )
    # Stable: within an episode and instrument the signals keep their order (session, then the order of
    # core.trajectories), and overdue, at the last session, comes last.
    found = found.sort(_EPISODE, "instrument", maintain_order=True)
    signals = pl.concat(
        [episodes[found.get_column(_EPISODE).to_numpy()], found.drop(_EPISODE)], how="horizontal"
    ).select(OUTPUT_COLUMNS)
    counts_by_signal = signals.get_column("signal").value_counts()
    summary = {
        "rows_read": df.height,
        "clients": int(episodes.get_column("client_id").n_unique()),
        "episodes": n_episodes,
        "today": None if day is None else day.isoformat(),
        "today_source": "--today" if today is not None else "the latest date in the table",
        "rules": {
            "no_improvement_by_session": rules.no_improvement_by_session,
            "overdue_after_days": rules.overdue_after_days,
            "band_coverage": coverage,
            "min_episodes_to_fit": min_episodes,
        },
        "models": ARCHIVE_NOTE,
        "instruments": instruments,
        "signals": {
            **dict.fromkeys(_KINDS, 0),
            **{str(name): int(n) for name, n in sorted(counts_by_signal.iter_rows())},
        },
        "signals_total": signals.height,
    }
    return BatchResult(signals=signals, summary=summary)


# --- The command ------------------------------------------------------------------------------------


def write_parquet_atomically(frame: pl.DataFrame, target: Path) -> None:
    """The file appears complete or not at all."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        frame.write_parquet(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _output_path(args: argparse.Namespace) -> Path:
    source = Path(args.file)
    target = Path(args.out) if args.out else source.with_name(source.stem + ".signals.parquet")
    if target.resolve() == source.resolve():
        raise UsageError(f"--out {target} would overwrite the input")
    if not target.parent.is_dir():
        raise UsageError(f"--out {target}: no such directory {target.parent}")
    return target


def _today(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(f"--today {value!r} is not a date YYYY-MM-DD") from exc


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse has printed its message (or the help)
        return int(exc.code or 0)
    try:
        try:
            rules = trajectories.SignalRules(
                no_improvement_by_session=args.no_improvement_by, overdue_after_days=args.overdue_after_days
            )
        except ValueError as exc:
            raise UsageError(str(exc).replace("no_improvement_by_session", "--no-improvement-by")) from exc
        if args.min_episodes <= trajectories.N_COEFFICIENTS:
            raise UsageError(f"--min-episodes must be more than {trajectories.N_COEFFICIENTS}")
        if args.alliance_drop_points is not None and not args.alliance_drop_points > 0:
            raise UsageError("--alliance-drop-points must be a positive number")
        today = _today(args.today)
        target = _output_path(args)
        try:
            registry = catalogue.registry(include_licensed=True, extra_paths=args.definition)
        except InstrumentDefinitionError as exc:
            raise UsageError(str(exc)) from exc
        df = read_table(args.file)
        check_instruments(df, args.file, registry)
        result = run_batch(
            df,
            registry,
            today=today,
            rules=rules,
            min_episodes=args.min_episodes,
            alliance_drop_points=args.alliance_drop_points,
            source=args.file,
        )
    except UsageError as exc:
        return fail(str(exc))
    try:
        write_parquet_atomically(result.signals, target)
    except OSError as exc:
        return fail(f"cannot write output: {exc}")
    summary = {"input": str(args.file), "output": str(target), **result.summary}
    sys.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return 0
