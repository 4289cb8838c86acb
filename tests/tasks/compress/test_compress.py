"""The compress plugin (io.kestra.plugin.compress.*) run through real flows."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
import tarfile
import zipfile
import zlib

import pytest

from kflow.errors import FlowValidationError
from kflow.storage.local import LocalStorage
from tests.conftest import by_task, states

HEAD = "id: cz\nnamespace: company.team\n"
FILE_INPUT = "inputs:\n  - id: archive\n    type: FILE\n"
WRITES = """
  - {id: w1, type: io.kestra.plugin.core.storage.Write, content: "one\\n", extension: .txt}
  - {id: w2, type: io.kestra.plugin.core.storage.Write, content: "deux ü\\n"}
  - {id: w3, type: io.kestra.plugin.core.storage.Write, content: ""}
"""
FROM = """
    from:
      folder/subfolder/1.txt: "{{ outputs.w1.uri }}"
      folder/2 two.txt: "{{ outputs.w2.uri }}"
      3.txt: "{{ outputs.w3.uri }}"
"""
EXPECTED = {"folder/subfolder/1.txt": b"one\n", "folder/2 two.txt": "deux ü\n".encode(), "3.txt": b""}


def read(home, uri: str) -> bytes:
    with LocalStorage(home / "storage").open(uri) as fh:
        return fh.read()


def out(ex, task_id: str) -> dict:
    return by_task(ex, task_id)[-1].outputs


def error(ex, task_id: str) -> str:
    return by_task(ex, task_id)[-1].error or ""


def prefix(ex, task_id: str) -> str:
    tr = by_task(ex, task_id)[-1]
    return f"kestra:///company/team/cz/executions/{ex.id}/tasks/{task_id}/{tr.id}/"


@pytest.mark.parametrize(
    ("algorithm", "compression"),
    [("ZIP", None), ("JAR", None), ("TAR", None), ("TAR", "GZIP"), ("TAR", "BZIP2"),
     ("TAR", "XZ"), ("TAR", "LZMA"), ("TAR", "DEFLATE"), ("ZIP", "GZIP"), ("zip", "xz")],
)  # fmt: skip
def test_archive_round_trip(run_yaml, kflow_home, algorithm, compression):
    comp = f"\n    compression: {compression}" if compression else ""
    ex = run_yaml(HEAD + "tasks:" + WRITES + f"""
  - id: pack
    type: io.kestra.plugin.compress.ArchiveCompress
    algorithm: {algorithm}{comp}""" + FROM + f"""
  - id: unpack
    type: io.kestra.plugin.compress.ArchiveDecompress
    from: "{{{{ outputs.pack.uri }}}}"
    algorithm: {algorithm}{comp}
""")
    assert ex.state.current.value == "SUCCESS", [tr.error for tr in ex.task_runs]
    archive = out(ex, "pack")["uri"]
    assert re.fullmatch(re.escape(prefix(ex, "pack")) + r"\d+\.tmp", archive)
    files = out(ex, "unpack")["files"]
    assert {name: read(kflow_home, uri) for name, uri in files.items()} == EXPECTED
    # stored under the entry's base name, spaces as underscores (as Kestra stores them)
    assert files["folder/2 two.txt"] == prefix(ex, "unpack") + "2_two.txt"
    assert files["3.txt"] == prefix(ex, "unpack") + "3.txt"
    metrics = {m["name"]: m["value"] for m in by_task(ex, "unpack")[0].metrics}
    assert metrics == {"size": sum(len(v) for v in EXPECTED.values()), "count": 3}


def test_archive_formats_are_real(run_yaml, kflow_home):
    """The archives are what their names say: the standard tools read them."""
    ex = run_yaml(HEAD + "tasks:" + WRITES + """
  - id: tgz
    type: io.kestra.plugin.compress.ArchiveCompress
    algorithm: TAR
    compression: GZIP""" + FROM + """
  - id: zip
    type: io.kestra.plugin.compress.ArchiveCompress
    algorithm: ZIP
    from: '{"a/b.txt": "{{ outputs.w1.uri }}"}'
  - id: zip_expr
    type: io.kestra.plugin.compress.ArchiveCompress
    algorithm: ZIP
    from: "{{ {'c.txt': outputs.w2.uri} }}"
