"""WorkingDirectory (issue 15): children share one directory; inputFiles, outputFiles,
namespaceFiles, cache. Flows from Kestra's core/src/test/resources/flows/valids/
working-directory*.y*ml (kestra-io/kestra 58c1ca2d), asserts from WorkingDirectoryTest."""

from __future__ import annotations

import os
import time
import zipfile

import pytest

from kflow.errors import FlowValidationError
from kflow.storage.local import LocalStorage
from tests.conftest import by_task, states

# working-directory.yaml
WORKING_DIRECTORY = """
id: working-directory
namespace: io.kestra.tests

inputs:
  - id: failed
    type: STRING

tasks:
  - id: worker
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: first
        type: io.kestra.plugin.core.storage.LocalFiles
        inputs:
          out/stay.txt: "{{ inputs.failed == 'true' ? ko: taskrun.id }}"
      - id: second
        type: io.kestra.plugin.core.storage.LocalFiles
        outputs:
          - out/*
      - id: disabled
        type: io.kestra.plugin.core.debug.Return
        disabled: true
    errors:
      - id: error-t1
        type: io.kestra.plugin.core.debug.Return
        format: "Error Trigger ! {{task.id}}"
  - id: 2_end
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.second.uris['out/stay.txt'] }}"
"""


def read(home, uri: str) -> bytes:
    with LocalStorage(home / "storage").open(uri) as fh:
        return fh.read()


def test_children_share_the_directory(run_yaml, kflow_home):
    # WorkingDirectoryTest.success: 4 task runs, SUCCESS, 2_end gets the stored file
    ex = run_yaml(WORKING_DIRECTORY, {"failed": "false"})
    assert ex.state.current.value == "SUCCESS"
    assert [tr.task_id for tr in ex.task_runs] == ["worker", "first", "second", "2_end"]
    value = by_task(ex, "2_end")[0].outputs["value"]
    assert value.startswith("kestra://")
    first = by_task(ex, "first")[0]
    assert read(kflow_home, value) == first.id.encode()  # written by first, kept by second
    worker = by_task(ex, "worker")[0]
    assert {tr.parent_taskrun_id for tr in ex.task_runs if tr.task_id in ("first", "second")} == {
        worker.id
    }


def test_failed_child_stops_and_errors_run(run_yaml):
    # WorkingDirectoryTest.failed: 3 task runs (worker, first, error-t1), FAILED
    ex = run_yaml(WORKING_DIRECTORY, {"failed": "true"})
    assert ex.state.current.value == "FAILED"
    assert [tr.task_id for tr in ex.task_runs] == ["worker", "first", "error-t1"]
    assert states(ex)["worker"] == "FAILED"


def test_input_files(run_yaml, kflow_home):
    # working-directory-inputs.yml / WorkingDirectoryTest.inputFiles
    ex = run_yaml("""
id: working-directory-inputs
namespace: io.kestra.tests

tasks:
  - id: workingDir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    inputFiles:
      input.txt: Hello World
    tasks:
      - id: inputFiles
        type: io.kestra.plugin.core.storage.LocalFiles
        outputs:
          - input.txt
""")
    assert ex.state.current.value == "SUCCESS"
    assert len(ex.task_runs) == 2
    uri = by_task(ex, "inputFiles")[0].outputs["uris"]["input.txt"]
    assert uri.endswith("input.txt")
    assert read(kflow_home, uri) == b"Hello World"


def test_output_files(run_yaml, kflow_home):
    # working-directory-outputs.yml / WorkingDirectoryTest.outputFiles
    ex = run_yaml("""
id: working-directory-outputs
namespace: io.kestra.tests

tasks:
  - id: workingDir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    outputFiles:
      - output.txt
    tasks:
      - id: outputFiles
        type: io.kestra.plugin.core.storage.LocalFiles
        inputs:
          output.txt: "Hello World"
""")
    assert ex.state.current.value == "SUCCESS"
    assert len(ex.task_runs) == 2
    wd = ex.task_runs[0]
    assert list(wd.outputs) == ["outputFiles"]
    ((name, uri),) = wd.outputs["outputFiles"].items()
    assert name == "output.txt"
    assert f"/tasks/workingdir/{wd.id}/" in uri and uri.endswith("-output.txt")
    assert read(kflow_home, uri) == b"Hello World"


