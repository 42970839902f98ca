"""The machinery behind :mod:`.workload`'s carried-chat functions: per-chat carried
spans, the end of the data, bin sizes and per-bin integrals. Private: the definitions and
the public functions are in :mod:`.workload`."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime
from typing import Literal, NamedTuple, TypeAlias

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

from ._keys import chat_key

__all__ = [
    "FREQ_LADDER",
    "Spans",
    "bin_one",
    "carried_spans",
    "data_end",
    "empty_frame",
    "empty_steps",
    "pick_freq",
    "session_parts",
    "steps_frame",
    "utc",
]

# readable bin sizes, each at most 2.5x the previous one, so that some size always cuts
# a span into 24-60 bins (see pick_freq)
FREQ_LADDER = (
    "1s", "2s", "5s", "10s", "15s", "30s", "1min", "2min", "5min", "10min", "15min", "30min",
    "1h", "2h", "3h", "6h", "12h", "1D",
)  # fmt: skip
MAX_BINS = 60

# chats columns holding server times: the latest of them (and of ``assigned_at``) is the
# end of the data, until which an open chat counts
_CHAT_TIMES = (
    "created_at",
    "first_assigned_at",
    "first_visitor_message_at",
    "first_response_at",
    "first_human_response_at",
    "first_ai_response_at",
    "last_message_at",
    "closed_at",
)
TimeUnit: TypeAlias = Literal["s", "ms", "us", "ns"]
_UNITS: tuple[TimeUnit, ...] = ("s", "ms", "us", "ns")

# times as the functions here take them: a column's ``.array`` (or a slice of it), a
# numpy array or a Series
Times: TypeAlias = ExtensionArray | np.ndarray | pd.Series
# one instant, as a user may give ``end``: a Timestamp (or datetime), numpy or a string
Instant: TypeAlias = datetime | np.datetime64 | str
# the end of the data: one instant, or one per session in a dataset (None: no data)
End: TypeAlias = pd.Timestamp | dict[Hashable, pd.Timestamp] | None


def utc(values: Times) -> pd.Series[pd.Timestamp]:
    """Times as a UTC series (naive ones taken as UTC), with a fresh index: callers pass
    ``.array`` so that no index alignment can reorder anything."""
    return pd.to_datetime(pd.Series(values), utc=True)


def unit_of(series: pd.Series, default: TimeUnit = "ns") -> TimeUnit:
    """The time unit of a datetime ``series`` (``default`` when its dtype has none)."""
    return _UNITS[_UNITS.index(getattr(series.dtype, "unit", default))]


def finest_unit(*series: pd.Series) -> TimeUnit:
    """The finest time unit among ``series``, so that no timestamp is rounded."""
    return _UNITS[max(_UNITS.index(unit_of(s)) for s in series)]


def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})


def empty_steps(session: bool, unit: str = "us") -> pd.DataFrame:
    types = {"at": f"datetime64[{unit}, UTC]", "commercial_id": "str", "chat_id": "str"}
    types |= {"change": "int64", "reason": "str", "active_chats": "int64"}
    return empty_frame(({"session": "str"} if session else {}) | types)


def data_end(assignments: pd.DataFrame, chats: pd.DataFrame, key: list[str]) -> End:
    """The latest server timestamp in the inputs (a dict per session in a dataset)."""
    columns = [(assignments, "assigned_at")]
    columns += [(chats, c) for c in _CHAT_TIMES if c in chats.columns]
    if len(key) == 1:
        latest = [utc(frame[c].array).max() for frame, c in columns]
        latest = [t for t in latest if pd.notna(t)]
        return max(latest) if latest else None
    ends: dict[Hashable, pd.Timestamp] = {}
    for frame, c in columns:
        times = pd.Series(utc(frame[c].array).array, index=frame["session"].array)
        for session, t in times.groupby(level=0).max().items():
            if pd.notna(t):
                ends[session] = max(ends.get(session, t), t)
    return ends or None


OPEN = np.iinfo("int64").max  # the end of a span still open
REASONS = np.array(["assigned", "reassigned", "closed"], dtype=object)


class Spans(NamedTuple):
    """Carried spans as parallel arrays: codes into sorted ``uniques`` (so that code
    order is id order), times as int64 ns, ``end == OPEN`` while still open."""

    session: np.ndarray  # codes into session_ids (all 0 outside a dataset)
    chat: np.ndarray  # codes into chat_ids
    commercial: np.ndarray  # codes into commercial_ids
    start: np.ndarray
    end: np.ndarray
    closed: np.ndarray  # bool: ended by the chat's close (else handed on, or open)
    session_ids: np.ndarray
    chat_ids: np.ndarray
    commercial_ids: np.ndarray
    unit: TimeUnit  # the finest time unit of the inputs, kept in the output


def _factorize(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Codes of each column into the sorted distinct values of all of them."""
    codes, uniques = pd.factorize(np.concatenate(columns), sort=True)
    bounds = np.cumsum([len(c) for c in columns])[:-1]
    return np.split(codes.astype("int64"), bounds), np.asarray(uniques, dtype=object)