""")
    assert ex.state.current.value == "SUCCESS", [tr.error for tr in ex.task_runs]
    with tarfile.open(fileobj=io.BytesIO(read(kflow_home, out(ex, "tgz")["uri"])), mode="r:gz") as tar:
        got = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    assert got == EXPECTED
    with zipfile.ZipFile(io.BytesIO(read(kflow_home, out(ex, "zip")["uri"]))) as zf:
        assert zf.namelist() == ["a/b.txt"] and zf.read("a/b.txt") == b"one\n"
        assert zf.getinfo("a/b.txt").compress_type == zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(io.BytesIO(read(kflow_home, out(ex, "zip_expr")["uri"]))) as zf:
        assert zf.read("c.txt") == "deux ü\n".encode()


@pytest.mark.parametrize(
    ("compression", "decode"),
    [("GZIP", gzip.decompress), ("BZIP2", bz2.decompress), ("XZ", lzma.decompress),
     ("LZMA", lzma.decompress), ("DEFLATE", zlib.decompress)],
)  # fmt: skip
def test_file_round_trip(run_yaml, kflow_home, compression, decode):
    content = "ligne {{ flow.id }} é\\n" * 50
    ex = run_yaml(HEAD + f"""tasks:
  - {{id: w, type: io.kestra.plugin.core.storage.Write, content: "{content}", extension: .csv}}
  - {{id: c, type: io.kestra.plugin.compress.FileCompress, from: "{{{{ outputs.w.uri }}}}", compression: {compression}}}
  - {{id: d, type: io.kestra.plugin.compress.FileDecompress, from: "{{{{ outputs.c.uri }}}}", compression: {compression}}}
""")
    assert ex.state.current.value == "SUCCESS", [tr.error for tr in ex.task_runs]
    original = read(kflow_home, out(ex, "w")["uri"])
    assert original == ("ligne cz é\n" * 50).encode()
    packed = out(ex, "c")["uri"]
    assert re.fullmatch(re.escape(prefix(ex, "c")) + r"\d+\.tmp", packed)
    assert decode(read(kflow_home, packed)) == original
    assert len(read(kflow_home, packed)) < len(original)
    assert read(kflow_home, out(ex, "d")["uri"]) == original


def test_file_decompress_reads_files_made_elsewhere(run_yaml, kflow_home, tmp_path):
    data = b"made by another tool\n" * 100
    src = tmp_path / "data.gz"
    src.write_bytes(gzip.compress(data))
    ex = run_yaml(HEAD + FILE_INPUT + """tasks:
  - {id: d, type: io.kestra.plugin.compress.FileDecompress, from: "{{ inputs.archive }}", compression: GZIP}
""", {"archive": str(src)})
    assert ex.state.current.value == "SUCCESS"
    assert read(kflow_home, out(ex, "d")["uri"]) == data


def test_wrong_compression_fails_with_a_clear_message(run_yaml, tmp_path):
    src = tmp_path / "data.bz2"
    src.write_bytes(bz2.compress(b"x" * 100))
    ex = run_yaml(HEAD + FILE_INPUT + """tasks:
  - {id: d, type: io.kestra.plugin.compress.FileDecompress, from: "{{ inputs.archive }}", compression: GZIP, allowFailure: true}
  - {id: a, type: io.kestra.plugin.compress.ArchiveDecompress, from: "{{ inputs.archive }}", algorithm: ZIP}
""", {"archive": str(src)})
    assert states(ex) == {"d": "WARNING", "a": "FAILED"}  # d allows failure
    assert "as GZIP" in error(ex, "d") and "cannot read kestra:///" in error(ex, "d")
    assert "as ZIP" in error(ex, "a")


@pytest.mark.parametrize(
    ("task", "prop", "value", "message"),
    [("FileCompress", "compression", "ZSTD", "compression 'ZSTD' is not supported by kflow"),
     ("FileDecompress", "compression", "BROTLI", "compression 'BROTLI' is not supported by kflow"),
     ("ArchiveCompress", "algorithm", "CPIO", "algorithm 'CPIO' is not supported by kflow"),
     ("ArchiveDecompress", "algorithm", "AR", "algorithm 'AR' is not supported by kflow")],
)  # fmt: skip
def test_unsupported_literals_are_refused_at_load(run_yaml, task, prop, value, message):
    lines = [f"{prop}: {value}"]
    if task.startswith("Archive") and prop == "compression":
        lines.append("algorithm: ZIP")
    from_value = "{a.txt: kestra:///x}" if task == "ArchiveCompress" else "kestra:///x"
    body = "\n    ".join([f"from: {from_value}", *lines])
    with pytest.raises(FlowValidationError) as info:
        run_yaml(HEAD + f"tasks:\n  - id: t\n    type: io.kestra.plugin.compress.{task}\n    {body}\n")
    found = "\n".join([str(info.value), *(p.message for p in info.value.problems)])
    assert message in found, found


def test_unsupported_values_from_expressions_fail_at_run(run_yaml):
    ex = run_yaml(HEAD + """inputs:
  - {id: algo, type: STRING, defaults: CPIO}
  - {id: comp, type: STRING, defaults: snappy}
  - {id: typo, type: STRING, defaults: GZIPP}
