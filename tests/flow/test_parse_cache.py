"""The flow parse cache: a flow read again unchanged skips PyYAML, and nothing but the
exact text it was made from is ever served."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kflow.flow import loader
from kflow.flow.loader import LineDict, LineList, parse_yaml

FLOW = """\
id: hello
namespace: company.team
tasks:
  - id: a
    type: io.kestra.plugin.core.debug.Return
    format: "{{ 1 + 1 }}"
    retry: {type: constant, interval: PT1S, maxAttempts: 2}
  - id: b
    type: io.kestra.plugin.core.log.Log
    message: [x, 2, 2.5, true, null, 2024-01-01]
"""


def _same(a: object, b: object) -> None:
    """Equal values, and equal positions on every mapping and list."""
    assert a == b and type(a) is type(b)
    if isinstance(a, LineDict) and isinstance(b, LineDict):
        assert (a.line, a.column, a.key_marks) == (b.line, b.column, b.key_marks)
        for key in a:
            _same(a[key], b[key])
    if isinstance(a, LineList) and isinstance(b, LineList):
        assert (a.line, a.column, a.item_marks) == (b.line, b.column, b.item_marks)
        for x, y in zip(a, b, strict=True):
            _same(x, y)


def test_a_second_parse_comes_from_the_cache_with_the_same_positions(kflow_home: Path) -> None:
    kflow_home.mkdir()
    first = parse_yaml(FLOW, "f.yml")
    cached = loader._cached(FLOW)
    assert cached is not None
    _same(first, cached)
    _same(first, parse_yaml(FLOW, "f.yml"))


def test_a_cached_flow_does_not_load_pyyaml(kflow_home: Path, tmp_path: Path) -> None:
    kflow_home.mkdir()
    flow = tmp_path / "flow.yml"
    flow.write_text(FLOW, encoding="utf-8")
    code = (
        "import sys\nfrom kflow.flow.validate import load_flow\n"
        f"load_flow({str(flow)!r})\nprint('yaml' in sys.modules)\n"
    )
    env = dict(os.environ, KFLOW_HOME=str(kflow_home))
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
            for _ in range(2)]  # fmt: skip
    assert [r.stdout.strip() for r in runs] == ["True", "False"], runs[0].stderr + runs[1].stderr


def test_an_entry_for_another_text_is_never_used(kflow_home: Path) -> None:
    """A forged or colliding entry (same file name, different text) is ignored."""
    kflow_home.mkdir()
    parse_yaml(FLOW, "f.yml")
    file = loader._cache_file(FLOW)
    assert file is not None and file.is_file()
    other = FLOW.replace("hello", "other")
    import marshal

    file.write_bytes(marshal.dumps((other, loader._freeze(parse_yaml(other)))))
    assert parse_yaml(FLOW)["id"] == "hello"


def test_a_damaged_entry_is_parsed_again(kflow_home: Path) -> None:
    kflow_home.mkdir()
    parse_yaml(FLOW)
    file = loader._cache_file(FLOW)
    assert file is not None
    file.write_bytes(b"\x00garbage")
    assert parse_yaml(FLOW)["id"] == "hello"


def test_no_home_is_created_and_errors_are_not_cached(kflow_home: Path) -> None:
    parse_yaml(FLOW)
    assert not kflow_home.exists()  # `kflow validate` never creates a home
    kflow_home.mkdir()
    from kflow.errors import FlowSyntaxError

    for _ in range(2):
        with pytest.raises(FlowSyntaxError):
            parse_yaml("id: [unclosed\n")
    assert not (kflow_home / "cache").exists()


def test_values_yaml_has_but_the_cache_cannot_keep_are_parsed_each_time(kflow_home: Path) -> None:
    kflow_home.mkdir()
    text = "id: x\nblob: !!binary aGVsbG8=\n"
    assert parse_yaml(text)["blob"] == b"hello"
    assert loader._cached(text) is None
    anchors = "a: &x {k: 1}\nb: *x\n"
    assert parse_yaml(anchors)["b"] == {"k": 1}
    assert loader._cached(anchors) is None  # shared objects: never copied through the cache


def test_cache_files_are_private(kflow_home: Path) -> None:
    kflow_home.mkdir()
    parse_yaml(FLOW)
    file = loader._cache_file(FLOW)
    assert file is not None
    assert file.stat().st_mode & 0o077 == 0
    assert file.parent.stat().st_mode & 0o077 == 0
    assert file.parent.parent.stat().st_mode & 0o077 == 0  # cache/ itself
