"""LocalFiles (deprecated in Kestra, standalone in kflow) run through real flows."""

from __future__ import annotations

import re

from kflow.ids import id_from
from kflow.storage.local import LocalStorage
from kflow.tasks.storage.local_files import LocalFiles
from tests.conftest import by_task, states

HEAD = "id: lf\nnamespace: company.team\ntasks:\n"


def read(home, uri: str) -> bytes:
    with LocalStorage(home / "storage").open(uri) as fh:
        return fh.read()


def out(ex, task_id: str) -> dict:
    return by_task(ex, task_id)[-1].outputs


def test_inputs_written_then_outputs_stored(run_yaml, kflow_home):
    # LocalFilesTest.recursive: text, an expression and a stored file, captured with test/**
    logs: list[tuple[str, str]] = []

    def on_event(event):
        if event.kind == "log":
            logs.append((event.level, event.message))

    ex = run_yaml(HEAD + """
  - {id: w, type: io.kestra.plugin.core.storage.Write, content: "stored ü", extension: .yml}
  - id: files
    type: io.kestra.plugin.core.storage.LocalFiles
    inputs:
      test/hello-input.txt: Hello Input
      "test/sub/dir/2/{{ flow.id }}.txt": "{{ flow.namespace }}"
      test/sub/dir/3/application-test.yml: "{{ outputs.w.uri }}"
      skipped.txt: null
      other.txt: not captured
    outputs:
      - test/**
""", on_event=on_event)
    assert ex.state.current.value == "SUCCESS", [tr.error for tr in ex.task_runs]
    uris = out(ex, "files")["uris"]
    assert sorted(uris) == [
        "test/hello-input.txt", "test/sub/dir/2/lf.txt", "test/sub/dir/3/application-test.yml",
    ]  # fmt: skip
    assert read(kflow_home, uris["test/hello-input.txt"]) == b"Hello Input"
    assert read(kflow_home, uris["test/sub/dir/2/lf.txt"]) == b"company.team"
    assert read(kflow_home, uris["test/sub/dir/3/application-test.yml"]) == "stored ü".encode()
    tr = by_task(ex, "files")[0]
    prefix = f"kestra:///company/team/lf/executions/{ex.id}/tasks/files/{tr.id}/"
    # stored as <IdUtils.from(absolute path)>-<file name>
    assert re.fullmatch(re.escape(prefix) + r"[0-9A-Za-z]+-hello-input\.txt", uris["test/hello-input.txt"])
    assert any(level == "WARN" and "deprecated" in message for level, message in logs)


def test_inputs_as_json_text_and_no_outputs(run_yaml, kflow_home):
    ex = run_yaml(HEAD + """
  - id: json
    type: io.kestra.plugin.core.storage.LocalFiles
    inputs: '{"a.csv": "1,2", "empty.txt": null}'
    outputs: ["*.csv", "*.txt", "nothing/*"]
  - id: none
    type: io.kestra.plugin.core.storage.LocalFiles
    inputs: {x.txt: x}
""")
    assert ex.state.current.value == "SUCCESS", [tr.error for tr in ex.task_runs]
    uris = out(ex, "json")["uris"]
    assert sorted(uris) == ["a.csv", "empty.txt"]
    assert read(kflow_home, uris["a.csv"]) == b"1,2"
    assert read(kflow_home, uris["empty.txt"]) == b""
    assert out(ex, "none") == {"uris": {}}


def test_each_run_has_its_own_directory(run_yaml):
    """Standalone, as in Kestra outside a WorkingDirectory: nothing is shared."""
    ex = run_yaml(HEAD + """
  - {id: first, type: io.kestra.plugin.core.storage.LocalFiles, inputs: {shared.txt: hi}}
  - {id: second, type: io.kestra.plugin.core.storage.LocalFiles, outputs: ["*.txt"]}
""")
    assert ex.state.current.value == "SUCCESS"
    assert out(ex, "second") == {"uris": {}}


def test_names_outside_the_directory_are_refused(run_yaml, kflow_home, tmp_path):
    ex = run_yaml(HEAD + f"""
  - {{id: up, type: io.kestra.plugin.core.storage.LocalFiles, inputs: {{"../evil.txt": x}}, allowFailure: true}}
  - {{id: abs, type: io.kestra.plugin.core.storage.LocalFiles, inputs: {{"{tmp_path}/evil.txt": x}}, allowFailure: true}}
  - {{id: pat, type: io.kestra.plugin.core.storage.LocalFiles, outputs: ["../*"]}}
""")
    assert states(ex) == {"up": "WARNING", "abs": "WARNING", "pat": "FAILED"}
    assert "would be written outside the working directory" in by_task(ex, "up")[0].error
    assert "is an absolute path" in by_task(ex, "abs")[0].error
    assert "`outputs` pattern '../*' points outside" in by_task(ex, "pat")[0].error
    assert not (tmp_path / "evil.txt").exists()
    assert not list(kflow_home.rglob("evil.txt"))


def test_refuses_files_of_other_executions(run_yaml):
    first = run_yaml(HEAD + "  - {id: w, type: io.kestra.plugin.core.storage.Write, content: kept}\n")
    other = out(first, "w")["uri"]
    ex = run_yaml(HEAD + f"  - {{id: f, type: io.kestra.plugin.core.storage.LocalFiles, inputs: {{a: '{other}'}}}}\n")
    assert "didn't belong to the current execution" in by_task(ex, "f")[0].error


def test_stored_name_is_kestras(run_yaml):
    ex = run_yaml(HEAD + "  - {id: f, type: io.kestra.plugin.core.storage.LocalFiles, inputs: {a.txt: x}, outputs: [a.txt]}\n")
    name = out(ex, "f")["uris"]["a.txt"].rsplit("/", 1)[-1]
    ident, rest = name.split("-", 1)
    assert rest == "a.txt" and len(ident) >= 20 and ident != id_from("a.txt")


LEGACY = "io.kestra.core.tasks.storages.LocalFiles"


def test_legacy_name_is_declared():
    assert LocalFiles.aliases == (LEGACY,)


def test_legacy_name_runs(run_yaml):
    ex = run_yaml(HEAD + f"  - {{id: f, type: {LEGACY}, inputs: {{a.txt: x}}, outputs: [a.txt]}}\n")
    assert list(out(ex, "f")["uris"]) == ["a.txt"]