tasks:
  - {id: w, type: io.kestra.plugin.core.storage.Write, content: x}
  - id: a
    type: io.kestra.plugin.compress.ArchiveCompress
    from: {x.txt: "{{ outputs.w.uri }}"}
    algorithm: "{{ inputs.algo }}"
    allowFailure: true
  - {id: c, type: io.kestra.plugin.compress.FileCompress, from: "{{ outputs.w.uri }}", compression: "{{ inputs.comp }}", allowFailure: true}
  - {id: t, type: io.kestra.plugin.compress.FileCompress, from: "{{ outputs.w.uri }}", compression: "{{ inputs.typo }}"}
""")
    assert states(ex) == {"w": "SUCCESS", "a": "WARNING", "c": "WARNING", "t": "FAILED"}
    assert "`algorithm` CPIO is not supported by kflow" in error(ex, "a")
    assert "ZIP, JAR and TAR" in error(ex, "a")
    assert "`compression` SNAPPY is not supported by kflow" in error(ex, "c")
    assert "GZIP, BZIP2, XZ, LZMA and DEFLATE" in error(ex, "c")
    assert "unknown `compression` 'GZIPP'" in error(ex, "t")


def test_archive_compress_refuses_names_outside(run_yaml):
    ex = run_yaml(HEAD + "tasks:" + WRITES + """
  - id: up
    type: io.kestra.plugin.compress.ArchiveCompress
    algorithm: TAR
    from: {"../evil.txt": "{{ outputs.w1.uri }}"}
    allowFailure: true
  - id: abs
    type: io.kestra.plugin.compress.ArchiveCompress
    algorithm: ZIP
    from: {"/etc/evil": "{{ outputs.w1.uri }}"}
""")
    assert "'../evil.txt' leaves the target directory" in error(ex, "up")
    assert "'/etc/evil' is an absolute path" in error(ex, "abs")


def test_archive_compress_refuses_files_of_other_executions(run_yaml):
    first = run_yaml(HEAD + "tasks:\n  - {id: w, type: io.kestra.plugin.core.storage.Write, content: kept}\n")
    other = out(first, "w")["uri"]
    ex = run_yaml(HEAD + f"""tasks:
  - id: a
    type: io.kestra.plugin.compress.ArchiveCompress
    algorithm: ZIP
    from: {{x.txt: "{other}"}}
""")
    assert "didn't belong to the current execution" in error(ex, "a")


# --------------------------------------------------------------------------- hostile archives


def _zip(path, entries: dict[str, bytes], attrs: dict[str, int] | None = None):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            if attrs and name in attrs:
                info.create_system = 3
                info.external_attr = attrs[name] << 16
            zf.writestr(info, data)
    return path


def _tar(path, members: list[tarfile.TarInfo], data: dict[str, bytes] | None = None, mode="w"):
    with tarfile.open(path, mode) as tar:
        for member in members:
            payload = (data or {}).get(member.name)
            if payload is not None:
                member.size = len(payload)
            tar.addfile(member, io.BytesIO(payload) if payload is not None else None)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def _decompress(run_yaml, src, algorithm: str, compression: str = ""):
    comp = f", compression: {compression}" if compression else ""
    return run_yaml(HEAD + FILE_INPUT + f"""tasks:
  - {{id: x, type: io.kestra.plugin.compress.ArchiveDecompress, from: "{{{{ inputs.archive }}}}", algorithm: {algorithm}{comp}}}
