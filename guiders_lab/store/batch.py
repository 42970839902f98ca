"""Many recorded events into the store at once: the bulk twin of ``Store.ingest_json``.

Rebuilds and flat-out replays hand the store thousands of journal events at a time.
Taken one by one they cost 15-20 µs each in Python; here each step runs over the whole
batch with Arrow and numpy: payloads decoded per event name by the dialect's columnar
decoder, the ``events`` table assembled column by column, duplicates and server sequence
numbers checked on arrays, event-lag windows found by search, the chats ledger folded
from light views. :func:`decode_batch` does everything that does not depend on the store
(on any thread, ahead of time); :func:`commit` (``Store.ingest_batch``) checks the batch
against the store and commits it. The outcome must be exactly what ``Store.ingest_json``
gives event by event. Where that cannot be shown cheaply (a duplicate, a payload to
quarantine, an unknown shape, a subscriber waiting for records, a journal to write) the
batch is refused *before* anything changes and the caller feeds it event by event
instead. tests/test_batch_equivalence.py holds the two paths equal.
"""

from __future__ import annotations

from operator import itemgetter
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from ..dialects import BatchRefused
from ..events.records import Event, LatencySample
from .arrow import arrow_schema, rows_to_batch
from .batch_decode import DecodedBatch, decode_batch

if TYPE_CHECKING:
    from .store import Store

__all__ = ["BatchRefused", "DecodedBatch", "commit", "decode_batch"]

_DELIVERY = pa.array(["live", "resync"])
_LAG = Event._fields.index("lag_ms") - 1  # its place in ``DecodedBatch.events`` (no ``seq``)


def _merge(parts: list[tuple[np.ndarray, pa.Table]], schema: pa.Schema) -> pa.Table:
    """Table parts with the batch positions of their rows, as one table in event order."""
    if len(parts) == 1:
        return parts[0][1]
    order = np.concatenate([at for at, _ in parts])
    table = pa.concat_tables([t if t.schema.equals(schema) else t.cast(schema) for _, t in parts])
    return table.take(np.argsort(order, kind="stable"))


def commit(store: Store, b: DecodedBatch) -> bool:
    """Take a decoded batch into the store, with exactly the outcome of feeding its events
    one by one. Returns False, having changed nothing, when it must go event by event
    instead (a duplicate of something the store remembers, a journal to write, a
    subscriber waiting for records)."""
    if (
        store.journal is not None
        or store.has_subscribers
        or b.longest > store.max_payload_bytes  # quarantined, event by event
        or not store.server_seqs.isdisjoint(b.seq_hashes)
        or not store.message_ids.isdisjoint(b.message_hashes)
        or not store.assignment_ids.isdisjoint(b.assignment_hashes)
    ):
        return False
    n = b.n
    # sent before the connection reopened: re-delivered, its lag counts the outage
    columns = b.events
    if store.simulated_clock:  # the records' times are simulated: only a serverTime counts
        lag = (b.now - b.wall_time) * 1000.0
        columns = [
            *columns[:_LAG],
            pa.array(lag, pa.float64(), from_pandas=True),
            *columns[_LAG + 1 :],
        ]
        sent_at, has_lag = b.wall_time, ~np.isnan(b.wall_time)
    else:
        lag, sent_at, has_lag = b.lag, b.server_time, b.has_lag
    resync = sent_at < store.reconnected_at
    has_lag = has_lag & ~resync
    lag_rows = store.lag.run(b.now[has_lag], lag[has_lag], np.flatnonzero(has_lag))
    latency = [(at, 1, row) for at, row in lag_rows]
    latency += [(at, 0, row) for at, row in b.pings]
    latency.sort(key=itemgetter(0, 1))
    first = store.log.take(n)
    delivery = _DELIVERY.take(resync.astype(np.int8))
    events = pa.Table.from_arrays(
        [
            pa.array(np.arange(first, first + n, dtype=np.int64)),
            *columns[:-1],
            delivery,
            columns[-1],
        ],
        schema=arrow_schema(Event),
    )
    store.redelivered += int(resync.sum())
    counts = store.counts
    for name, count in b.counts.items():
        counts[name] = counts.get(name, 0) + count
    ok = int(b.known.sum())
    store.status_counts["ok"] += ok
    store.status_counts["unknown"] += n - ok
    store.server_seqs.extend_new(b.seq_hashes)
    store.seq_tracker.see_all(b.seqs, b.seqs_step_by_one)
    store.message_ids.extend_new(b.message_hashes)
    store.assignment_ids.extend_new(b.assignment_hashes)
    for record_type, table_parts in b.parts.items():
        table = store.routes[record_type]
        if table is not None:
            table.extend(_merge(table_parts, arrow_schema(record_type)))
    if latency:
        rows = [row for _, _, row in latency]
        store.tables["latency"].extend(
            pa.Table.from_batches([rows_to_batch(rows, arrow_schema(LatencySample))])
        )
    for _, row in b.pings:
        if row.kind == "ping":
            store.note_ping(row)
    store.chats.apply_many(b.ledger)
    store.tables["events"].extend(events)
    return True
