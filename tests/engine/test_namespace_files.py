"""Namespace files in a run: the ``_files/<namespace>/`` folder beside the flow (or the folder
given), read through ``read()``/``fileExists()``/``fileSize()``/``isFileEmpty()``/
``fileURI()`` and copied into scripts by ``namespaceFiles`` (Kestra's ReadFileFunction,
NamespaceFilesUtils)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kflow.api import open_home, run_flow
from kflow.errors import StorageError, UsageError
from kflow.storage.namespace import (
    NamespaceFiles,
    NamespaceFolders,
    default_folders,
    normalize,
    path_matcher,
)
from tests.conftest import by_task


def put(folder: Path, rel: str, text: str) -> None:
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def team(tmp_path: Path) -> Path:
    """``_files/company.team/`` beside the flow that run_yaml writes (tmp_path/flow.yml)."""
    folder = tmp_path / "_files" / "company.team"
    put(folder, "greet.txt", "hello ns")
    put(folder, "sql/q.sql", "select 1")
    put(folder, "empty.txt", "")
    put(tmp_path / "_files" / "company.other", "o.txt", "other ns")
    return folder


READS = """
id: reads
namespace: company.team
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: >-
      {{ read('greet.txt') }}|{{ read('/sql/q.sql') }}|{{ read('o.txt', namespace='company.other') }}|{{ fileExists('greet.txt') }}|{{ fileExists('nope.txt') }}|{{ fileSize('sql/q.sql') }}|{{ isFileEmpty('empty.txt') }}|{{ fileURI('sql/q.sql') }}|{{ read(fileURI('sql/q.sql')) }}|{{ read('nsfile:///greet.txt') }}|{{ read('nsfile://company.other/o.txt') }}
"""


def test_default_folder_beside_the_flow(run_yaml, team):
    ex = run_yaml(READS)
    assert ex.state.current.value == "SUCCESS", by_task(ex, "r")[0].error
    assert by_task(ex, "r")[0].outputs["value"] == (
        "hello ns|select 1|other ns|true|false|8|true"
        "|kestra:///company/team/_files/sql/q.sql|select 1|hello ns|other ns"
    )


def test_read_of_a_missing_file_fails_with_kestras_message(run_yaml, team):
    ex = run_yaml("""
id: missing
namespace: company.team
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read('missing.txt') }}"
""")
    assert ex.state.current.value == "FAILED"
    assert by_task(ex, "r")[0].error.startswith(
        "read(): File '/missing.txt' was not found in namespace 'company.team'."
    )


def test_read_of_a_missing_file_without_any_folder(run_yaml):
    ex = run_yaml("""
id: missing
namespace: company.team
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read('sub/missing.txt') }}"
""")
    assert ex.state.current.value == "FAILED"
    assert by_task(ex, "r")[0].error.startswith(
        "read(): File '/sub/missing.txt' was not found in namespace 'company.team'."
    )


def test_read_refuses_a_path_climbing_out(run_yaml, team):
    put(team.parent, "secret.txt", "no")
    ex = run_yaml("""
id: escape
namespace: company.team
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read('../secret.txt') }}"
""")
    assert ex.state.current.value == "FAILED"
    assert by_task(ex, "r")[0].error == (
        "read(): File should be accessed with their full path and not using relative '..' path."
        " ({{ read('../secret.txt') }}:1)"
    )


def test_a_given_folder_replaces_the_default(write_flow, team, tmp_path):
    given = tmp_path / "elsewhere"
    put(given, "greet.txt", "from the given folder")
    flow = write_flow("""
id: given
namespace: company.team
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read('greet.txt') }}|{{ fileExists('sql/q.sql') }}"
""")
    ex = run_flow(flow, namespace_files=given)
    assert by_task(ex, "r")[0].outputs["value"] == "from the given folder|false"
    ex = run_flow(flow, namespace_files={"": given, "company.other": team})
    assert by_task(ex, "r")[0].outputs["value"] == "from the given folder|false"


def test_a_missing_given_folder_is_refused(write_flow, tmp_path):
    flow = write_flow(
        "id: f\nnamespace: n\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
    )
    with pytest.raises(UsageError, match="is not a directory"):
        run_flow(flow, namespace_files=tmp_path / "nope")


def test_without_folder_the_home_keeps_the_namespace_files(run_yaml, kflow_home, tmp_path):
    src = tmp_path / "src.txt"
    src.write_text("from the home")
    with open_home() as home:
        home.storage.put("kestra:///company/team/_files/greet.txt", src)
    ex = run_yaml("""
id: home
namespace: company.team
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read('greet.txt') }}"
""")
    assert by_task(ex, "r")[0].outputs["value"] == "from the home"


SCRIPT = """
id: script
namespace: company.team
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    namespaceFiles:
      enabled: true
      include: ["**.txt", "sql/**"]
      exclude: ["/empty.txt"]
    commands:
      - find . -type f ! -path './_*' | sort
