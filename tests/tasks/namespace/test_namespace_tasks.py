"""``UploadFiles``, ``DownloadFiles`` and ``DeleteFiles`` (Kestra's
io.kestra.plugin.core.namespace tasks), through the engine."""

from __future__ import annotations

from pathlib import Path

from kflow.api import open_home, run_flow
from tests.conftest import by_task

ROUND_TRIP = """
id: round-trip
namespace: company.team
tasks:
  - id: write
    type: io.kestra.plugin.core.storage.Write
    content: "hello"
    extension: .txt
  - id: upload
    type: io.kestra.plugin.core.namespace.UploadFiles
    namespace: company.team
    destination: /data
    filesMap:
      greet.txt: "{{ outputs.write.uri }}"
      missing.txt: "kestra:///company/team/round-trip/executions/none/tasks/x/y/z.txt"
  - id: read
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read('data/greet.txt') }}|{{ fileExists('data/missing.txt') }}"
  - id: download
    type: io.kestra.plugin.core.namespace.DownloadFiles
    namespace: company.team
    files: ["**.txt"]
  - id: copy
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(outputs.download.files['/data/greet.txt']) }}"
  - id: delete
    type: io.kestra.plugin.core.namespace.DeleteFiles
    namespace: company.team
    files: "/data/**"
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: "{{ fileExists('data/greet.txt') }}"
"""


def test_upload_download_delete_round_trip(run_yaml, kflow_home):
    ex = run_yaml(ROUND_TRIP)
    assert ex.state.current.value == "SUCCESS", [tr.error for tr in ex.task_runs]
    assert by_task(ex, "upload")[0].outputs == {}
    assert by_task(ex, "read")[0].outputs["value"] == "hello|false"
    download = by_task(ex, "download")[0]
    prefix = f"kestra:///company/team/round-trip/executions/{ex.id}/tasks/download/{download.id}"
    assert download.outputs == {"files": {"/data/greet.txt": f"{prefix}/data/greet.txt"}}
    assert {"name": "downloaded", "type": "counter", "value": 1} in download.metrics
    assert by_task(ex, "copy")[0].outputs["value"] == "hello"
    delete = by_task(ex, "delete")[0]
    assert delete.outputs == {}
    assert {"name": "deleted", "type": "counter", "value": 1} in delete.metrics
    assert by_task(ex, "after")[0].outputs["value"] == "false"
    # without a _files/ folder beside the flow, the home keeps them (deleted now)
    assert not (kflow_home / "storage/company/team/_files/data/greet.txt").exists()


UPLOAD = """
id: upload
namespace: company.team
tasks:
  - id: wd
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: make
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - mkdir -p scripts/lib && echo 'print(1)' > scripts/main.py
          - echo 'x' > scripts/lib/util.py && echo no > notes.md
      - id: upload
        type: io.kestra.plugin.core.namespace.UploadFiles
        files: ["scripts/**"]
        destination: /code
"""

NEXT_RUN = """
id: next
namespace: company.team
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read('code/scripts/main.py') | trim }}|{{ fileExists('code/notes.md') }}"
  - id: py
    type: io.kestra.plugin.scripts.shell.Commands
    namespaceFiles:
      include: ["/code/**"]
    commands:
      - find code -type f | sort
"""


def test_uploaded_files_are_read_by_the_next_run(run_yaml, write_flow, tmp_path, kflow_home):
    ex = run_yaml(UPLOAD)
    assert ex.state.current.value == "SUCCESS", [tr.error for tr in ex.task_runs]
    stored = kflow_home / "storage/company/team/_files/code/scripts"
    assert sorted(p.relative_to(stored).as_posix() for p in stored.rglob("*.py")) == [
        "lib/util.py",
        "main.py",
    ]
    nxt = run_flow(write_flow(NEXT_RUN, name="next.yml"))
    assert nxt.state.current.value == "SUCCESS", [tr.error for tr in nxt.task_runs]
    assert by_task(nxt, "r")[0].outputs["value"] == "print(1)|false"
    with open_home() as home:
        lines = [r.message for r in home.store.get_logs(nxt.id, "py")]
    assert lines[1:] == ["code/scripts/lib/util.py", "code/scripts/main.py"]