def test_no_matching_output_file_gives_no_output(run_yaml):
    ex = run_yaml("""
id: wd
namespace: company.team
tasks:
  - id: wd
    type: io.kestra.plugin.core.flow.WorkingDirectory
    outputFiles: ["*.csv"]
    tasks:
      - {id: r, type: io.kestra.plugin.core.debug.Return, format: x}
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.wd.outputFiles ?? 'none' }}"
""")
    assert ex.state.current.value == "SUCCESS"
    assert by_task(ex, "after")[0].outputs == {"value": "none"}


def test_inside_foreach(run_yaml):
    # working-directory-each.yaml / WorkingDirectoryTest.each: 8 task runs, SUCCESS
    ex = run_yaml("""
id: working-directory-each
namespace: io.kestra.tests

tasks:
  - id: 1_each
    type: io.kestra.plugin.core.flow.ForEach
    values: '["s1"]'
    tasks:
    - id: 1-1_each
      type: io.kestra.plugin.core.flow.ForEach
      values: '["s2"]'
      tasks:
        - id: 1-1-1_each
          type: io.kestra.plugin.core.flow.ForEach
          values: '["s3"]'
          tasks:
            - id: 1-1-1-1_return
              type: io.kestra.plugin.core.debug.Return
              format: "{{task.id}} > {{taskrun.value}} > {{taskrun.startDate}}"
            - id: worker
              type: io.kestra.plugin.core.flow.WorkingDirectory
              tasks:
              - id: first
                type: io.kestra.plugin.core.storage.LocalFiles
                inputs:
                  out/stay.txt: "{{ taskrun.id }}"
              - id: second
                type: io.kestra.plugin.core.storage.LocalFiles
                outputs:
                  - out/*
  - id: 2_end
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.second.s1.s2.s3.uris['out/stay.txt'] }}"
""")
    assert ex.state.current.value == "SUCCESS"
    assert len(ex.task_runs) == 8
    assert by_task(ex, "2_end")[0].outputs["value"].startswith("kestra://")


def test_scripts_share_working_dir(run_yaml):
    # the @Example of WorkingDirectory.java: {{ workingDir }} is the same for every child
    ex = run_yaml("""
id: working-directory
namespace: io.kestra.tests
tasks:
  - id: working-directory
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: first
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
        - 'echo "{{ taskrun.id }}" > {{ workingDir }}/stay.txt'
      - id: second
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
        - |
          echo '::{"outputs": {"stay":"'$(cat {{ workingDir }}/stay.txt)'", "dir": "'$(pwd)'"}}::'
      - id: third
        type: io.kestra.plugin.core.debug.Return
        format: "{{ workingDir ?? 'no workingDir outside scripts' }}"
""")
    assert ex.state.current.value == "SUCCESS"
    first = by_task(ex, "first")[0]
    second = by_task(ex, "second")[0].outputs["vars"]
    assert second["stay"] == first.id
    assert not os.path.exists(second["dir"])  # removed when the WorkingDirectory ended


def test_allow_failure_child_goes_on(run_yaml):
    # as in working-directory-namespace-files.yaml: a child with allowFailure does not stop
    # the others; the WorkingDirectory (and the execution) end WARNING
    ex = run_yaml("""
id: wd
namespace: company.team
tasks:
  - id: wd
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - {id: bad, type: io.kestra.plugin.core.execution.Fail, allowFailure: true}
      - {id: good, type: io.kestra.plugin.core.debug.Return, format: ok}
""")
    assert states(ex) == {"wd": "WARNING", "bad": "WARNING", "good": "SUCCESS"}
    assert ex.state.current.value == "WARNING"


def test_namespace_files_are_copied(run_yaml, kflow_home, tmp_path):
    # working-directory-namespace-files.yaml, with Read (a test task) replaced by LocalFiles
    storage = LocalStorage(kflow_home / "storage")
    for path, text in {
        "/test/a/b/c/1.txt": "first",
        "/a/b/c/2.txt": "second",
        "/a/b/3.txt": "third",
        "/ignore/4.txt": "4th",
    }.items():
        src = tmp_path / "src.txt"
        src.write_text(text)
        storage.put(f"kestra:///io/kestra/tests/_files{path}", src)
    ex = run_yaml("""
id: working-directory-namespace-files
namespace: io.kestra.tests
tasks:
  - id: worker
    type: io.kestra.plugin.core.flow.WorkingDirectory
    namespaceFiles:
      enabled: true
      exclude:
        - /ignore/**
    tasks:
      - id: files
        type: io.kestra.plugin.core.storage.LocalFiles
        outputs: ["**/*.txt"]
""")
    assert ex.state.current.value == "SUCCESS"
    assert sorted(by_task(ex, "files")[0].outputs["uris"]) == [
        "a/b/3.txt",
        "a/b/c/2.txt",
        "test/a/b/c/1.txt",
    ]


