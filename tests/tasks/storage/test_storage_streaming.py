"""Reverse and Split stream: a file much larger than their memory use goes through them.

Memory is measured with tracemalloc from the start of each task run to its end (peak of
Python allocations). Reading the 50 MB file whole would allocate well over 50 MB (the
bytes, then the decoded text, then the lines); the bound is a few MB.
"""

from __future__ import annotations

import hashlib
import tracemalloc

import pytest

from kflow.storage.local import LocalStorage
from tests.conftest import by_task

SIZE = 50 * 1024 * 1024
BOUND = 8 * 1024 * 1024  # bytes of Python allocations allowed to one task run
HEAD = "id: big\nnamespace: company.team\ninputs:\n  - {id: file, type: FILE}\ntasks:\n"


def _line(i: int) -> bytes:
    # lines of 1 to ~1,200 bytes, some ending in \r\n, one longer than Reverse's block
    body = f"{i:07d};".encode() + b"abcdefghij" * (i % 120)
    if i == 777:
        body += b"L" * 200_000
    return body + (b"\r\n" if i % 7 == 0 else b"\n")


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> tuple[str, list[str]]:
    """A ~50 MB text file; its lines' digests in order (the expected content)."""
    path = tmp_path_factory.mktemp("big") / "big.csv"
    digests: list[str] = []
    with open(path, "wb") as fh:
        i = size = 0
        while size < SIZE:
            line = _line(i)
            fh.write(line)
            digests.append(hashlib.md5(line.rstrip(b"\r\n")).hexdigest())
            size += len(line)
            i += 1
        fh.write(b"last line without end")
        digests.append(hashlib.md5(b"last line without end").hexdigest())
    return str(path), digests


def _lines_of(home, uri: str, separator: bytes = b"\n") -> list[str]:
    with LocalStorage(home / "storage").open(uri) as fh:
        data = fh.read()
    assert data.endswith(separator)
    return [hashlib.md5(x).hexdigest() for x in data[: -len(separator)].split(separator)]


def _run_measured(run_yaml, text: str, big: str) -> tuple[object, dict[str, int]]:
    """Run the flow; the peak of Python allocations during each task run, by task id."""
    peaks: dict[str, int] = {}

    def on_event(event) -> None:
        if event.kind != "taskrun" or event.taskrun is None:
            return
        state = event.taskrun.state.current.value
        if state == "RUNNING":
            tracemalloc.reset_peak()
        elif state in ("SUCCESS", "FAILED", "WARNING"):
            peaks[event.taskrun.task_id] = tracemalloc.get_traced_memory()[1]

    tracemalloc.start()
    try:
        ex = run_yaml(HEAD + text, {"file": big}, on_event=on_event)
    finally:
        tracemalloc.stop()
    return ex, peaks


def test_reverse_streams_a_big_file(run_yaml, kflow_home, big_file):
    big, digests = big_file
    ex, peaks = _run_measured(
        run_yaml, '  - {id: rev, type: io.kestra.plugin.core.storage.Reverse, from: "{{ inputs.file }}"}\n', big
    )
    assert ex.state.current.value == "SUCCESS", [tr.error for tr in ex.task_runs]
    assert peaks["rev"] < BOUND, peaks
    uri = by_task(ex, "rev")[0].outputs["uri"]
    assert uri.endswith(".csv")
    assert _lines_of(kflow_home, uri) == digests[::-1]


def test_split_streams_a_big_file(run_yaml, kflow_home, big_file):
    big, digests = big_file
    ex, peaks = _run_measured(run_yaml, """
  - {id: rows, type: io.kestra.plugin.core.storage.Split, from: "{{ inputs.file }}", rows: 20000}
  - {id: bytes, type: io.kestra.plugin.core.storage.Split, from: "{{ inputs.file }}", bytes: 16MB}
  - {id: parts, type: io.kestra.plugin.core.storage.Split, from: "{{ inputs.file }}", partitions: 3}
""", big)
    assert ex.state.current.value == "SUCCESS", [tr.error for tr in ex.task_runs]
    assert max(peaks.values()) < BOUND, peaks

    def outputs(task_id):
        return by_task(ex, task_id)[0].outputs["uris"]

    rows = outputs("rows")
    assert len(rows) == -(-len(digests) // 20000)
    assert [d for uri in rows for d in _lines_of(kflow_home, uri)] == digests
    sizes = [LocalStorage(kflow_home / "storage").size(uri) for uri in outputs("bytes")]
    assert len(sizes) == 4 and all(s >= 16 * 1024 * 1024 for s in sizes[:-1])
    assert [d for uri in outputs("bytes") for d in _lines_of(kflow_home, uri)] == digests
    parts = [_lines_of(kflow_home, uri) for uri in outputs("parts")]
    assert [len(p) for p in parts] == [len(digests[k::3]) for k in range(3)]
    assert parts == [digests[k::3] for k in range(3)]
