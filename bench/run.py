#!/usr/bin/env python3
"""kflow benchmarks: every figure measured in this run, beside its floor and target.

    .venv/bin/python bench/run.py            # all
    .venv/bin/python bench/run.py --quick    # fewer repetitions
    .venv/bin/python bench/run.py --big      # also ForEach over 1,000,000 values (minutes)
    .venv/bin/python bench/run.py --files    # also conversions and 1 GB previews (minutes)

The headline rows run `kflow` the way a user does: as a process, stdout to a pipe (a CI log),
each paired in the same run with its floor (the commands interleaved round by round, so
machine load hits both). Targets, as ratios: a one-task `kflow run` <= 1.3x and `kflow eval
'{{ 1 + 1 }}'` <= 1.2x a minimal two-command Typer app running a no-op command (a command
that runs, since Typer then imports pydantic; `--help` does not); a chain of 1,000 Return
tasks, each appending to the previous output, <= 0.3 ms per task above a one-task run;
ForEach over 10,000 values <= 0.3 ms per iteration above a one-task run; a shell task <= 3
ms above a bare `subprocess.run(["sh", "-c", "true"])`; the store keeps each output once;
ForEach over 1,000,000 values under 500 MB peak RSS (`--big`). Task-output records
(bench/records.py): with 100,000 records (1,000,000 with `--big`), a filtered page in-process
< 50 ms and `kflow outputs --task X --limit 50` <= 1.2x a `kflow eval`, `--jsonl` of all
< 100 MB, the page from `kflow serve` < 100 ms, 8 writers into PostgreSQL losing nothing.
Files (`--files`, bench/serdes.py and bench/preview.py): CsvToIon and IonToCsv of 1,000,000
rows within 3x DuckDB's own `COPY (SELECT * FROM read_csv(...)) TO '...json'`; the first page
of a 1 GB CSV and a 1 GB Ion file in < 1 s and < 100 MB, `--offset 5000000` in them < 100 MB,
`kflow download` of 1 GB < 100 MB. The in-process rows after them measure the engine alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ROWS: list[tuple[str, str, str, str, str]] = []


def row(figure: str, value: str, floor: str, ratio: str, verdict: str) -> None:
    ROWS.append((figure, value, floor, ratio, verdict))
    print(f"  {figure}: {value}", file=sys.stderr)


def timed_cmd(argv: list[str], n: int, env: dict[str, str] | None = None) -> float:
    """Median wall time of a command, in seconds (one warm-up run first, which also writes
    the bytecode caches a normal install has)."""
    full_env = dict(os.environ, **(env or {}))
    full_env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(argv, capture_output=True, env=full_env, check=False)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(argv, capture_output=True, env=full_env, check=False)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


MINI_TYPER = textwrap.dedent(
    """
    import typer
    app = typer.Typer()
    @app.command()
    def hello(name: str) -> None:
        print(name)
    @app.command()
    def bye(name: str) -> None:
        print(name)
    app()
    """
)


# --- Through the CLI: `kflow` as a process, stdout to a pipe, paired with its floor -------------

KFLOW = [PY, "-m", "kflow"]


def _spawn(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall time (s), peak RSS (MB) and exit status of one process, stdout to a pipe.

    ``os.wait4`` gives this child's own rusage, so its ``ru_maxrss`` is its peak RSS and not
    the maximum over every child the benchmark ever ran."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None
    while proc.stdout.read(1 << 16):  # a reader on the pipe, as a terminal or CI log is
        pass
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    took = time.perf_counter() - t
    return took, usage.ru_maxrss / 1024, proc.returncode


def paired(cmds: dict[str, list[str]], n: int, env: dict[str, str]) -> dict[str, float]:
    """Median wall time (s) of each command, the commands interleaved in every round so that
    a load change on the machine hits the figure and its floor alike. One warm-up round
    first (it also writes the bytecode caches a normal install has)."""
    full_env = dict(os.environ, **env)
    full_env.pop("PYTHONDONTWRITEBYTECODE", None)
    samples: dict[str, list[float]] = {k: [] for k in cmds}
    for argv in cmds.values():
        _, _, rc = _spawn(argv, full_env)
        if rc != 0:
            raise SystemExit(f"benchmark command failed ({rc}): {' '.join(argv)}")
    for _ in range(n):
        for k, argv in cmds.items():
            samples[k].append(_spawn(argv, full_env)[0])
    return {k: statistics.median(v) for k, v in samples.items()}


MINI_TYPER_NOOP = textwrap.dedent(
    """
    import typer
    app = typer.Typer()
    @app.command()
    def hello(name: str) -> None:
        pass
    @app.command()
    def bye(name: str) -> None:
        pass
    app()
    """
)


def _verdict(ok: bool) -> str:
    return "ok" if ok else "OVER"


def _chain_flow(path: Path, n: int) -> Path:
    """n Return tasks, each appending "+1" to the previous output (a growing string)."""
    lines = ["id: chain", "namespace: bench", "tasks:",
             "  - id: t0", "    type: io.kestra.plugin.core.debug.Return", "    format: '0'"]  # fmt: skip
    for i in range(1, n):
        lines += [f"  - id: t{i}", "    type: io.kestra.plugin.core.debug.Return",
                  f"    format: \"{{{{ outputs.t{i - 1}.value }}}}+1\""]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _foreach_flow(path: Path, n: int) -> Path:
    path.write_text(textwrap.dedent(
        f"""
        id: foreach
        namespace: bench
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: "{{{{ range(1, {n}) }}}}"
            tasks:
              - id: r
                type: io.kestra.plugin.core.debug.Return
                format: "{{{{ taskrun.value }}}}"
        """), encoding="utf-8")  # fmt: skip
    return path


def _shell_flow(path: Path, n: int) -> Path:
    lines = ["id: shell", "namespace: bench", "tasks:"]
    for i in range(n):
        lines += [f"  - id: s{i}", "    type: io.kestra.plugin.scripts.shell.Commands",
                  "    taskRunner:", "      type: io.kestra.plugin.core.runner.Process",
                  "    commands: ['true']"]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _bare_subprocess_ms(n: int) -> float:
    subprocess.run(["sh", "-c", "true"], check=True)
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(["sh", "-c", "true"], check=True)
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1000


def _store_figures(home: Path) -> tuple[int, int, int]:
    """(bytes of the store file, bytes of task outputs it holds in all, the same counted
    once): outputs sit in the task-output records, and must not also sit in the taskruns
    documents."""
    import sqlite3

    db = next(home.rglob("*.db"))
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        once = held = 0
        for (text,) in conn.execute("SELECT output FROM records WHERE output IS NOT NULL"):
            once += len(text)
            held += len(text)
        for (doc,) in conn.execute("SELECT doc FROM taskruns"):
            outputs = json.loads(doc).get("outputs")
            held += len(json.dumps(outputs)) if outputs else 0
    finally:
        conn.close()
    return db.stat().st_size, held, once


def bench_cli(tmp: Path, n: int, big: bool) -> None:
    """The headline figures: what a user running `kflow` in a terminal or a CI log feels."""
    mini = tmp / "mini.py"
    mini.write_text(MINI_TYPER_NOOP)
    one = tmp / "one.yml"
    one.write_text("id: one\nnamespace: bench\ntasks:\n  - id: t\n"
                   "    type: io.kestra.plugin.core.debug.Return\n    format: hi\n")  # fmt: skip
    home = tmp / "home-cli"
    env = {"KFLOW_HOME": str(home)}

    # A home whose cache/ is a plain file: the parse cache can never be written there, so
    # every run of that command parses the flow with PyYAML (a flow seen for the first time).
    uncached = tmp / "home-uncached"
    uncached.mkdir()
    (uncached / "cache").write_text("")
    first = [PY, "-c", "import os, runpy, sys; os.environ['KFLOW_HOME'] = sys.argv.pop(1); "
             "sys.argv[0] = 'kflow'; runpy.run_module('kflow', run_name='__main__')",
             str(uncached), "run", str(one)]  # fmt: skip
    t = paired({"typer": [PY, str(mini), "hello", "x"], "help": [*KFLOW, "--help"],
                "run": [*KFLOW, "run", str(one)], "first": first,
                "eval": [*KFLOW, "eval", "{{ 1 + 1 }}"], "pass": [PY, "-c", "pass"]}, n, env)  # fmt: skip
    floor = f"typer no-op command {t['typer'] * 1000:.0f} ms"
    for key, label, target in (("help", "kflow --help", 1.15), ("run", "kflow run (1 task)", 1.3),
                               ("first", "kflow run (1 task), flow not in the parse cache", None),
                               ("eval", "kflow eval '{{ 1 + 1 }}'", 1.2)):  # fmt: skip
        r = t[key] / t["typer"]
        if target is None:  # shown for honesty: the first run of a flow file parses it
            row(label, f"{t[key] * 1000:.0f} ms", floor, f"{r:.2f}x", "")
            continue
        row(label, f"{t[key] * 1000:.0f} ms", floor, f"{r:.2f}x (target <= {target}x)",
            _verdict(r <= target))

    chain = _chain_flow(tmp / "chain.yml", 1000)
    fe = _foreach_flow(tmp / "foreach.yml", 10_001)
    t2 = paired({"one": [*KFLOW, "run", str(one)], "chain": [*KFLOW, "run", str(chain)],
                 "foreach": [*KFLOW, "run", str(fe)]}, max(3, n // 3), env)  # fmt: skip
    per = (t2["chain"] - t2["one"]) / 999 * 1000
    row("kflow run, 1,000 chained Return (growing string)", f"{t2['chain']:.2f} s",
        f"one-task run {t2['one'] * 1000:.0f} ms", f"+{per:.3f} ms/task (target <= 0.3)",
        _verdict(per <= 0.3))
    per = (t2["foreach"] - t2["one"]) / 10_000 * 1000
    _, rss, _ = _spawn([*KFLOW, "run", str(fe)], dict(os.environ, **env))
    row("kflow run, ForEach over 10,000 values", f"{t2['foreach']:.2f} s, peak {rss:.0f} MB",
        f"one-task run {t2['one'] * 1000:.0f} ms", f"+{per:.3f} ms/iteration (target <= 0.3)",
        _verdict(per <= 0.3))

    store_home = tmp / "home-store"
    _spawn([*KFLOW, "run", str(chain)], dict(os.environ, KFLOW_HOME=str(store_home)))
    size, held, once = _store_figures(store_home)
    r = held / once
    row("store after the 1,000-task chain", f"{size / 1e6:.2f} MB file, {held / 1e6:.2f} MB outputs",
        f"the outputs once {once / 1e6:.2f} MB", f"{r:.2f}x (target 1.0x: outputs once)",
        _verdict(r <= 1.01))  # fmt: skip

    shells = _shell_flow(tmp / "shell.yml", 50)
    t3 = paired({"one": [*KFLOW, "run", str(one)], "shell": [*KFLOW, "run", str(shells)]},
                max(3, n // 3), env)
    bare = _bare_subprocess_ms(100)
    task_ms = (t3["shell"] - t3["one"]) / 50 * 1000  # the one-task run removed
    over = task_ms - bare
    row("kflow run, 50 shell tasks `true`", f"{task_ms:.2f} ms/task",
        f"subprocess.run(['sh','-c','true']) {bare:.2f} ms", f"+{over:.2f} ms (target <= 3)",
        _verdict(over <= 3))

    if big:
        big_flow = _foreach_flow(tmp / "foreach-1m.yml", 1_000_001)
        took, rss, rc = _spawn([*KFLOW, "run", str(big_flow)],
                               dict(os.environ, KFLOW_HOME=str(tmp / "home-big")))  # fmt: skip
        row("kflow run, ForEach over 1,000,000 values", f"{took:.0f} s, peak {rss:.0f} MB, exit {rc}",
            "", "target < 500 MB", _verdict(rss < 500 and rc == 0))  # fmt: skip


# --- In-process figures (extra rows: the engine alone, no start-up) ---------------------------


def in_process(code: str, home: Path) -> dict[str, float]:
    """Run a snippet in a fresh interpreter (own KFLOW_HOME); it prints one JSON object."""
    proc = subprocess.run([PY, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, KFLOW_HOME=str(home)), cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark snippet failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_chain(tmp: Path) -> None:
    lines = ["id: chain", "namespace: bench", "tasks:",
             "  - id: t0", "    type: io.kestra.plugin.core.debug.Return", "    format: '0'"]
    for i in range(1, 1000):
        lines += [f"  - id: t{i}", "    type: io.kestra.plugin.core.debug.Return",
                  f"    format: \"{{{{ outputs.t{i - 1}.value }}}}\""]
    flow = tmp / "chain.yml"
    flow.write_text("\n".join(lines) + "\n")
    code = textwrap.dedent(
        f"""
        import json, time
        from kflow.api import load_flow, open_home, run_flow
        # loading counts: validation parses (and caches) every template of the flow
        t = time.perf_counter()
        flow = load_flow({str(flow)!r})
        with open_home() as home:
            ex = run_flow(flow, home=home)
            home.store.flush()
            total = time.perf_counter() - t
        assert ex.state.current.value == "SUCCESS", ex.state.current
        print(json.dumps({{"total": total, "n": len(ex.task_runs)}}))
        """
    )
    res = in_process(code, tmp / "home-chain")
    per = res["total"] / res["n"] * 1000
    row("in-process: 1,000 chained Return tasks (load + run)", f"{res['total']:.3f} s total, {per:.3f} ms/task",
        "Prefect 3: 6-12 ms/task", f"{8 / per:.0f}x ahead", "ok" if per < 1 else "OVER (target < 1 ms)")


def bench_render(n: int) -> None:
    code = textwrap.dedent(
        f"""
        import json, time, jinja2
        from kflow import expr
        ctx = {{"outputs": {{"a": {{"value": "hello"}}}}, "taskrun": {{"value": "x"}}}}
        tpl = "{{{{ outputs.a.value }}}} and {{{{ taskrun.value }}}}"
        expr.render(tpl, ctx)
        t = time.perf_counter()
        for _ in range({n}):
            expr.render(tpl, ctx)
        ours = time.perf_counter() - t
        env = jinja2.Environment()
        jt = env.from_string(tpl)
        t = time.perf_counter()
        for _ in range({n}):
            jt.render(ctx)
        plain = time.perf_counter() - t
        print(json.dumps({{"ours": ours, "plain": plain}}))
        """
    )
    res = in_process(code, Path(tempfile.mkdtemp()))
    speed = res["plain"] / res["ours"]
    row(f"in-process: {n:,} cached renders", f"{res['ours']:.3f} s ({res['ours'] / n * 1e6:.1f} us each)",
        f"plain Jinja2 {res['plain']:.3f} s", f"{speed:.2f}x Jinja2 speed",
        "ok" if speed >= 0.5 else "UNDER (target >= 0.5x)")


def bench_foreach(tmp: Path) -> None:
    flow = tmp / "foreach.yml"
    flow.write_text(textwrap.dedent(
        """
        id: foreach
        namespace: bench
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: "{{ range(1, 10000) }}"
            tasks:
              - id: r
                type: io.kestra.plugin.core.debug.Return
                format: "{{ taskrun.value }}"
        """))
    code = textwrap.dedent(
        f"""
        import json, resource, time
        from kflow.api import load_flow, open_home, run_flow
        t = time.perf_counter()
        flow = load_flow({str(flow)!r})
        with open_home() as home:
            ex = run_flow(flow, home=home)
            home.store.flush()
        total = time.perf_counter() - t
        assert ex.state.current.value == "SUCCESS"
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({{"total": total, "rss": rss, "n": len(ex.task_runs)}}))
        """
    )
    res = in_process(code, tmp / "home-foreach")
    ok = res["total"] < 3 and res["rss"] < 300
    row("in-process: ForEach over 10,000 values",
        f"{res['total']:.2f} s, peak {res['rss']:.0f} MB, {int(res['n'])} task runs",
        "target < 3 s and < 300 MB", f"{res['total'] / 3:.2f} of time budget",
        "ok" if ok else "OVER")


def bench_parallel(tmp: Path) -> None:
    children = "\n".join(
        f"      - {{id: s{i}, type: io.kestra.plugin.core.flow.Sleep, duration: PT0.1S}}"
        for i in range(50))
    flow = tmp / "parallel.yml"
    flow.write_text("id: par\nnamespace: bench\ntasks:\n  - id: p\n"
                    "    type: io.kestra.plugin.core.flow.Parallel\n    tasks:\n" + children + "\n")
    code = textwrap.dedent(
        f"""
        import json, time
        from kflow.api import load_flow, open_home, run_flow
        flow = load_flow({str(flow)!r})
        with open_home() as home:
            t = time.perf_counter()
            ex = run_flow(flow, home=home)
            total = time.perf_counter() - t
        assert ex.state.current.value == "SUCCESS"
        print(json.dumps({{"total": total}}))
        """
    )
    res = in_process(code, tmp / "home-par")
    row("Parallel of 50 Sleep PT0.1S", f"{res['total']:.3f} s", "5 s one after another",
        f"{5 / res['total']:.0f}x", "ok" if res["total"] < 1 else "OVER (target well under 1 s)")


def bench_scripts(tmp: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT))
    try:
        from scripts_bench import bench_shell_overhead  # type: ignore[import-not-found]
    except ImportError as exc:
        row("100 shell tasks running `true`", f"not measured ({exc})", "", "", "MISSING")
        return
    from scripts_bench import bench_python_venv_reuse  # type: ignore[import-not-found]

    os.environ["KFLOW_HOME"] = str(tmp / "home-scripts")
    venv = bench_python_venv_reuse(5)
    row("Python task, cached venv (2nd+ run)", f"{venv['reused_run_s'] * 1000:.1f} ms",
        f"first run (venv build) {venv['first_run_s']:.2f} s; bare venv python "
        f"{venv['direct_python_s'] * 1000:.1f} ms", f"+{venv['reuse_overhead_s'] * 1000:.1f} ms",
        "ok" if venv["reused_run_s"] < 2 else "OVER (target < 2 s)")
    res = bench_shell_overhead(100)
    over = res.get("overhead_ms", float("nan"))
    row("100 shell tasks running `true`", f"{res.get('task_ms', float('nan')):.2f} ms/task",
        f"subprocess.run {res.get('subprocess_ms', float('nan')):.2f} ms",
        f"+{over:.2f} ms", "ok" if over < 10 else "OVER (target < +10 ms)")


def _log_flow(path: Path, tasks: int) -> Path:
    lines = ["id: big", "namespace: bench", "tasks:"]
    for i in range(tasks):
        lines += [f"  - id: t{i}", "    type: io.kestra.plugin.core.log.Log",
                  "    message: \"{{ flow.id }} " + str(i) + "\""]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def bench_validate(tmp: Path) -> None:
    """`kflow validate` as a process on 5,000 and 50,000 Log tasks: linear means ~10x."""
    small = timed_cmd([PY, "-m", "kflow", "validate", str(_log_flow(tmp / "v5k.yml", 5_000))], 3)
    large = timed_cmd([PY, "-m", "kflow", "validate", str(_log_flow(tmp / "v50k.yml", 50_000))], 1)
    ratio = large / small
    row("kflow validate, 5,000 vs 50,000 tasks", f"{small:.2f} s / {large:.2f} s",
        "linear: 10x the tasks, ~10x the time", f"{ratio:.1f}x",
        "ok" if ratio <= 13 else "OVER (target <= 13x: linear)")  # fmt: skip


def bench_interrupt(tmp: Path) -> None:
    """SIGTERM to `kflow run` while a Parallel of 3 scripts sleeps: time to exit (target < 2 s)."""
    import signal

    flow = tmp / "interrupt.yml"
    flow.write_text(textwrap.dedent(
        """
        id: interrupt
        namespace: bench
        tasks:
          - id: par
            type: io.kestra.plugin.core.flow.Parallel
            tasks:
        """
    ) + "".join(
        f"      - id: s{i}\n        type: io.kestra.plugin.scripts.shell.Commands\n"
        "        taskRunner:\n          type: io.kestra.plugin.core.runner.Process\n"
        "        commands: ['sleep 30']\n" for i in range(3)
    ), encoding="utf-8")
    env = dict(os.environ, KFLOW_HOME=str(tmp / "home-interrupt"))
    proc = subprocess.Popen([PY, "-m", "kflow", "run", str(flow)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    assert proc.stdout is not None
    running = 0
    for line in proc.stdout:  # plain progress lines in a pipe: wait for the 3 scripts
        running += " RUNNING" in line and " s" in line
        if running >= 3:
            break
    t = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    took = time.perf_counter() - t
    row("SIGTERM during a Parallel of 3 scripts", f"{took * 1000:.0f} ms to exit {proc.returncode}",
        "target < 2 s, exit 143", "", "ok" if took < 2 and proc.returncode == 143 else "OVER")  # fmt: skip


def bench_files(n: int) -> None:
    """Files between tasks (issue 14): CsvToIon/IonToCsv of 1,000,000 rows within 3x
    DuckDB's own COPY of them; the first page and an --offset of 1 GB CSV and Ion files,
    and a download of 1 GB, each under 100 MB."""
    import serdes  # bench/serdes.py
    from preview import bench_preview  # bench/preview.py

    for figure, kflow_s, duck_s, ratio, rss in serdes.main(["--repeat", "2"]):
        if figure.startswith("DuckDB"):
            continue  # the floor itself, already in each row
        verdict = "OVER" if "OVER" in ratio else "ok"
        row(f"`kflow run` {figure}", f"{kflow_s} s, {rss} peak", f"DuckDB COPY {duck_s} s",
            ratio.replace(" ok", "").replace(" OVER", "") + " (≤ 3x)", verdict)  # fmt: skip
    bench_preview(Path(tempfile.gettempdir()) / "kflow-bench-preview", n, row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-scripts", action="store_true")
    parser.add_argument("--big", action="store_true", help="ForEach over 1,000,000 values")
    parser.add_argument("--files", action="store_true",
                        help="serdes conversions of 1,000,000 rows vs DuckDB, and preview/"
                        "download of 1 GB files (bench/serdes.py, bench/preview.py; minutes)")
    args = parser.parse_args()
    n = 5 if args.quick else 15
    tmp = Path(tempfile.mkdtemp(prefix="kflow-bench-"))
    print(f"kflow benchmarks on {os.cpu_count()} cores, Python {sys.version.split()[0]}",
          file=sys.stderr)
    bench_cli(tmp, n, args.big)
    from records import bench_records  # bench/records.py: task-output records (issue 13)

    bench_records(tmp, n, args.big, row, paired, _spawn)
    bench_chain(tmp)
    bench_render(100_000)
    bench_foreach(tmp)
    bench_parallel(tmp)
    if not args.skip_scripts:
        bench_scripts(tmp)
        bench_interrupt(tmp)
    bench_validate(tmp)
    if args.files:
        bench_files(n)
    widths = [max(len(r[i]) for r in [("figure", "measured", "floor / reference", "ratio", "verdict"), *ROWS]) for i in range(5)]
    header = ("figure", "measured", "floor / reference", "ratio", "verdict")
    for r in [header, tuple("-" * w for w in widths), *ROWS]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
