"""Many sessions as one dataset: pandas, DuckDB and Dask agree (Dask on a LocalCluster)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import guiders_lab as gl
from guiders_lab import analysis as A
from guiders_lab.sample import record_sample

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample-session"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    shutil.copytree(SAMPLE, root / "2025-01-15-a")
    asyncio.run(record_sample(root / "2025-01-16-b", seed=3, hours=1.0, scenario="busy_afternoon"))
    asyncio.run(record_sample(root / "2025-01-17-c", seed=4, hours=1.0, scenario="quiet_morning"))
    return root


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as lc,
        Client(lc) as client,
    ):
        yield client


def test_pandas_dataset_has_every_session(runs: Path) -> None:
    ds = gl.open_dataset(runs / "*", engine="pandas")
    assert [s.name for s in ds.sessions] == ["2025-01-15-a", "2025-01-16-b", "2025-01-17-c"]
    chats = ds.chats
    assert set(chats["session"]) == {s.name for s in ds.sessions}
    assert len(chats) == sum(len(gl.load(s).chats) for s in ds.sessions)
    assert "time_to_assign" in chats.columns
    assert str(chats["created_at"].dtype) == "datetime64[us, UTC]"
    assert gl.open_dataset(runs).sessions == ds.sessions  # a folder of sessions works too


def test_dask_gives_the_same_aggregates_as_pandas(runs: Path, cluster) -> None:
    pandas_chats = gl.open_dataset(runs / "*").chats
    dask_chats = gl.open_dataset(runs / "*", engine="dask").chats
    # small sessions share partitions: as many as the cluster has threads (2)
    assert dask_chats.npartitions == 2
    for by in ("department", "session", ["session", "hour"]):
        expected = A.outcome_summary(A.chat_outcomes(pandas_chats), by=by).sort_index()
        got = A.outcome_summary(A.chat_outcomes(dask_chats), by=by).compute().sort_index()
        pd.testing.assert_frame_equal(
            got, expected, check_exact=False, rtol=1e-9, check_dtype=False, check_index_type=False
        )
    expected = A.commercial_summary(A.chat_outcomes(pandas_chats)).sort_index()
    got = A.commercial_summary(A.chat_outcomes(dask_chats)).compute().sort_index()
    pd.testing.assert_frame_equal(
        got, expected, check_exact=False, rtol=1e-9, check_dtype=False, check_index_type=False
    )
    assert cluster.scheduler_info()["workers"]  # it really ran on the cluster


def test_dataset_tables_are_the_loaded_tables(runs: Path) -> None:
    """Each session's rows in a dataset are its loaded recording's, column for column
    (the durations included), in pandas and in Dask read column by column."""
    chats = gl.open_dataset(runs / "*").chats
    events = gl.open_dataset(runs / "*").events
    for session in sorted(runs.iterdir()):
        rec = gl.load(session)
        for table, frame in (("chats", chats), ("events", events)):
            part = frame[frame["session"] == session.name].drop(columns="session")
            pd.testing.assert_frame_equal(part.reset_index(drop=True), rec.table(table))
    columns = ["session", "chat_id", "duration", "time_to_assign"]
    projected = gl.open_dataset(runs / "*", engine="dask").chats[columns].compute()
    # check_dtype: Dask makes text its own string dtype (missing: NA, not NaN)
    pd.testing.assert_frame_equal(
        projected.reset_index(drop=True), chats[columns], check_dtype=False
    )


def test_dask_partitions_hold_whole_sessions(
    runs: Path, cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    import guiders_lab.dataset as dataset

    monkeypatch.setattr(dataset, "ROWS_PER_PARTITION", 1)  # a session apiece
    dask_chats = gl.open_dataset(runs / "*", engine="dask").chats
    assert dask_chats.npartitions == 3
    pandas_chats = gl.open_dataset(runs / "*").chats
    by = ["session", "hour"]
    expected = A.outcome_summary(A.chat_outcomes(pandas_chats), by=by).sort_index()
    got = A.outcome_summary(A.chat_outcomes(dask_chats), by=by).compute().sort_index()
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_index_type=False)
    parts = dask_chats.map_partitions(lambda f: f["session"].nunique()).compute()
    assert list(parts) == [1, 1, 1]


def test_partitions_are_balanced_whole_sessions(monkeypatch: pytest.MonkeyPatch) -> None:
    import guiders_lab.dataset as dataset

    sessions = [Path(f"s{i:03d}") for i in range(200)]
    rows = [2_000 + 10 * (i % 7) for i in range(200)]
    for at_least in (1, 2, 3, 8):
        groups = dataset._partitions(sessions, rows, at_least)
        assert len(groups) == at_least
        assert [s for g in groups for s in g] == sessions  # whole, in order
        sizes = [sum(rows[sessions.index(s)] for s in g) for g in groups]
        assert max(sizes) - min(sizes) <= max(rows)  # balanced to a session
    monkeypatch.setattr(dataset, "ROWS_PER_PARTITION", 100_000)
    groups = dataset._partitions(sessions, rows, 2)
    assert len(groups) == 5  # 404,200 rows: the size cap wins over the threads
    assert dataset._partitions(sessions[:3], rows[:3], 8) == [[s] for s in sessions[:3]]


def test_a_table_from_an_older_kit_reads_with_its_defaults(runs: Path, tmp_path: Path) -> None:
    """A session whose ``events`` file predates the ``delivery`` column reads beside the
    others (file by file), its rows 'live' as the reader of one file says."""
    import pyarrow.parquet as pq

    shutil.copytree(runs, tmp_path / "runs")
    old = tmp_path / "runs" / "2025-01-16-b" / "events.parquet"
    pq.write_table(pq.read_table(old).drop_columns(["delivery"]), old)
    events = gl.open_dataset(tmp_path / "runs" / "*").events
    expected = gl.open_dataset(runs / "*").events
    older = events["session"] == "2025-01-16-b"
    assert older.any() and (events.loc[older, "delivery"] == "live").all()
    without = ["delivery"]
    pd.testing.assert_frame_equal(events.drop(columns=without), expected.drop(columns=without))


def test_without_duckdb_arrow_reads_the_same(
    runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without DuckDB installed (the base install) the files go through Arrow's scan: the
    same tables, an older file's defaults included."""
    import pyarrow.parquet as pq

    import guiders_lab.dataset as dataset

    with_duckdb = {t: gl.open_dataset(runs / "*").table(t) for t in ("chats", "events")}
    shutil.copytree(runs, tmp_path / "runs")
    old = tmp_path / "runs" / "2025-01-17-c" / "events.parquet"
    pq.write_table(pq.read_table(old).drop_columns(["delivery"]), old)
    monkeypatch.setitem(sys.modules, "duckdb", None)  # import duckdb raises ImportError
    scans: list[int] = []
    arrow_scan = dataset._scan_arrow

    def counted(files: list[str], schema: object) -> object:
        scans.append(len(files))
        return arrow_scan(files, schema)  # type: ignore[arg-type]

    monkeypatch.setattr(dataset, "_scan_arrow", counted)
    for table, expected in with_duckdb.items():
        got = gl.open_dataset(runs / "*").table(table)
        pd.testing.assert_frame_equal(got, expected)
    events = gl.open_dataset(tmp_path / "runs" / "*").events
    older = events["session"] == "2025-01-17-c"
    assert older.any() and (events.loc[older, "delivery"] == "live").all()
    assert scans == [3, 3, 3]  # one scan of the three files a table (the last fell back)