CACHE = """
id: working-directory-cache
namespace: io.kestra.tests

tasks:
  - id: workingDir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    cache:
      ttl: PT5m
      patterns:
        - "*.txt"
    tasks:
      - id: exists
        type: io.kestra.plugin.core.storage.LocalFiles
        outputs:
          - hello.txt
      - id: inputFiles
        type: io.kestra.plugin.core.storage.LocalFiles
        inputs:
          hello.txt: |
            HELLO WORLD
"""


def test_cache_restored_on_the_next_run(run_yaml, kflow_home):
    # working-directory-cache.yml / WorkingDirectoryTest.cache
    archive = kflow_home / "cache/io/kestra/tests/working-directory-cache/workingDir/cache.zip"
    ex = run_yaml(CACHE)
    assert ex.state.current.value == "SUCCESS"
    assert len(ex.task_runs) == 3
    assert by_task(ex, "exists")[0].outputs == {"uris": {}}
    assert archive.is_file()
    with zipfile.ZipFile(archive) as z:
        assert z.namelist() == ["hello.txt"]

    ex = run_yaml(CACHE)
    assert ex.state.current.value == "SUCCESS"
    assert list(by_task(ex, "exists")[0].outputs["uris"]) == ["hello.txt"]


def test_expired_cache_is_deleted(run_yaml, kflow_home):
    archive = kflow_home / "cache/io/kestra/tests/working-directory-cache/workingDir/cache.zip"
    run_yaml(CACHE)
    old = time.time() - 600  # older than its ttl (PT5m)
    os.utime(archive, (old, old))
    ex = run_yaml(CACHE)
    assert by_task(ex, "exists")[0].outputs == {"uris": {}}  # not restored
    assert archive.stat().st_mtime > old  # written again by this run


def test_legacy_names(run_yaml):
    for legacy in (
        "io.kestra.core.tasks.flows.WorkingDirectory",
        "io.kestra.core.tasks.flows.Worker",
    ):
        ex = run_yaml(f"""
id: wd
namespace: company.team
tasks:
  - id: wd
    type: {legacy}
    tasks:
      - {{id: r, type: io.kestra.plugin.core.debug.Return, format: x}}
""")
        assert ex.state.current.value == "SUCCESS"
        assert ex.task_runs[0].task_type == "io.kestra.plugin.core.flow.WorkingDirectory"


def test_flowable_children_are_refused(run_yaml):
    # WorkingDirectoryTaskValidator
    with pytest.raises(FlowValidationError, match="Only runnable tasks are allowed"):
        run_yaml("""
id: wd
namespace: company.team
tasks:
  - id: wd
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: par
        type: io.kestra.plugin.core.flow.Parallel
        tasks:
          - {id: r, type: io.kestra.plugin.core.debug.Return, format: x}
""")


def test_input_files_null_makes_an_empty_file_and_names_render(run_yaml, kflow_home):
    ex = run_yaml("""
id: wd
namespace: company.team
tasks:
  - id: wd
    type: io.kestra.plugin.core.flow.WorkingDirectory
    inputFiles:
      empty.txt: null
      "{{ flow.id }}.txt": "{{ flow.namespace }}"
    outputFiles: ["*.txt"]
    tasks:
      - {id: r, type: io.kestra.plugin.core.debug.Return, format: x}
""")
    files = ex.task_runs[0].outputs["outputFiles"]
    assert sorted(files) == ["empty.txt", "wd.txt"]
    assert read(kflow_home, files["empty.txt"]) == b""
    assert read(kflow_home, files["wd.txt"]) == b"company.team"


def test_input_file_outside_the_directory_fails_before_any_child(run_yaml):
    ex = run_yaml("""
id: wd
namespace: company.team
tasks:
  - id: wd
    type: io.kestra.plugin.core.flow.WorkingDirectory
    inputFiles:
      ../evil.txt: x
    tasks:
      - {id: r, type: io.kestra.plugin.core.debug.Return, format: x}
""")
    assert states(ex) == {"wd": "FAILED"}
    assert "outside the working directory" in ex.task_runs[0].error