"""


def test_scripts_get_the_files_in_their_working_dir(run_yaml, team):
    ex = run_yaml(SCRIPT)
    assert ex.state.current.value == "SUCCESS"
    sh = by_task(ex, "sh")[0]
    assert {"name": "namespacefiles.count", "type": "counter", "value": 2} in sh.metrics
    loaded, *found = messages(ex, "sh")
    assert loaded.startswith("Loaded 2 namespace files from 'company.team' in 00:00:")
    assert found == ["./greet.txt", "./sql/q.sql"]


def messages(ex, task_id):
    with open_home() as home:
        return [r.message for r in home.store.get_logs(ex.id, task_id)]


def test_scripts_folder_per_namespace_and_namespaces(run_yaml, team):
    ex = run_yaml("""
id: script
namespace: company.team
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    namespaceFiles:
      namespaces: [company.other, company.team]
      folderPerNamespace: true
      include: ["**.txt"]
    commands:
      - cat company.other/o.txt company.team/greet.txt
""")
    assert ex.state.current.value == "SUCCESS", by_task(ex, "sh")[0].error
    assert messages(ex, "sh")[1:] == ["other nshello ns"]


def test_working_directory_if_exists_fail(run_yaml, team):
    ex = run_yaml("""
id: wd
namespace: company.team
tasks:
  - id: wd
    type: io.kestra.plugin.core.flow.WorkingDirectory
    inputFiles:
      greet.txt: already here
    tasks:
      - id: sh
        type: io.kestra.plugin.scripts.shell.Commands
        namespaceFiles:
          include: ["greet.txt"]
          ifExists: FAIL
        commands: ["cat greet.txt"]
""")
    assert ex.state.current.value == "FAILED"
    assert by_task(ex, "sh")[0].error.endswith("/greet.txt already exist")


# --------------------------------------------------------------------------- the storage layer


def test_namespace_file_uris():
    from kflow.storage.namespace import is_namespace_file

    assert is_namespace_file("kestra:///company/team/_files/a/b.txt")
    assert not is_namespace_file("kestra:///company/team/f/executions/E/tasks/t/T/_files/x")
    assert not is_namespace_file("kestra:///_files/x")
    assert not is_namespace_file("kestra:///company/_files/../x")


def test_another_executions_files_folder_stays_refused(run_yaml):
    ex = run_yaml("""
id: other
namespace: company.team
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read('kestra:///company/team/f/executions/E/tasks/t/T/_files/x') }}"
""")
    assert by_task(ex, "r")[0].error.startswith(
        "read(): Unable to read the file 'kestra:///company/team/f/executions/E/tasks/t/T/"
        "_files/x' as it didn't belong to the current execution"
    )


def test_normalize():
    assert normalize("a/b.txt") == "/a/b.txt"
    assert normalize("/a//./b.txt") == "/a/b.txt"
    with pytest.raises(StorageError, match="not using relative '..' path"):
        normalize("a/../../b")


def test_kestra_path_matchers():
    assert path_matcher("**.txt").fullmatch("/a/b.txt")
    assert path_matcher("sql/*.sql").fullmatch("/x/sql/q.sql")  # word start: any depth
    assert not path_matcher("*.txt").fullmatch("/a.txt")  # a Java glob: '*' stops at '/'
    assert path_matcher("regex:.*q.*").fullmatch("/sql/q.sql")


def test_folders_route_only_their_namespace(tmp_path):
    from kflow.storage.local import LocalStorage

    base = LocalStorage(tmp_path / "home")
    folder = tmp_path / "team"
    put(folder, "a.txt", "A")
    storage = NamespaceFolders(base, {"company.team": folder})
    team = NamespaceFiles(storage, "company.team")
    company = NamespaceFiles(storage, "company")
    src = tmp_path / "x"
    src.write_text("X")
    assert company.put("team/_files/a.txt", src)  # company's own file, not the folder's
    assert team.all() == ["/a.txt"]
    assert company.all() == ["/team/_files/a.txt"]
    assert not team.put("a.txt", src, "SKIP")
    with pytest.raises(StorageError, match="already exists in namespace 'company.team'"):
        team.put("a.txt", src, "ERROR")
    assert team.put("sub/b.txt", src)
    assert (folder / "sub/b.txt").read_text() == "X"
    assert team.delete("sub/b.txt", prune=True) and not (folder / "sub").exists()
    assert storage.delete("kestra:///company/team/_files") == 1 and folder.is_dir()


def test_default_folders_only_namespace_names(tmp_path):
    (tmp_path / "_files" / "company.team").mkdir(parents=True)
    (tmp_path / "_files" / "not a namespace").mkdir()
    (tmp_path / "_files" / "file.txt").write_text("")
    assert list(default_folders(tmp_path / "flow.yml")) == ["company.team"]
    assert default_folders(None) == {}


def test_input_files_and_commands_take_namespace_file_uris(run_yaml, team):
    ex = run_yaml("""
id: uris
namespace: company.team
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    inputFiles:
      copy.sql: "{{ fileURI('sql/q.sql') }}"
    commands:
      - cat copy.sql {{ fileURI('greet.txt') }}
""")
    assert ex.state.current.value == "SUCCESS", by_task(ex, "sh")[0].error
    assert messages(ex, "sh") == ["select 1hello ns"]