def test_upload_goes_to_the_folder_beside_the_flow(run_yaml, tmp_path, kflow_home):
    folder = tmp_path / "_files" / "company.team"
    folder.mkdir(parents=True)
    ex = run_yaml(UPLOAD)
    assert ex.state.current.value == "SUCCESS"
    assert (folder / "code/scripts/main.py").read_text() == "print(1)\n"
    assert (folder / "code/scripts/lib/util.py").stat().st_mode & 0o777 == 0o644
    assert (folder / "code/scripts/lib").stat().st_mode & 0o777 == 0o755
    assert not (kflow_home / "storage/company/team/_files").exists()


def _upload_one(conflict: str, key: str = "a.txt", destination: str = "/") -> str:
    return f"""
id: conflict
namespace: company.team
tasks:
  - id: write
    type: io.kestra.plugin.core.storage.Write
    content: "new"
  - id: upload
    type: io.kestra.plugin.core.namespace.UploadFiles
    conflict: {conflict}
    destination: "{destination}"
    filesMap:
      "{key}": "{{{{ outputs.write.uri }}}}"
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: "{{{{ read('a.txt') }}}}"
"""


def test_conflicts(run_yaml, tmp_path):
    folder = tmp_path / "_files" / "company.team"
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text("old")
    ex = run_yaml(_upload_one("SKIP"))
    assert by_task(ex, "r")[0].outputs["value"] == "old"
    ex = run_yaml(_upload_one("ERROR"))
    assert ex.state.current.value == "FAILED"
    assert by_task(ex, "upload")[0].error == (
        "cannot upload '/a.txt': File '/a.txt' already exists in namespace 'company.team' "
        "and conflict is set to ERROR"
    )
    ex = run_yaml(_upload_one("OVERWRITE"))
    assert by_task(ex, "r")[0].outputs["value"] == "new"


def test_paths_escaping_the_namespace_are_refused(run_yaml, tmp_path):
    folder = tmp_path / "_files" / "company.team"
    folder.mkdir(parents=True)
    for flow in (
        _upload_one("OVERWRITE", key="../escaped.txt"),
        _upload_one("OVERWRITE", destination="../.."),
    ):
        ex = run_yaml(flow)
        assert ex.state.current.value == "FAILED"
        assert by_task(ex, "upload")[0].error.endswith(
            ": File should be accessed with their full path and not using relative '..' path."
        )
    assert sorted(p.name for p in tmp_path.rglob("escaped.txt")) == []


def test_files_or_files_map_is_required(run_yaml):
    ex = run_yaml("""
id: nothing
namespace: company.team
tasks:
  - id: upload
    type: io.kestra.plugin.core.namespace.UploadFiles
""")
    assert by_task(ex, "upload")[0].error == "files or filesMap is required"


def test_delete_parent_folder(run_yaml, tmp_path):
    folder = tmp_path / "_files" / "company.team"
    (folder / "a/b").mkdir(parents=True)
    (folder / "a/b/c.txt").write_text("c")
    (folder / "keep.txt").write_text("k")
    ex = run_yaml("""
id: del
namespace: company.team
tasks:
  - id: delete
    type: io.kestra.plugin.core.namespace.DeleteFiles
    namespace: "{{ flow.namespace }}"
    files: ["**c.txt"]
    deleteParentFolder: true
""")
    assert ex.state.current.value == "SUCCESS"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == ["keep.txt"]


def test_download_from_another_namespace_with_destination(run_yaml, tmp_path: Path):
    other = tmp_path / "_files" / "company.shared"
    (other / "lib").mkdir(parents=True)
    (other / "lib/x.py").write_text("x")
    ex = run_yaml("""
id: dl
namespace: company.team
tasks:
  - id: download
    type: io.kestra.plugin.core.namespace.DownloadFiles
    namespace: company.shared
    files: "lib/*.py"
    destination: shared
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(outputs.download.files['/lib/x.py']) }}"
""")
    assert ex.state.current.value == "SUCCESS", [tr.error for tr in ex.task_runs]
    uri = by_task(ex, "download")[0].outputs["files"]["/lib/x.py"]
    assert uri.endswith("/shared/lib/x.py")
    assert by_task(ex, "r")[0].outputs["value"] == "x"
