"""Task-output record figures (issue 13): a filtered page from a store of 100,000 records
(1,000,000 with --big), in-process and through `kflow outputs` as a process (paired with a
one-task `kflow eval`), a `--jsonl` export of all of them (peak memory), the same page from
a running `kflow serve`, and 8 concurrent writers into one PostgreSQL store.

Called by bench/run.py; `python bench/records.py` runs these rows alone.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
KFLOW = [PY, "-m", "kflow"]
Row = Callable[[str, str, str, str, str], None]


def populate(home: Path, count: int) -> None:
    """A kflow home whose store holds ``count`` records (100 tasks, 10 runs of each per
    execution), written straight into the schema the store creates."""
    from kflow.store.sqlite import _UPSERT_RECORD, SQLiteStore
    from kflow.taskoutputs import record_id

    home.mkdir(parents=True, exist_ok=True)
    SQLiteStore(home / "kflow.db").close()  # the current schema
    conn = sqlite3.connect(home / "kflow.db", isolation_level=None)
    conn.execute("BEGIN")
    batch = []
    for i in range(count):
        eid = f"E{i // 1000:07d}"
        trid = f"T{i:09d}"
        task = f"t{i % 100}"
        stamp = f"2026-12-{1 + i * 28 // count:02d}T10:00:00.{i % 1000000:06d}Z"
        batch.append((
            record_id(trid), trid, eid, "local", "bench", "records", task,
            "io.kestra.plugin.core.debug.Return", None, None, None, "completed", "SUCCESS",
            "{}", json.dumps({"value": f"output of run {i} " + "x" * 60}),
            '{"type": "io.kestra.plugin.core.debug.Return", "state": "SUCCESS"}',
            f"outputs.{task}", stamp, stamp, "system",
        ))  # fmt: skip
        if len(batch) == 10_000:
            conn.executemany(_UPSERT_RECORD, batch)
            batch = []
    if batch:
        conn.executemany(_UPSERT_RECORD, batch)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _in_process_page(home: Path, n: int) -> float:
    code = (
        "import json, os, statistics, time\n"
        "from kflow.api import open_home\n"
        "from kflow.taskoutputs import RecordQuery\n"
        "with open_home() as h:\n"
        "    ts = []\n"
        f"    for _ in range({n}):\n"
        "        t = time.perf_counter()\n"
        "        page = h.store.list_records(RecordQuery(task_name='t7', limit=50))\n"
        "        ts.append(time.perf_counter() - t)\n"
        "    assert len(page.records) == 50\n"
        "print(statistics.median(ts))\n"
    )
    env = dict(os.environ, KFLOW_HOME=str(home))
    out = subprocess.run([PY, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def _serve_page(home: Path, n: int) -> float:
    env = dict(os.environ, KFLOW_HOME=str(home), KFLOW_TOKEN="bench-token")
    proc = subprocess.Popen([*KFLOW, "serve", "--port", "0"], env=env, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        found = re.search(r"http://[^\s]+", line)
        if found is None:
            raise SystemExit(f"kflow serve did not start: {line}{proc.stderr.read()}")
        url = found.group(0) + "/task-outputs?task_name=t7&limit=50"
        request = urllib.request.Request(url, headers={"Authorization": "Bearer bench-token"})
        urllib.request.urlopen(request).read()  # warm-up
        times = []
        for _ in range(n):
            t = time.perf_counter()
            body = urllib.request.urlopen(request).read()
            times.append(time.perf_counter() - t)
        assert len(json.loads(body)["data"]) == 50
        return statistics.median(times)
    finally:
        proc.terminate()
        proc.wait(10)


def _export(home: Path, count: int, spawn: Callable[..., tuple[float, float, int]]) -> tuple[float, float]:
    took, rss, rc = spawn([*KFLOW, "outputs", "--jsonl"], dict(os.environ, KFLOW_HOME=str(home)))
    if rc != 0:
        raise SystemExit("kflow outputs --jsonl failed")
    return took, rss


def bench_records(tmp: Path, n: int, big: bool, row: Row, paired: Callable[..., dict[str, float]],
                  spawn: Callable[..., tuple[float, float, int]]) -> None:  # fmt: skip
    sizes = [100_000] + ([1_000_000] if big else [])
    for count in sizes:
        home = tmp / f"home-records-{count}"
        t = time.perf_counter()
        populate(home, count)
        made = time.perf_counter() - t
        label = f"{count:,} records"
        page = _in_process_page(home, 20)
        row(f"one filtered page (--task, 50 of {label}), in-process", f"{page * 1000:.1f} ms",
            f"store filled in {made:.1f} s", "target < 50 ms", "ok" if page < 0.05 else "OVER")  # fmt: skip
        t2 = paired({"eval": [*KFLOW, "eval", "{{ 1 + 1 }}"],
                     "page": [*KFLOW, "outputs", "--task", "t7", "--limit", "50"]},
                    max(3, n // 2), {"KFLOW_HOME": str(home)})  # fmt: skip
        r = t2["page"] / t2["eval"]
        row(f"kflow outputs --task X --limit 50 ({label})", f"{t2['page'] * 1000:.0f} ms",
            f"kflow eval '{{{{ 1 + 1 }}}}' {t2['eval'] * 1000:.0f} ms",
            f"{r:.2f}x (target <= 1.2x)", "ok" if r <= 1.2 else "OVER")  # fmt: skip
        took, rss = _export(home, count, spawn)
        row(f"kflow outputs --jsonl, all {label}", f"{took:.1f} s, peak {rss:.0f} MB", "",
            "target < 100 MB", "ok" if rss < 100 else "OVER")
        served = _serve_page(home, 30)
        row(f"GET /task-outputs?task_name=X&limit=50 ({label}, kflow serve)",
            f"{served * 1000:.1f} ms/request", "", "target < 100 ms",
            "ok" if served < 0.1 else "OVER")  # fmt: skip
    bench_pg_writers(tmp, row)


PG_FLOW = """id: writer
namespace: bench
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: "{{ range(1, 100) }}"
    tasks:
      - id: r
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.value }}"
"""


def bench_pg_writers(tmp: Path, row: Row, writers: int = 8) -> None:
    """``writers`` `kflow run` processes at once into one PostgreSQL store: every task run
    of every process must have its record."""
    try:
        import pgserver  # type: ignore[import-untyped]
        import psycopg
    except ImportError:
        row("8 concurrent writers into PostgreSQL", "skipped: pgserver/psycopg not installed",
            "", "", "")  # fmt: skip
        return
    server = pgserver.get_server(str(tmp / "pgdata"), cleanup_mode="stop")
    try:
        base = server.get_uri()
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute("CREATE DATABASE kflow_bench")
        path, _, query = base.partition("?")  # postgresql://user:@/postgres?host=/socket/dir
        url = path.rsplit("/", 1)[0] + "/kflow_bench" + (f"?{query}" if query else "")
        flow = tmp / "pg-writer.yml"
        flow.write_text(PG_FLOW)
        env = dict(os.environ, KFLOW_HOME=str(tmp / "home-pg"), KFLOW_DB=url)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([*KFLOW, "outputs", "--limit", "1"], env=env, capture_output=True,
                       check=True)  # the schema, created once  # fmt: skip
        t = time.perf_counter()
        procs = [subprocess.Popen([*KFLOW, "run", str(flow)], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for _ in range(writers)]  # fmt: skip
        codes = [p.wait() for p in procs]
        took = time.perf_counter() - t
        with psycopg.connect(url) as conn:
            (found,) = conn.execute("SELECT count(*) FROM records").fetchone()  # type: ignore[misc]
        expected = writers * 101  # a ForEach run and its 100 iterations (range is inclusive)
        lost = expected - found
        row(f"{writers} concurrent `kflow run` into PostgreSQL (101 task runs each)",
            f"{found:,} records in {took:.1f} s, exits {sorted(set(codes))}",
            f"expected {expected:,}", f"lost {lost}", "ok" if lost == 0 and set(codes) == {0} else "OVER")  # fmt: skip
    finally:
        server.cleanup()


if __name__ == "__main__":
    import tempfile

    sys.path.insert(0, str(ROOT / "bench"))
    import run as bench_run  # type: ignore[import-not-found]

    work = Path(tempfile.mkdtemp(prefix="kflow-bench-records-"))
    bench_records(work, 9, "--big" in sys.argv, bench_run.row, bench_run.paired, bench_run._spawn)
    for r in bench_run.ROWS:
        print("  ".join(r))
