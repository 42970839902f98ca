"""Feeding a read journal to a store, as the live session did: entry by entry, or a
block's runs of incoming events through the store's bulk path (see :mod:`.reader` for the
reading, which touches no store)."""

from __future__ import annotations

from pathlib import Path

import orjson

from .._warn import warn_at_caller
from ..events.records import Action
from ..store import Store
from .reader import Block, ReadAhead, RecordingWarning, _Line, _Meta, iter_journal, positions

__all__ = ["apply_at", "apply_block", "apply_entry", "feed_journal"]


def apply_entry(store: Store, e: _Line) -> None:
    """Feed one journal entry to the store, as the live session did."""
    if e.dir == "in" or e.dir == "out":
        name, t = e.name, e.t
        if name is None or t is None:
            raise ValueError("an event line needs its name and receive time")
        if e.dir == "out":
            raw = bytes(e.payload)
            payload = orjson.loads(raw)  # a ValueError when not JSON (or not UTF-8)
            if not isinstance(payload, dict):
                raise ValueError("the payload is not a JSON object")
            store.record_out_json(name, raw, payload, t)
        elif e.bad is not None:
            store.ingest_bad(name, e.bad.reason, e.bad.preview.encode(), e.bad.size, t)
        else:
            meta = e.meta
            if isinstance(meta, _Meta):  # what the store reads of it, as the dict it was
                pairs = (("seq", meta.seq), ("serverTime", meta.serverTime))
                meta = {k: v for k, v in pairs if v is not None} or None
            store.ingest_json(name, bytes(e.payload), meta, t)
    elif e.dir == "action":
        if e.row is None:  # as ``Action(**None)`` would: a TypeError, the line is skipped
            raise TypeError("an action line needs its row")
        store.record_action(Action(**e.row))
    elif e.dir == "link":
        if e.t is None:
            raise ValueError("a link line needs its time")
        if e.state == "reconnected":
            store.reconnected(e.t)
    elif e.dir == "note":
        if e.field != "min_sentiment" or e.chat is None or e.value is None:
            raise ValueError(f"unknown note {e.field!r}")
        store.note_chat(e.chat, min_sentiment=e.value)
    else:
        raise ValueError(f"unknown direction {e.dir!r}")


def apply_block(store: Store, path: Path, block: Block, bulk: bool = True) -> None:
    """Feed a block of journal entries to the store in order; runs decoded by
    :func:`~.reader.prepare_block` go through the bulk path when ``bulk`` and the store takes
    them, the rest one by one."""
    if not (bulk and block.runs):
        for k in positions(block):
            apply_at(store, path, block, k)
        return
    for start, stop, decoded in block.runs:
        if decoded is not None and store.ingest_batch(decoded):
            continue
        for k in range(start, stop):
            apply_at(store, path, block, k)


def apply_at(store: Store, path: Path, block: Block, k: int) -> None:
    """Feed entry ``k`` of a block; an entry the store cannot take is skipped, warned."""
    try:
        apply_entry(store, block.entries[k])
    except (TypeError, ValueError, KeyError) as exc:
        text = f"{path}:{block.number(k)}: unusable line ({exc}); skipped"
        warn_at_caller(RecordingWarning(text))


def feed_journal(store: Store, path: Path, *, bulk: bool = True) -> None:
    """Feed a whole journal to the store. ``bulk=False`` reads it line by line and feeds
    each event on its own: the reference the bulk path is tested against."""
    if bulk:
        for block in ReadAhead(path, store.dialect):
            apply_block(store, path, block)
        return
    for number, entry in iter_journal(path):
        apply_at(store, path, Block([entry], [number], number), 0)
