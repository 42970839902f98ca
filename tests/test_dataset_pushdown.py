"""A Dask dataset's outcome summary is summed by DuckDB at the Parquet files, partition by
partition (``analysis/_pushdown.py``): the same numbers as pandas, and the pandas way
whenever the frame is not the dataset's own or DuckDB cannot read the files."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_dataset import cluster, runs  # noqa: F401  (fixtures)

import guiders_lab as gl
import guiders_lab.dataset as dataset
from guiders_lab import analysis as A
from guiders_lab.analysis import _pushdown
from guiders_lab.analysis.outcomes import _partials_of_chats

BYS = ("department", None, ["department", "hour"], "session", "commercial_id", "converted")


def _summed_at_files(summary: object) -> bool:
    """Whether a Dask summary's graph sums at the files (else it reads every chat)."""
    return any("summed_at_source" in str(key) for key in summary.__dask_graph__())  # type: ignore[attr-defined]


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        got.sort_index(),
        want.sort_index(),
        check_exact=False,
        rtol=1e-12,
        check_dtype=False,
        check_index_type=False,  # Dask's own string dtype for text groups
    )


def test_a_datasets_summary_is_summed_at_the_files(runs: Path, cluster) -> None:  # noqa: F811
    chats = gl.open_dataset(runs / "*").chats
    dask_chats = gl.open_dataset(runs / "*", engine="dask").chats
    for by in BYS:
        summary = A.outcome_summary(A.chat_outcomes(dask_chats), by=by)
        assert _summed_at_files(summary), by
        _same(summary.compute(), A.outcome_summary(A.chat_outcomes(chats), by=by))


def test_each_partitions_partial_sums_are_the_pandas_ones(runs: Path) -> None:  # noqa: F811
    """Partition by partition, DuckDB's partial sums against the pandas code's over the
    same chats: every count equal, every sum to the last bits."""
    dask_chats = gl.open_dataset(runs / "*", engine="dask").chats
    source = _pushdown.source_of(dask_chats)
    assert source is not None and len(source.partitions) == 2
    columns = ["session", *A.outcomes._CHATS_USED]
    for partition in source.partitions:
        for by in BYS:
            want = _partials_of_chats(source.frame(partition, columns), by)
            got = _pushdown.summed_at_source(
                partition, source, by, want.iloc[:0], lambda _: pytest.fail("no fallback"), []
            )
            assert list(got.columns) == list(want.columns) and (got.dtypes == want.dtypes).all()
            _same(got, want)


def test_other_frames_go_the_pandas_way(runs: Path, cluster) -> None:  # noqa: F811
    """A filtered or hand-made frame has no files behind it: its chats are read and
    summarized in pandas, with the same numbers."""
    chats = gl.open_dataset(runs / "*").chats
    dask_chats = gl.open_dataset(runs / "*", engine="dask").chats
    recent = dask_chats[dask_chats["n_messages"] > 2]
    summary = A.outcome_summary(A.chat_outcomes(recent), by="department")
    assert not _summed_at_files(summary)
    want = A.outcome_summary(A.chat_outcomes(chats[chats["n_messages"] > 2]), by="department")
    _same(summary.compute(), want)
    outcomes = A.chat_outcomes(dask_chats)
    flagged = outcomes[outcomes["escalated"]]
    assert not _summed_at_files(A.outcome_summary(flagged, by="department"))


def test_edge_cases_at_the_files(runs: Path, tmp_path: Path, cluster) -> None:  # noqa: F811
    """No closed chat in a group (NaN rates, not 0), chats without a department (left
    out), without a close reason or any AI reply (a mean over none is NaN), written to
    the files themselves: DuckDB's sums give pandas' summary."""
    shutil.copytree(runs, tmp_path / "runs")
    path = tmp_path / "runs" / "2025-01-16-b" / "chats.parquet"
    table = pq.read_table(path)
    chats = table.to_pandas()
    chats.loc[chats["department"] == "billing", "closed_at"] = pd.NaT
    chats.loc[chats.index[:3], "department"] = None
    chats.loc[chats.index[3:6], "close_reason"] = None
    chats["first_ai_response_at"] = pd.NaT
    pq.write_table(pa.Table.from_pandas(chats, schema=table.schema, preserve_index=False), path)
    pandas_chats = gl.open_dataset(tmp_path / "runs" / "*").chats
    dask_chats = gl.open_dataset(tmp_path / "runs" / "*", engine="dask").chats
    for by in ("department", "session", None):
        summary = A.outcome_summary(A.chat_outcomes(dask_chats), by=by)
        assert _summed_at_files(summary)
        _same(summary.compute(), A.outcome_summary(A.chat_outcomes(pandas_chats), by=by))
    by_session = A.outcome_summary(A.chat_outcomes(dask_chats), by="session").compute()
    assert pd.isna(by_session.loc["2025-01-16-b", "mean_time_to_first_ai_s"])


def test_where_duckdb_cannot_the_partition_goes_the_pandas_way(
    runs: Path,  # noqa: F811
    cluster,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DuckDB failing on a partition's files (``duckdb.Error``), or not installed on a
    worker: that partition's chats are read and summed in pandas."""
    import duckdb

    want = A.outcome_summary(A.chat_outcomes(gl.open_dataset(runs / "*").chats), by="department")
    failed: list[int] = []

    def unreadable(directories: list[Path]) -> duckdb.DuckDBPyRelation:
        failed.append(len(directories))
        raise duckdb.IOException("cannot read")

    monkeypatch.setattr(dataset, "_chats_relation", unreadable)  # the cluster's threads see it
    dask_chats = gl.open_dataset(runs / "*", engine="dask").chats
    _same(A.outcome_summary(A.chat_outcomes(dask_chats), by="department").compute(), want)
    assert sorted(failed) == [1, 2]  # both partitions tried DuckDB, then pandas
    monkeypatch.undo()
    monkeypatch.setitem(sys.modules, "duckdb", None)  # import duckdb raises ImportError
    dask_chats = gl.open_dataset(runs / "*", engine="dask").chats
    _same(A.outcome_summary(A.chat_outcomes(dask_chats), by="department").compute(), want)


def test_a_dask_tables_meta_reads_no_file(runs: Path) -> None:  # noqa: F811
    """A Dask table's meta comes from the schema alone: the columns and dtypes a read of
    the files gives, for every table."""
    session = sorted(runs.iterdir())[:1]
    for table in sorted(gl.record.tables_io.TABLE_NAMES):
        read = dataset._read_sessions(session, table).iloc[:0]
        empty = dataset._empty(table)
        assert list(empty.columns) == list(read.columns), table
        assert empty.dtypes.equals(read.dtypes), table
