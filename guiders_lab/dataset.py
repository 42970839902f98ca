"""Many recorded sessions as one partitioned Parquet dataset, read with pandas, DuckDB or
Dask.

Each session directory is a partition of the data on disk; every table gets a ``session``
column (the directory's name). Dask partitions hold whole sessions, as many as make about
ROWS_PER_PARTITION rows and at least one per thread of the cluster. pandas is simplest
while everything fits in memory; DuckDB runs SQL over many millions of rows on one machine
without loading them; Dask runs the kit's pandas analysis functions unchanged, partition by
partition, on a laptop or a cluster. A Dask ``chats`` frame also tells the analysis where
its partitions' files are, so that an outcome summary of it is summed there by DuckDB
(``analysis/_pushdown.py``) instead of reading every chat into pandas.
"""

from __future__ import annotations

import glob
import html
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa

from .analysis import _pushdown
from .analysis._pushdown import ParquetChats
from .record.manifest import Manifest, RecordingError
from .record.tables_io import TABLE_NAMES, read_table
from .store import arrow_schema, to_frame
from .store.chats import ChatRow, with_durations
from .store.store import TABLES

if TYPE_CHECKING:
    import dask.dataframe as dd
    import duckdb

__all__ = ["Dataset", "open_dataset"]

# what ``Dataset.table`` gives, by engine: pandas, Dask or DuckDB (dask and duckdb are
# optional, imported only when their engine is used)
EngineTable: TypeAlias = "pd.DataFrame | dd.DataFrame | duckdb.DuckDBPyRelation"

ENGINES = ("pandas", "duckdb", "dask")


def _schema(table: str) -> pa.Schema:
    return arrow_schema(ChatRow if table == "chats" else TABLES[table])


# the chats table's derived durations (store.chats.with_durations): each is its time
# minus created_at
_DURATIONS = {
    "time_to_assign": "first_assigned_at",
    "time_to_first_response": "first_response_at",
    "duration": "closed_at",
}

# rows of a table per Dask partition, at most about: sessions are packed into partitions
# of this size (200 sessions' chats, one partition each, made a by-department summary 100x
# slower than DuckDB: a task per session costs more than the session's work)
ROWS_PER_PARTITION = 2_000_000


def _read_file(directory: Path, table: str, schema: pa.Schema) -> pa.Table:
    """One session's table in Arrow, with its ``session`` column first."""
    data = read_table(directory / f"{table}.parquet", schema)
    return data.add_column(0, "session", pa.array([directory.name] * data.num_rows, pa.string()))


def _read_arrow(directories: list[Path], table: str, schema: pa.Schema) -> pa.Table:
    """Sessions' table in Arrow, ``session`` column first, each file's rows labelled with
    its directory's name.

    One scan over all the files: DuckDB's Parquet reader when it is installed (half the
    CPU of Arrow's for these small files: 200 sessions' chats in ~0.1 s), else Arrow's
    (~0.2 s; a file at a time was ~0.65 s). A file written by an older kit, lacking a
    column, goes file by file through ``read_table`` (its documented defaults)."""
    files = [str(d / f"{table}.parquet") for d in directories]
    try:
        data, file_of_row = _scan(files, schema)
    except _MissingColumn:
        return pa.concat_tables([_read_file(d, table, schema) for d in directories])
    names = pa.array([d.name for d in directories], pa.string())
    return data.add_column(0, "session", names.take(file_of_row))


class _MissingColumn(Exception):
    """A file lacks one of the schema's columns."""


# (the process it was opened in, the connection): a forked child opens its own, as a
# connection's threads do not survive a fork
_duckdb_connection: tuple[int, duckdb.DuckDBPyConnection] | None = None


def _scan(files: list[str], schema: pa.Schema) -> tuple[pa.Table, np.ndarray]:
    """(the files' rows, as ``schema``; the index in ``files`` of each row's file)."""
    try:
        import duckdb
    except ImportError:
        return _scan_arrow(files, schema)
    columns = ", ".join('"' + name.replace('"', '""') + '"' for name in schema.names)
    query = f"SELECT {columns}, filename FROM read_parquet(?, filename = true)"
    cursor = _cursor()
    try:
        data = cursor.sql(query, params=[files]).to_arrow_table()
    except duckdb.Error as error:
        # a file lacking a column ("schema mismatch"), or one DuckDB cannot read: file
        # by file, where an older file gets its defaults and a bad one a precise error
        raise _MissingColumn(str(error)) from None
    finally:
        cursor.close()
    index = {name: i for i, name in enumerate(files)}
    names = data.column("filename").combine_chunks().dictionary_encode()
    file_index = np.array([index[name] for name in names.dictionary.to_pylist()], np.int32)
    file_of_row = file_index[names.indices.to_numpy(zero_copy_only=False)]
    return data.drop_columns(["filename"]).cast(schema), file_of_row