def _objects(frame: pd.DataFrame, column: str) -> np.ndarray:
    # ignore: pandas-stubs leaves None out of ``na_value``, which pandas accepts
    values: np.ndarray = frame[column].to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]
    return values


def carried_spans(assignments: pd.DataFrame, chats: pd.DataFrame) -> Spans:
    """Every carried assignment, straight from the definition in :mod:`.workload`."""
    dataset = chat_key(assignments, chats) == ["session", "chat_id"]
    start_times = utc(assignments["assigned_at"].array)
    closed_times = utc(chats["closed_at"].array)
    unit = finest_unit(start_times, closed_times)
    ok = (
        assignments["commercial_id"].notna().to_numpy()
        & assignments["chat_id"].notna().to_numpy()
        & start_times.notna().to_numpy()
    )
    if dataset:
        ok &= assignments["session"].notna().to_numpy()
    known = chats["chat_id"].notna().to_numpy() & closed_times.notna().to_numpy()
    (a_chat, c_chat), chat_ids = _factorize(
        _objects(assignments, "chat_id")[ok], _objects(chats, "chat_id")[known]
    )
    (a_session, c_session), session_ids = (
        _factorize(_objects(assignments, "session")[ok], _objects(chats, "session")[known])
        if dataset
        else ([np.zeros(ok.sum(), "int64"), np.zeros(known.sum(), "int64")], np.array([None]))
    )
    # one code per chat: (session, chat) in id order
    a_key = a_session * len(chat_ids) + a_chat
    c_key = c_session * len(chat_ids) + c_chat
    (commercial,), commercial_ids = _factorize(_objects(assignments, "commercial_id")[ok])
    start = ns(start_times.array[ok])
    # a chat listed twice in ``chats`` closed at its earliest close: min ignores row order
    closed_at = np.full(len(session_ids) * len(chat_ids), OPEN, dtype="int64")
    np.minimum.at(closed_at, c_key, ns(closed_times.array[known]))
    # per chat by time, ties by commercial id: the same order whatever the rows' order
    order = np.lexsort((commercial, start, a_key))
    key, commercial, start = a_key[order], commercial[order], start[order]
    same_chat = key[1:] == key[:-1]
    # assigned again to the commercial already carrying the chat (or a duplicate row):
    # no change
    repeat = np.zeros(len(key), dtype=bool)
    repeat[1:] = same_chat & (commercial[1:] == commercial[:-1])
    key, commercial, start = key[~repeat], commercial[~repeat], start[~repeat]
    handed_on = np.zeros(len(key), dtype=bool)
    handed_on[:-1] = key[1:] == key[:-1]
    next_start = np.append(start[1:], OPEN)
    closed = closed_at[key]
    by_close = (closed != OPEN) & ~(handed_on & (next_start < closed))
    end = np.where(by_close, closed, np.where(handed_on, next_start, OPEN))
    # half-open [start, end): closed or handed on at or before its assignment, never carried
    carried = end > start
    return Spans(
        session=key[carried] // len(chat_ids),
        chat=key[carried] % len(chat_ids),
        commercial=commercial[carried],
        start=start[carried],
        end=end[carried],
        closed=by_close[carried],
        session_ids=session_ids,
        chat_ids=chat_ids,
        commercial_ids=commercial_ids,
        unit=unit,
    )


def steps_frame(spans: Spans, dataset: bool) -> pd.DataFrame:
    """The step function of :func:`.workload.workload_steps` from carried spans."""
    if len(spans.start) == 0:
        return empty_steps(dataset, spans.unit)
    ended = spans.end != OPEN
    at = np.r_[spans.start, spans.end[ended]]
    change = np.r_[np.ones(len(spans.start), "int64"), -np.ones(ended.sum(), "int64")]
    reason = np.r_[np.zeros(len(spans.start), "int64"), np.where(spans.closed[ended], 2, 1)]
    session = np.r_[spans.session, spans.session[ended]]
    commercial = np.r_[spans.commercial, spans.commercial[ended]]
    chat = np.r_[spans.chat, spans.chat[ended]]
    # by time; releases before takes at the same instant; then session, commercial, chat
    order = np.lexsort((chat, commercial, session, change, at))
    at, change, reason = at[order], change[order], reason[order]
    session, commercial, chat = session[order], commercial[order], chat[order]
    # the running level of each (session, commercial), in that order
    owner = session * len(spans.commercial_ids) + commercial
    by_owner = np.argsort(owner, kind="stable")
    total = np.cumsum(change[by_owner])
    first = np.r_[True, owner[by_owner][1:] != owner[by_owner][:-1]]
    before = (total - change[by_owner])[first][np.cumsum(first) - 1]
    level = np.empty_like(total)
    level[by_owner] = total - before
    columns = {"session": pd.array(spans.session_ids[session], dtype="str")} if dataset else {}
    return pd.DataFrame(
        columns
        | {
            "at": pd.to_datetime(at, unit="ns", utc=True).as_unit(spans.unit),
            "commercial_id": pd.array(spans.commercial_ids[commercial], dtype="str"),
            "chat_id": pd.array(spans.chat_ids[chat], dtype="str"),
            "change": change,
            "reason": pd.array(REASONS[reason], dtype="str"),
            "active_chats": level,
        }
    )