""", {"archive": str(src)})


@pytest.mark.parametrize(
    ("entries", "message"),
    [({"ok.txt": b"fine", "../evil.txt": b"pwned"}, "'../evil.txt' leaves the target directory"),
     ({"a/../../evil.txt": b"pwned"}, "'a/../../evil.txt' leaves the target directory"),
     ({"/etc/evil": b"pwned"}, "'/etc/evil' is an absolute path")],
)  # fmt: skip
def test_zip_with_entries_outside_is_refused(run_yaml, kflow_home, tmp_path, entries, message):
    src = _zip(tmp_path / "bad.zip", entries)
    ex = _decompress(run_yaml, src, "ZIP")
    assert states(ex) == {"x": "FAILED"}
    assert message in error(ex, "x")
    assert "outside the task's working directory" in error(ex, "x")
    assert not (tmp_path / "evil.txt").exists() and not (kflow_home / "evil.txt").exists()
    assert not list(kflow_home.rglob("evil*"))


def test_tar_with_links_outside_is_refused(run_yaml, kflow_home, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    cases = {
        "abs-link": ([_member("link", tarfile.SYMTYPE, str(outside))], "is a symbolic link to"),
        "up-link": ([_member("d/link", tarfile.SYMTYPE, "../../outside.txt")], "outside the target directory"),
        "hard": ([_member("h", tarfile.LNKTYPE, "../outside.txt")], "is a hard link to '../outside.txt'"),
        "dev": ([_member("null", tarfile.CHRTYPE)], "'null' is a device file"),
        "fifo": ([_member("pipe", tarfile.FIFOTYPE)], "'pipe' is a FIFO"),
        "dotdot": ([_member("../evil.txt")], "'../evil.txt' leaves the target directory"),
        "abs": ([_member("/tmp/evil.txt")], "'/tmp/evil.txt' is an absolute path"),
    }
    for case, (members, message) in cases.items():
        src = _tar(tmp_path / f"{case}.tar.gz", members, {"../evil.txt": b"x", "/tmp/evil.txt": b"x"},
                   mode="w:gz")
        ex = _decompress(run_yaml, src, "TAR", "GZIP")
        assert states(ex) == {"x": "FAILED"}, case
        assert message in error(ex, "x"), (case, error(ex, "x"))
    assert outside.read_text() == "secret"
    assert not list(kflow_home.rglob("evil*")) and not list(tmp_path.parent.glob("evil*"))


def test_tar_links_inside_are_stored_as_copies(run_yaml, kflow_home, tmp_path):
    members = [_member("dir/a.txt"), _member("dir/sym", tarfile.SYMTYPE, "a.txt"),
               _member("hard", tarfile.LNKTYPE, "dir/a.txt"), _member("dir", tarfile.DIRTYPE)]
    src = _tar(tmp_path / "links.tar", members, {"dir/a.txt": b"payload"})
    ex = _decompress(run_yaml, src, "TAR")
    assert ex.state.current.value == "SUCCESS", error(ex, "x")
    files = out(ex, "x")["files"]
    assert sorted(files) == ["dir/a.txt", "dir/sym", "hard"]
    assert all(read(kflow_home, uri) == b"payload" for uri in files.values())


def test_zip_symlink_outside_is_refused(run_yaml, kflow_home, tmp_path):
    src = _zip(tmp_path / "link.zip", {"link": b"/etc/passwd"}, {"link": 0o120777})
    ex = _decompress(run_yaml, src, "ZIP")
    assert "'link' is a symbolic link to '/etc/passwd'" in error(ex, "x")


def test_same_base_name_in_two_folders_keeps_both(run_yaml, kflow_home, tmp_path):
    src = _zip(tmp_path / "two.zip", {"a/x.txt": b"A", "b/x.txt": b"B", "a/": b""})
    ex = _decompress(run_yaml, src, "ZIP")
    files = out(ex, "x")["files"]
    assert sorted(files) == ["a/x.txt", "b/x.txt"]
    assert read(kflow_home, files["a/x.txt"]) == b"A" and read(kflow_home, files["b/x.txt"]) == b"B"
    assert files["a/x.txt"].endswith("/x.txt") and files["b/x.txt"].endswith("-x.txt")


def test_repeated_entry_fails(run_yaml, tmp_path):
    src = tmp_path / "dup.tar"
    with tarfile.open(src, "w") as tar:
        for payload in (b"1", b"2"):
            info = tarfile.TarInfo("same.txt")
            info.size = 1
            tar.addfile(info, io.BytesIO(payload))
    ex = _decompress(run_yaml, src, "TAR")
    assert "'same.txt' appears twice" in error(ex, "x")


def test_encrypted_zip_entry_fails(run_yaml, tmp_path):
    src = _zip(tmp_path / "enc.zip", {"s.txt": b"x"})
    raw = bytearray(src.read_bytes())
    # set the "encrypted" flag in the local header and the central directory
    raw[6] |= 1
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 8] |= 1
    src.write_bytes(bytes(raw))
    ex = _decompress(run_yaml, src, "ZIP")
    assert "Unable to read entry 's.txt': it is encrypted" in error(ex, "x")


def test_entry_below_a_file_entry_fails(run_yaml, tmp_path):
    src = _zip(tmp_path / "clash.zip", {"a": b"file", "a/b.txt": b"below a file"})
    ex = _decompress(run_yaml, src, "ZIP")
    assert "archive entry 'a/b.txt' collides with an earlier entry (a/b.txt)" in error(ex, "x")


# --------------------------------------------------------------------------- streaming

BIG = 30 * 1024 * 1024
BOUND = 8 * 1024 * 1024  # bytes of Python allocations allowed to one task run


def test_big_files_stream_through_every_task(run_yaml, kflow_home, tmp_path):
    """Each task's peak of Python allocations stays far below the 30 MB it handles."""
    import hashlib
    import tracemalloc

    src = tmp_path / "big.csv"
    digest = hashlib.sha256()
    with open(src, "wb") as fh:
        i = 0
        while fh.tell() < BIG:
            line = f"{i},{i * 7919 % 100003},{hashlib.md5(str(i).encode()).hexdigest()}\n".encode()
            fh.write(line)
            digest.update(line)
            i += 1
    peaks: dict[str, int] = {}

    def on_event(event) -> None:
        if event.kind == "taskrun" and event.taskrun is not None:
            state = event.taskrun.state.current.value
            if state == "RUNNING":
                tracemalloc.reset_peak()
            elif state in ("SUCCESS", "FAILED"):
                peaks[event.taskrun.task_id] = tracemalloc.get_traced_memory()[1]

    text = HEAD + "inputs:\n  - {id: file, type: FILE}\ntasks:\n" + """
  - {id: fc, type: io.kestra.plugin.compress.FileCompress, from: "{{ inputs.file }}", compression: GZIP}
  - {id: fd, type: io.kestra.plugin.compress.FileDecompress, from: "{{ outputs.fc.uri }}", compression: GZIP}
  - {id: tc, type: io.kestra.plugin.compress.ArchiveCompress, from: {big.csv: "{{ inputs.file }}"}, algorithm: TAR, compression: GZIP}
  - {id: td, type: io.kestra.plugin.compress.ArchiveDecompress, from: "{{ outputs.tc.uri }}", algorithm: TAR, compression: GZIP}
  - {id: zc, type: io.kestra.plugin.compress.ArchiveCompress, from: {big.csv: "{{ inputs.file }}"}, algorithm: ZIP}
  - {id: zd, type: io.kestra.plugin.compress.ArchiveDecompress, from: "{{ outputs.zc.uri }}", algorithm: ZIP}
"""
    tracemalloc.start()
    try:
        ex = run_yaml(text, {"file": str(src)}, on_event=on_event)
    finally:
        tracemalloc.stop()
    assert ex.state.current.value == "SUCCESS", [tr.error for tr in ex.task_runs]
    assert sorted(peaks) == ["fc", "fd", "tc", "td", "zc", "zd"]
    assert max(peaks.values()) < BOUND, peaks
    for uri in (out(ex, "fd")["uri"], out(ex, "td")["files"]["big.csv"], out(ex, "zd")["files"]["big.csv"]):
        assert hashlib.sha256(read(kflow_home, uri)).hexdigest() == digest.hexdigest()