def _cursor() -> duckdb.DuckDBPyConnection:
    """A cursor (safe on a Dask worker's threads) of this process's DuckDB connection,
    its times in UTC."""
    global _duckdb_connection
    import duckdb

    if _duckdb_connection is None or _duckdb_connection[0] != os.getpid():
        # in a Dask worker, a thread per worker thread: the cluster already fills the cores
        threads = _worker_threads()
        connection = duckdb.connect(config={"threads": threads}) if threads else duckdb.connect()
        _duckdb_connection = os.getpid(), connection
    cursor = _duckdb_connection[1].cursor()
    cursor.execute("SET TimeZone = 'UTC'")
    return cursor


def _worker_threads() -> int | None:
    """This Dask worker's threads, or None outside a Dask worker."""
    try:
        from distributed import get_worker

        return int(get_worker().state.nthreads)
    except (ImportError, ValueError, AttributeError):  # not in a worker; another version
        return None


def _scan_arrow(files: list[str], schema: pa.Schema) -> tuple[pa.Table, np.ndarray]:
    import pyarrow.dataset as pds

    scan = pds.dataset(files, format="parquet", schema=schema)
    fragments = list(scan.get_fragments())
    data = scan.to_table()
    # the footers were read by the scan: asking for their schemas and sizes reads nothing
    if any(not set(schema.names) <= set(f.physical_schema.names) for f in fragments):
        raise _MissingColumn
    counts = [f.metadata.num_rows for f in fragments]
    return data, np.repeat(np.arange(len(files), dtype=np.int32), counts)


def _read_sessions(
    directories: list[Path], table: str, columns: list[str] | None = None
) -> pd.DataFrame:
    """Sessions' table as one pandas frame, with the kit's dtypes and a ``session`` column.

    The files are read to Arrow and converted to pandas once: a conversion per session
    made reading 200 sessions' chats twice as slow.
    ``columns``: only these (Dask passes the columns a computation needs: ``from_map``
    pushes a projection into a function that takes ``columns``)."""
    schema = _schema(table)
    derived = [c for c in _DURATIONS if table == "chats" and (columns is None or c in columns)]
    if columns is not None:
        needed = set(columns) | (
            {"created_at", *(_DURATIONS[c] for c in derived)} if derived else set()
        )
        schema = pa.schema([f for f in schema if f.name in needed])
    frame = to_frame(_read_arrow(directories, table, schema))
    for name in derived:  # as with_durations, for the columns asked for
        frame[name] = frame[_DURATIONS[name]] - frame["created_at"]
    return frame if columns is None else frame[list(columns)]


def _empty(table: str) -> pd.DataFrame:
    """What :func:`_read_sessions` gives for ``table``, without its rows: its columns
    and dtypes, from the schema alone (a Dask frame's meta, with no file read)."""
    schema = _schema(table).insert(0, pa.field("session", pa.string()))
    frame = to_frame(schema.empty_table())
    return with_durations(frame) if table == "chats" else frame


def _parallelism() -> int:
    """Threads that can run partitions at once: the running Dask client's, else this
    machine's cores."""
    try:
        from distributed import default_client

        client = default_client()  # type: ignore[no-untyped-call]
        return max(1, int(sum(client.nthreads().values())))
    except (ImportError, ValueError):  # no distributed, or no client
        return os.cpu_count() or 1


def _partitions(sessions: list[Path], rows: list[int], at_least: int = 1) -> list[list[Path]]:
    """Consecutive sessions packed into partitions of at most about ROWS_PER_PARTITION
    rows, and into at least ``at_least`` partitions when there are that many sessions
    (one partition for 200 sessions' chats left a worker of two idle)."""
    total = sum(rows)
    count = max(math.ceil(total / ROWS_PER_PARTITION), min(at_least, len(sessions)), 1)
    share = total / count
    groups: list[list[Path]] = [[]]
    size = 0
    for session, n in zip(sessions, rows, strict=True):
        if groups[-1] and size + n / 2 > share * len(groups):
            groups.append([])
        groups[-1].append(session)
        size += n
    return groups


def _sessions(paths: str | Path | Iterable[str | Path]) -> dict[Path, Manifest]:
    """The sessions found, with their manifests (read once: each says its tables' rows)."""
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    found: list[Path] = []
    for item in items:
        matches = sorted(glob.glob(str(item))) or [str(item)]
        for match in matches:
            path = Path(match)
            if (path / "manifest.json").exists():
                found.append(path)
            elif path.is_dir():  # a folder of sessions
                found.extend(sorted(p.parent for p in path.glob("*/manifest.json")))
    if not found:
        raise RecordingError(f"no recorded sessions found in {paths!r}")
    names = [p.name for p in found]
    if len(set(names)) != len(names):
        raise RecordingError("session directory names must be unique (they name partitions)")
    manifests = {path: Manifest.read(path) for path in found}
    for path, manifest in manifests.items():
        if not manifest.complete:
            raise RecordingError(
                f"{path}: unfinished recording; load it with gl.load() "
                "first, which rebuilds its tables"
            )
    return manifests


