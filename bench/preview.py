"""`kflow preview` of 1 GB files (issue: preview with no cap): the first page of a 1 GB CSV
and of a 1 GB Ion file in under 1 s and 100 MB, `--offset 5000000` in them without
reading them into memory, and `kflow download` of the 1 GB file in under 100 MB.

Every command runs as a user runs it: a process, stdout to a pipe; the first page is timed
beside its floor, a Typer no-op command and `kflow --version`, interleaved round by round.
Peak memory is each process's own high-water mark (VmHWM, read at exit): Linux starts a
child's ru_maxrss from the memory of the process it was forked from.

The files are generated once (a minute or two) into a cache directory and reused:

    .venv/bin/python bench/preview.py                     # cache in /tmp/kflow-bench-preview
    .venv/bin/python bench/preview.py --cache DIR --quick
    .venv/bin/python bench/preview.py --size-mb 100       # smaller files, for a quick look

bench/run.py may call :func:`bench_preview` with its own ``row``/``paired``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
KFLOW = [PY, "-m", "kflow"]
OFFSET = 5_000_000
URI = "kestra:///company/team/bench/executions/E/tasks/t/R/data.csv"
Row = Callable[[str, str, str, str, str], None]

# the same Typer no-op floor as bench/run.py (imported from there: one definition)
sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import MINI_TYPER_NOOP  # noqa: E402

# runs kflow and writes its peak RSS (VmHWM, kB) to argv[1] at exit
MEASURE = textwrap.dedent(
    """
    import atexit, runpy, sys
    out = sys.argv.pop(1)
    def peak():
        with open('/proc/self/status') as status, open(out, 'w') as fh:
            fh.write(next(l for l in status if l.startswith('VmHWM:')).split()[1])
    atexit.register(peak)
    sys.argv[0] = 'kflow'
    runpy.run_module('kflow', run_name='__main__', alter_sys=True)
    """
)


# ------------------------------------------------------------------------ the files


def _generate(path: Path, size: int, header: bytes, line: Callable[[int], str]) -> None:
    """Rows numbered from 1 until ``size`` bytes, written 100,000 rows at a time (a
    temporary name until complete, so an interrupted run is not taken for a cache)."""
    if path.exists() and path.stat().st_size >= size:
        return
    tmp = path.with_suffix(path.suffix + ".part")
    t = time.perf_counter()
    with tmp.open("wb") as fh:
        fh.write(header)
        i = 1
        while fh.tell() < size:
            fh.write("".join(line(n) for n in range(i, i + 100_000)).encode())
            i += 100_000
    tmp.replace(path)
    print(f"  generated {path} ({path.stat().st_size / 1e9:.2f} GB, {i - 1:,} rows) "
          f"in {time.perf_counter() - t:.0f} s", file=sys.stderr)  # fmt: skip


def files(cache: Path, size: int) -> tuple[Path, Path]:
    cache.mkdir(parents=True, exist_ok=True)
    csv = cache / f"data-{size // 1_000_000}mb.csv"
    ion = cache / f"data-{size // 1_000_000}mb.ion"
    _generate(csv, size, b"id,name,amount\n", lambda n: f"{n},name{n % 1000},{n * 0.5}\n")
    _generate(ion, size, b"",
              lambda n: f'{{id:{n},name:"abc{n % 1000}",amount:{n % 1000}.5e0}}\n')  # fmt: skip
    return csv, ion


def _home_with(cache: Path, csv: Path) -> Path:
    """A kflow home whose internal storage holds the CSV (a hard link) at :data:`URI`."""
    home = cache / "home"
    target = home / "storage" / URI.removeprefix("kestra:///")
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        try:
            os.link(csv, target)
        except OSError:
            target.symlink_to(csv)
    return home


# ------------------------------------------------------------------------ measuring


def _spawn(argv: list[str], env: dict[str, str]) -> tuple[float, int, bytes]:
    """Wall time of one process, stdout read from a pipe; its exit status and first bytes."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None
    head = b""
    with proc.stdout:
        while chunk := proc.stdout.read(1 << 16):
            head = head or chunk
    rc = proc.wait()
    return time.perf_counter() - t, rc, head


def _paired(cmds: dict[str, list[str]], n: int, env: dict[str, str]) -> dict[str, float]:
    """Median wall times, the commands interleaved in each round (one warm-up round)."""
    samples: dict[str, list[float]] = {k: [] for k in cmds}
    for argv in cmds.values():
        _, rc, _ = _spawn(argv, env)
        if rc != 0:
            raise SystemExit(f"benchmark command failed ({rc}): {' '.join(argv)}")
    for _ in range(n):
        for k, argv in cmds.items():
            samples[k].append(_spawn(argv, env)[0])
    return {k: statistics.median(v) for k, v in samples.items()}


