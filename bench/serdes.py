"""Serdes figures: CsvToIon and IonToCsv of 1,000,000 rows (6 columns, text and numbers)
as `kflow run` processes, against DuckDB's own `COPY (SELECT * FROM read_csv(...)) TO
'....json'` of the same rows in a `python -c` process. Target: kflow within 3x DuckDB.

Each figure is the best of `--repeat` runs (default 2) of a whole process (interpreter
start, flow load, the FILE input copied into storage, the conversion); peak RSS is the
process's own (`os.wait4`). `--big` adds a memory check: CsvToIon and IonToCsv of a ~1 GB
CSV must stay under 200 MB RSS.

Called by bench/run.py; `python bench/serdes.py` prints this table alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
RATIO = 3.0
BIG_RSS_MB = 200

FLOW = """id: {id}
namespace: bench.serdes
inputs:
  - {{id: file, type: FILE}}
tasks:
  - id: convert
    type: {type}
    from: "{{{{ inputs.file }}}}"
"""


def write_csv(path: Path, rows: int) -> None:
    """``rows`` rows of id, name, amount, city, qty, note (1% of notes quoted)."""
    cities = [f"City {i}" for i in range(100)]
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("id,name,amount,city,qty,note\n")
        block: list[str] = []
        for i in range(rows):
            note = '"note, with comma"' if i % 100 == 0 else f"note {i % 7}"
            block.append(f"{i},name {i},{i * 0.25:.2f},{cities[i % 100]},{i % 1000},{note}\n")
            if len(block) == 10_000:
                fh.write("".join(block))
                block.clear()
        fh.write("".join(block))


def spawn(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Run a process: (seconds, peak RSS in MB, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        print(
            f"command failed ({proc.returncode}): {' '.join(argv)}\n{err[-2000:]}", file=sys.stderr
        )
    return took, usage.ru_maxrss / 1024, proc.returncode


def kflow_run(
    work: Path, name: str, task_type: str, source: Path
) -> tuple[float, float, Path | None]:
    """One `kflow run` of a one-task flow on ``source``: (seconds, RSS MB, output file)."""
    home = work / f"home-{name}"
    shutil.rmtree(home, ignore_errors=True)
    flow = work / f"{name}.yml"
    flow.write_text(FLOW.format(id=name, type=task_type))
    env = dict(os.environ, KFLOW_HOME=str(home), PYTHONDONTWRITEBYTECODE="1")
    took, rss, code = spawn([PY, "-m", "kflow", "run", str(flow), "-i", f"file=@{source}"], env)
    if code != 0:
        return took, rss, None
    outputs = sorted(
        p for p in (home / "storage").rglob("*") if p.is_file() and "/tasks/convert/" in str(p)
    )
    return took, rss, outputs[-1] if outputs else None


def duckdb_copy(csv: Path, out: Path) -> tuple[float, float]:
    code = (
        "import duckdb; duckdb.sql(\"COPY (SELECT * FROM read_csv('"
        + str(csv)
        + "')) TO '"
        + str(out)
        + "'\")"
    )
    took, rss, _ = spawn([PY, "-c", code])
    return took, rss


def main(argv: list[str] | None = None) -> list[tuple[str, str, str, str, str]]:
    """Run the figures and print the table; returns its rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--big", action="store_true", help="also convert a ~1 GB CSV (memory)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="kflow-bench-serdes-"))
    rows: list[tuple[str, str, str, str, str]] = []
    try:
        csv = work / "rows.csv"
        write_csv(csv, args.rows)
        best = {"to_ion": (1e9, 0.0), "to_csv": (1e9, 0.0), "duck": (1e9, 0.0)}
        ion_file: Path | None = None
        for _ in range(args.repeat):
            took, rss, produced = kflow_run(
                work, "to_ion", "io.kestra.plugin.serdes.csv.CsvToIon", csv
            )
            best["to_ion"] = min(best["to_ion"], (took, rss))
            if produced is not None:
                ion_file = work / "rows.ion"
                shutil.copyfile(produced, ion_file)
            took, rss = duckdb_copy(csv, work / "duck.json")
            best["duck"] = min(best["duck"], (took, rss))
        if ion_file is not None:
            for _ in range(args.repeat):
                took, rss, produced = kflow_run(
                    work, "to_csv", "io.kestra.plugin.serdes.csv.IonToCsv", ion_file
                )
                best["to_csv"] = min(best["to_csv"], (took, rss))
                if produced is not None and produced.read_bytes() != csv.read_bytes():
                    print("IonToCsv did not give back the source CSV", file=sys.stderr)
        duck = best["duck"][0]
        for key, label in (("to_ion", "CsvToIon"), ("to_csv", "IonToCsv")):
            took, rss = best[key]
            rows.append(
                (
                    f"{label} {args.rows:,} rows",
                    f"{took:.2f}",
                    f"{duck:.2f}",
                    f"{took / duck:.2f}x" + (" ok" if took <= RATIO * duck else " OVER"),
                    f"{rss:.0f} MB",
                )
            )
        rows.append(
            (
                "DuckDB COPY read_csv -> json",
                f"{duck:.2f}",
                f"{duck:.2f}",
                "1.00x",
                f"{best['duck'][1]:.0f} MB",
            )
        )
        if args.big:
            big = work / "big.csv"
            write_csv(big, 24_000_000)  # ~1 GB
            size = big.stat().st_size / 1e9
            took, rss, produced = kflow_run(
                work, "big_ion", "io.kestra.plugin.serdes.csv.CsvToIon", big
            )
            verdict = "ok" if rss < BIG_RSS_MB else "OVER"
            rows.append((f"CsvToIon {size:.1f} GB", f"{took:.1f}", "-", verdict, f"{rss:.0f} MB"))
            if produced is not None:
                big.unlink()
                took, rss, _ = kflow_run(
                    work, "big_csv", "io.kestra.plugin.serdes.csv.IonToCsv", produced
                )
                verdict = "ok" if rss < BIG_RSS_MB else "OVER"
                rows.append(("IonToCsv of it", f"{took:.1f}", "-", verdict, f"{rss:.0f} MB"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    header = ("figure", "kflow s", "duckdb s", "ratio", "peak RSS")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    for r in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)))
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