def test_duckdb_relations(runs: Path) -> None:
    ds = gl.open_dataset(runs / "*", engine="duckdb")
    per_session = ds.messages.aggregate("session, count(*) AS n", "session").df()
    expected = gl.open_dataset(runs / "*").messages.groupby("session").size()
    assert dict(zip(per_session["session"], per_session["n"], strict=True)) == expected.to_dict()
    durations = ds.chats.filter("duration IS NOT NULL").aggregate("avg(epoch(duration)) AS s").df()
    pandas_mean = A.outcome_summary(A.chat_outcomes(gl.open_dataset(runs / "*").chats))
    assert durations.loc[0, "s"] == pytest.approx(pandas_mean.loc["all", "mean_duration_s"])


def test_bad_dataset_paths(tmp_path: Path, runs: Path) -> None:
    with pytest.raises(gl.RecordingError, match="no recorded sessions"):
        gl.open_dataset(tmp_path / "nothing-*")
    unfinished = tmp_path / "unfinished"
    shutil.copytree(SAMPLE, unfinished)
    manifest = json.loads((unfinished / "manifest.json").read_text())
    manifest["complete"] = False
    (unfinished / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(gl.RecordingError, match="unfinished"):
        gl.open_dataset(unfinished)
    with pytest.raises(ValueError, match="engine"):
        gl.open_dataset(runs / "*", engine="spark")


def test_duckdb_times_are_utc_whatever_the_machine_zone(runs: Path) -> None:
    """DuckDB shows timestamps in the machine's zone unless told: hours and days would
    then differ from pandas's (UTC)."""
    script = (
        "import sys, guiders_lab as gl\n"
        "ds = gl.open_dataset(sys.argv[1], engine='duckdb')\n"
        "hours = ds.chats.aggregate('hour(created_at) AS h', 'h').df()['h']\n"
        "print(sorted(set(hours)), ds.chats.df()['created_at'].dtype)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(runs / "*")],
        env={**os.environ, "TZ": "Asia/Kolkata"},  # +05:30: every hour would move
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    chats = gl.open_dataset(runs / "*").chats
    expected = sorted(set(chats["created_at"].dt.hour))
    assert done.stdout.split("]")[0] + "]" == str(expected)
    assert "UTC" in done.stdout


def _duckdb_summary(relation, by) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return A.outcome_summary(relation, by=by).df().set_index(by or "scope")


def _assert_same_summary(got: pd.DataFrame, want: pd.DataFrame) -> None:
    # index type: pandas 3 makes consecutive whole numbers (hours) a RangeIndex
    pd.testing.assert_frame_equal(got, want, rtol=1e-12, check_index_type=False)


def test_duckdb_outcomes_are_the_pandas_outcomes(runs: Path) -> None:
    """The SQL side of chat_outcomes/outcome_summary gives pandas' numbers on recorded
    sessions: each chat's row exactly, and every summary by department, by session, by
    session and hour, by commercial and overall."""
    chats = gl.open_dataset(runs / "*").chats
    relation = gl.open_dataset(runs / "*", engine="duckdb").chats
    expected = A.chat_outcomes(chats)
    outcomes = A.chat_outcomes(relation)
    got = outcomes.df()
    assert list(got.columns) == ["session", *A.OUTCOME_COLUMNS]
    order = ["session", "chat_id"]
    pd.testing.assert_frame_equal(
        got.sort_values(order).reset_index(drop=True),
        expected.sort_values(order).reset_index(drop=True),
        check_exact=True,
        check_dtype=False,  # n_messages: pandas Int64, DuckDB's frame int64
    )
    assert got["time_to_assign_s"].notna().any() and got["closed"].any()
    for by in ("department", "session", ["session", "hour"], "commercial_id", None):
        want = A.outcome_summary(expected, by=by)
        _assert_same_summary(_duckdb_summary(outcomes, by), want)
    assert len(want) == 1 and want["chats"].iloc[0] == len(chats)


def test_duckdb_outcomes_edge_cases(runs: Path) -> None:
    """No closed chat in a group gives NaN rates (not 0), a chat without a department is
    left out of the by-department summary, as in pandas; the hour is UTC on a connection
    set to another zone."""
    import duckdb

    chats = gl.open_dataset(runs / "2025-01-16-b").chats
    chats.loc[chats["department"] == "billing", "closed_at"] = pd.NaT
    chats.loc[chats.index[:3], "department"] = None
    chats.loc[chats.index[3:6], "close_reason"] = None
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Kolkata'")
    relation = con.from_df(chats)
    for by in ("department", "hour", None):
        want = A.outcome_summary(A.chat_outcomes(chats), by=by)
        got = _duckdb_summary(A.chat_outcomes(relation), by)
        _assert_same_summary(got, want)
    billing = _duckdb_summary(A.chat_outcomes(relation), "department").loc["billing"]
    assert billing["closed"] == 0 and pd.isna(billing["resolved_rate"])
    assert billing["chats"] > 0


def test_analysis_does_not_import_duckdb() -> None:
    script = (
        "import sys, guiders_lab as gl; gl.analysis.chat_outcomes; print('duckdb' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "False", done.stderr[-2000:]