def _relation(
    connection: duckdb.DuckDBPyConnection, files: list[str], table: str
) -> duckdb.DuckDBPyRelation:
    """The files' table as a DuckDB relation: the ``session`` column first, the chats'
    durations as pandas derives them."""
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    durations = ""
    if table == "chats":
        durations = "".join(f", {at} - created_at AS {name}" for name, at in _DURATIONS.items())
    return connection.sql(
        f"SELECT parse_filename(parse_dirpath(filename)) AS session, * EXCLUDE (filename)"
        f"{durations} FROM read_parquet([{listed}], filename = true)"
    )


def _chats_relation(directories: list[Path]) -> duckdb.DuckDBPyRelation:
    """A Dask partition's chats, as DuckDB reads them (in a worker: its connection)."""
    return _relation(_cursor(), [str(d / "chats.parquet") for d in directories], "chats")


def _chats_frame(directories: list[Path], columns: list[str]) -> pd.DataFrame:
    return _read_sessions(directories, "chats", columns)


class Dataset:
    """Recorded sessions opened together; ``ds.table("chats")`` or ``ds.chats``."""

    def __init__(self, sessions: dict[Path, Manifest], engine: str) -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
        self.sessions = list(sessions)
        self._manifests = sessions
        self.engine = engine
        self._duckdb: duckdb.DuckDBPyConnection | None = None

    def files(self, table: str) -> list[str]:
        return [str(s / f"{table}.parquet") for s in self.sessions]

    def table(self, name: str) -> EngineTable:
        """The table across all sessions: a pandas DataFrame, a DuckDB relation or a Dask
        DataFrame, depending on the engine."""
        if name not in TABLE_NAMES:
            raise KeyError(f"no table {name!r}; tables: {sorted(TABLE_NAMES)}")
        if self.engine == "pandas":
            return _read_sessions(self.sessions, name)
        if self.engine == "dask":
            import dask.dataframe as dd

            meta = _empty(name)
            rows = [self._manifests[s].tables.get(name, 0) for s in self.sessions]
            # ignore: dask.dataframe.from_map has no annotations (the result is typed here)
            groups = _partitions(self.sessions, rows, _parallelism())
            partitioned: dd.DataFrame = dd.from_map(  # type: ignore[no-untyped-call]
                _read_sessions, groups, table=name, meta=meta, enforce_metadata=False
            )
            if name == "chats":  # outcome summaries can be summed from the files
                _pushdown.offer(partitioned, ParquetChats(groups, _chats_relation, _chats_frame))
            return partitioned
        return self._duckdb_table(name)

    def _duckdb_table(self, name: str) -> duckdb.DuckDBPyRelation:
        import duckdb

        if self._duckdb is None:
            self._duckdb = duckdb.connect()
            # times are UTC, as in pandas: not the machine's zone (hours, day boundaries)
            self._duckdb.execute("SET TimeZone = 'UTC'")
        return _relation(self._duckdb, self.files(name), name)

    def __getattr__(self, name: str) -> EngineTable:
        if name in TABLE_NAMES:
            return self.table(name)
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"<Dataset {len(self.sessions)} sessions, engine={self.engine}>"

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(s.name)}</li>" for s in self.sessions[:20])
        more = f"<li>… {len(self.sessions) - 20} more</li>" if len(self.sessions) > 20 else ""
        return (
            f"<b>Dataset</b> · {self.engine} · {len(self.sessions)} sessions<ul>{items}{more}</ul>"
        )


def open_dataset(
    paths_or_glob: str | Path | Iterable[str | Path], engine: str = "pandas"
) -> Dataset:
    """Open recorded sessions as one dataset partitioned by ``session``.

    ``paths_or_glob``: session directories, a glob (``"data/runs/*"``), or a folder of
    sessions. ``engine``: ``"pandas"`` (eager DataFrames), ``"duckdb"`` (lazy relations
    for SQL; ``.df()`` to get pandas) or ``"dask"`` (lazy Dask DataFrames, whole sessions
    per partition, for the kit's analysis functions at scale).

    >>> ds = gl.open_dataset("data/runs/*", engine="dask")      # doctest: +SKIP
    >>> gl.analysis.outcome_summary(gl.analysis.chat_outcomes(ds.chats), by="department").compute()
    """
    return Dataset(_sessions(paths_or_glob), engine)