def peak_mb(args: list[str], env: dict[str, str], tmp: Path) -> tuple[float, float, bytes]:
    """(peak RSS in MB, wall time in s, the first stdout bytes) of ``kflow ARGS``."""
    report = tmp / "vmhwm"
    t = time.perf_counter()
    proc = subprocess.run([PY, "-c", MEASURE, str(report), *args], capture_output=True,
                          env=env, check=False)  # fmt: skip
    took = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"kflow {' '.join(args)} failed: {proc.stderr.decode()}")
    return int(report.read_text()) / 1024, took, proc.stdout[:200]


# ------------------------------------------------------------------------ the figures


def bench_preview(cache: Path, n: int, row: Row, size: int = 1_000_000_000) -> None:
    """The rows, through ``row(figure, value, floor, target, verdict)``."""
    csv, ion = files(cache, size)
    home = _home_with(cache, csv)
    env = dict(os.environ, KFLOW_HOME=str(home))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode caches, as a normal install has
    label = f"{size / 1e9:.0f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"
    offset = max(1, OFFSET * size // 1_000_000_000)  # 5,000,000 in 1 GB, as much in less

    times = _paired({
        "typer": [PY, "-c", MINI_TYPER_NOOP, "hello", "x"],
        "version": [*KFLOW, "--version"],
        "csv": [*KFLOW, "preview", str(csv)],
        "ion": [*KFLOW, "preview", str(ion)],
    }, n, env)  # fmt: skip
    floor = f"typer no-op {times['typer'] * 1000:.0f} ms, kflow --version {times['version'] * 1000:.0f} ms"
    for kind in ("csv", "ion"):
        took = times[kind]
        row(f"`kflow preview` {label} {kind.upper()}, first page (100 rows)",
            f"{took * 1000:.0f} ms ({(took - times['typer']) * 1000:+.0f} ms above typer)",
            floor, "< 1 s", "ok" if took < 1 else "OVER")  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="kflow-bench-preview-", dir=cache) as tmpdir:
        tmp = Path(tmpdir)
        for kind, path, first in (("csv", csv, b"id,name,amount\n%d," % (offset + 1)),
                                  ("ion", ion, b'{"id":%d,' % (offset + 1))):  # fmt: skip
            rss, _, head = peak_mb(["preview", str(path)], env, tmp)
            row(f"`kflow preview` {label} {kind.upper()}, first page: peak RSS", f"{rss:.0f} MB",
                "", "< 100 MB", "ok" if rss < 100 else "OVER")  # fmt: skip
            rss, took, head = peak_mb(["preview", str(path), "--offset", str(offset)], env, tmp)
            right = head.startswith(first)
            row(f"`kflow preview` {label} {kind.upper()} --offset {offset:,}",
                f"{took * 1000:.0f} ms, peak RSS {rss:.0f} MB"
                + ("" if right else f" WRONG ROWS: {head[:40]!r}"),
                "", "< 100 MB, the right rows", "ok" if rss < 100 and right else "OVER")  # fmt: skip
        out = tmp / "out.csv"
        rss, took, _ = peak_mb(["download", URI, "-o", str(out)], env, tmp)
        same = out.stat().st_size == csv.stat().st_size
        out.unlink()
        row(f"`kflow download` {label} CSV -o out: peak RSS",
            f"{rss:.0f} MB in {took:.1f} s" + ("" if same else " SIZE DIFFERS"), "",
            "< 100 MB", "ok" if rss < 100 and same else "OVER")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/kflow-bench-preview"),
                        help="where the generated files are kept (reused when present)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 7")
    parser.add_argument("--size-mb", type=int, default=1000, help="size of each file (1000)")
    args = parser.parse_args(argv)
    rows: list[tuple[str, str, str, str, str]] = []

    def row(figure: str, value: str, floor: str, target: str, verdict: str) -> None:
        rows.append((figure, value, floor, target, verdict))
        print(f"  {figure}: {value}", file=sys.stderr)

    bench_preview(args.cache, 3 if args.quick else 7, row, args.size_mb * 1_000_000)
    header = ("figure", "value", "floor", "target", "ok/over")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    for r in [header, *rows]:
        print("  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())


if __name__ == "__main__":
    main()