def test_from_as_a_list_of_maps_or_an_ion_file(run_yaml, kflow_home):
    # Kestra's Data.From: a map, a list of maps, or an Ion file whose rows are maps
    ex = run_yaml(HEAD + "tasks:" + WRITES + """
  - id: list
    type: io.kestra.plugin.compress.ArchiveCompress
    algorithm: ZIP
    from:
      - {"a.txt": "{{ outputs.w1.uri }}"}
      - {"{{ 'b' }}.txt": "{{ outputs.w2.uri }}"}
  - id: rows
    type: io.kestra.plugin.core.storage.Write
    extension: .ion
    content: |
      {"c.txt": "{{ outputs.w1.uri }}"}
      {"d/e.txt": "{{ outputs.w3.uri }}"}
  - id: ion
    type: io.kestra.plugin.compress.ArchiveCompress
    algorithm: TAR
    from: "{{ outputs.rows.uri }}"
""")
    assert ex.state.current.value == "SUCCESS", [tr.error for tr in ex.task_runs]
    with zipfile.ZipFile(io.BytesIO(read(kflow_home, out(ex, "list")["uri"]))) as zf:
        assert {n: zf.read(n) for n in zf.namelist()} == {"a.txt": b"one\n", "b.txt": "deux ü\n".encode()}
    with tarfile.open(fileobj=io.BytesIO(read(kflow_home, out(ex, "ion")["uri"]))) as tar:
        assert {m.name: tar.extractfile(m).read() for m in tar.getmembers()} == {"c.txt": b"one\n", "d/e.txt": b""}