def pick_freq(span: pd.Timedelta, max_bins: int = MAX_BINS) -> str:
    """The smallest bin size of ``FREQ_LADDER`` that cuts ``span`` into at most
    ``max_bins`` bins: 24 to 60 bins for any span from a minute to two months (ladder
    steps are at most 2.5x apart). ``pick_freq(pd.Timedelta("3h")) == "5min"``."""
    for freq in FREQ_LADDER:
        if span <= max_bins * pd.Timedelta(freq):
            return freq
    return FREQ_LADDER[-1]


def stamp(value: Instant) -> pd.Timestamp:
    """A time as a UTC timestamp (a naive one is taken as UTC)."""
    t = pd.Timestamp(value)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def ns(values: Times) -> np.ndarray:
    """Timestamps as int64 nanoseconds since the epoch (UTC)."""
    return utc(values).dt.as_unit("ns").dt.tz_localize(None).to_numpy().view(np.int64)


def bin_one(
    steps: pd.DataFrame, first: int, last: int, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Max level, time-weighted mean level and takes per bin of one commercial's steps.
    Bins start at ``first + k * width`` for every start <= ``last`` (the end of the data,
    whose instant belongs to the last bin); times are int64 ns."""
    # the canonical order of workload_steps, whatever order the frame was handed in
    steps = steps.sort_values(["at", "change", "chat_id"])
    n = (last - first) // width + 1
    starts = first + width * np.arange(n, dtype="int64")
    stops = np.minimum(starts + width, last)
    t = ns(steps["at"].array)
    # the level after the last change at each instant: the only levels that ever held
    # (between a release and a take at one instant no time passes)
    final = np.r_[t[1:] != t[:-1], True]
    times, levels = t[final], steps["active_chats"].to_numpy(dtype="int64")[final]

    def level_at(at: np.ndarray) -> np.ndarray:
        i = np.searchsorted(times, at, side="right") - 1
        return np.where(i >= 0, levels[np.maximum(i, 0)], 0)

    # chat-seconds carried from the first change up to each instant, then to any time
    held = np.diff(np.r_[times, last]) / 1e9 * levels
    before = np.r_[0.0, np.cumsum(held)[:-1]]

    def integral(at: np.ndarray) -> np.ndarray:
        i = np.searchsorted(times, at, side="right") - 1
        safe = np.maximum(i, 0)
        inside = before[safe] + (at - times[safe]) / 1e9 * levels[safe]  # float: no overflow
        return np.where(i >= 0, inside, 0.0)

    length = (stops - starts) / 1e9
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (integral(stops) - integral(starts)) / length
    # a last bin holding only the end instant: its mean is the level at that instant
    mean = np.where(length > 0, mean, level_at(starts))
    most = level_at(starts)  # what was carried when the bin opened...
    np.maximum.at(most, (times - first) // width, levels)  # ...and every level reached in it
    taken = np.bincount((t[steps["change"].to_numpy() > 0] - first) // width, minlength=n)
    return most, mean, taken


def session_parts(
    steps: pd.DataFrame, end: Instant | None
) -> list[tuple[Hashable, pd.DataFrame, pd.Series, pd.Timestamp]]:
    """Per session (``None`` outside a dataset): its steps, their times and its end,
    from ``end``, else the end recorded by :func:`workload_steps`, else its last change."""
    known = steps.attrs.get("end")
    times = utc(steps["at"].array)
    if "session" in steps.columns:
        masks = [(s, (steps["session"] == s).to_numpy()) for s in sorted(steps["session"].unique())]
    else:
        masks = [(None, np.ones(len(steps), dtype=bool))]
    parts = []
    for session, mask in masks:
        stop = end
        if stop is None:
            stop = known.get(session) if isinstance(known, dict) else known
        if stop is None or pd.isna(stop):
            stop = times[mask].max()
        if pd.isna(stop):
            continue
        stop = stamp(stop)
        keep = mask & (times <= stop).to_numpy()  # changes after the end are left out
        if keep.any():
            parts.append((session, steps[keep], times[keep], stop))
    return parts
