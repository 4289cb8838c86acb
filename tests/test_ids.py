"""Execution and task-run ids: base62 time-ordered (version 7) UUIDs, unique across threads
and processes."""

from __future__ import annotations

import multiprocessing
import time
import uuid

from kflow.ids import _ALPHABET, as_uuid, id_from, new_id


def _as_uuid(text: str) -> uuid.UUID:
    number = 0
    for char in text:
        number = number * 62 + _ALPHABET.index(char)
    return uuid.UUID(int=number)


def test_new_ids_are_time_ordered_uuids_in_base62() -> None:
    ids = [new_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    for text in ids[:500]:
        value = _as_uuid(text)
        assert value.version == 7 and value.variant == uuid.RFC_4122
        assert set(text) <= set(_ALPHABET) and len(text) <= 22
        assert abs((value.int >> 80) - time.time() * 1000) < 60_000  # Unix milliseconds
        assert as_uuid(text) == str(value)
    # later ids sort after earlier ones (same length: base62's alphabet is in ASCII order)
    before = new_id()
    time.sleep(0.002)
    assert new_id() > before


def test_ids_from_elsewhere_are_not_taken_for_uuids() -> None:
    assert as_uuid("TR1") is None and as_uuid("") is None and as_uuid("a-b") is None
    assert as_uuid("zzzzzzzzzzzzzzzzzzzzzzzz") is None  # more than 128 bits
    from kflow.ids import _base62

    v4 = uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e")  # Kestra's ids: version 4
    assert as_uuid(_base62(v4.int)) == str(v4)
    assert as_uuid(_base62(v4.int & ~(0xF << 76))) is None  # no version: not a UUID


def _ids(queue: multiprocessing.Queue[list[str]]) -> None:
    queue.put([new_id() for _ in range(100)])


def test_forked_processes_make_different_ids() -> None:
    """The generator is reseeded in a forked child: two `kflow run` started by one parent
    (or a ForEach's worker processes) never repeat each other's ids."""
    ctx = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[list[str]] = ctx.Queue()
    new_id()  # the parent's generator is in use before the fork
    procs = [ctx.Process(target=_ids, args=(queue,)) for _ in range(3)]
    for p in procs:
        p.start()
    got = [queue.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(30)
    every = [i for batch in got for i in batch]
    assert len(set(every)) == len(every) == 300


def test_id_from_is_stable() -> None:
    assert id_from("company.team") == id_from("company.team") != id_from("company.other")


def test_stored_names_lose_their_id_prefix_whatever_its_length() -> None:
    """FriendlyId is not padded: an id of 21 characters (one in eight) is a prefix too."""
    from pathlib import Path

    from kflow.preview import _file_name
    from kflow.tasks.scripts.files import stored_name

    for prefix in ("3SfsPq1vB7kLm2Xy9ZtR0a", "2H6L1OtoO2daETXseqivL"):  # 22 and 21
        assert _file_name(f"kestra:///ns/f/executions/e/tasks/t/r/{prefix}-out.csv") == "out.csv"
    lengths = set()
    for i in range(400):  # names as scripts store them: the prefix always comes off
        name = stored_name(Path(f"/work/dir{i}/out.csv"))
        lengths.add(len(name.split("-", 1)[0]))
        assert _file_name(f"kestra:///ns/f/executions/e/tasks/t/r/{name}") == "out.csv"
    assert {21, 22} <= lengths
    assert _file_name("kestra:///ns/f/executions/e/tasks/t/r/plain-name.csv") == "plain-name.csv"
