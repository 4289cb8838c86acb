"""The newer Kestra core tasks: SetVariables, UnsetVariables, kv.Put and Kill, and the
newer core types kflow refuses with a reason (Loop, Wait, Approval, PurgeFlows)."""

from __future__ import annotations

import pytest

from kflow.flow.validate import parse_flow
from tests.conftest import states


def _run(ex, task_id):
    (run,) = [tr for tr in ex.task_runs if tr.task_id == task_id]
    return run


# ----------------------------------------------------------------- SetVariables


def test_set_variables_overrides_flow_variables(run_yaml):
    # Kestra core/src/test/resources/flows/valids/set-variables.yaml (SetVariablesTest)
    ex = run_yaml(
        """
        id: set-variables
        namespace: io.kestra.tests
        variables:
          name: World
        tasks:
          - id: set-vars
            type: io.kestra.plugin.core.execution.SetVariables
            variables:
              message: Hello
              name: Loïc
          - id: output
            type: io.kestra.plugin.core.output.OutputValues
            values:
              message: "{{ vars.message }} {{ vars.name }}"
        """
    )
    assert ex.state.current.value == "SUCCESS"
    assert len(ex.task_runs) == 2
    assert _run(ex, "output").outputs["values"] == {"message": "Hello Loïc"}
    assert ex.variables == {"name": "Loïc", "message": "Hello"}
    assert ex.to_dict()["variables"] == {"name": "Loïc", "message": "Hello"}


def test_set_variables_without_overwrite_fails_on_existing(run_yaml):
    # Kestra core/src/test/resources/flows/valids/set-variables-duplicate.yaml
    ex = run_yaml(
        """
        id: set-variables-duplicate
        namespace: io.kestra.tests
        variables:
          name: World
        tasks:
          - id: set-vars
            type: io.kestra.plugin.core.execution.SetVariables
            variables:
              message: Hello
              name: Loïc
            overwrite: false
          - id: output
            type: io.kestra.plugin.core.output.OutputValues
            values:
              message: "{{ vars.message }} {{ vars.name }}"
        """
    )
    assert ex.state.current.value == "FAILED"
    assert states(ex) == {"set-vars": "FAILED"}
    assert _run(ex, "set-vars").error == (
        "`overwrite` is set to false and the following variables already exist: name"
    )
    assert ex.variables is None  # unchanged


def test_set_variables_deep_merges_and_renders(run_yaml):
    ex = run_yaml(
        """
        id: deep
        namespace: n
        inputs:
          - {id: version, type: STRING, defaults: 1.3.9}
        variables:
          db: {host: localhost, port: 5432}
          tags: [a]
        tasks:
          - id: set
            type: io.kestra.plugin.core.execution.SetVariables
            variables:
              db: {port: 6543}
              tags: [b]
              isLts: "{{ inputs.version | startsWith('1.3.') }}"
          - id: out
            type: io.kestra.plugin.core.debug.Return
            format: "{{ vars.db.host }}:{{ vars.db.port }} {{ vars.tags }} {{ vars.isLts }}"
        """
    )
    assert ex.state.current.value == "SUCCESS"
    assert ex.variables == {
        "db": {"host": "localhost", "port": 6543},
        "tags": ["b"],
        "isLts": "true",
    }
    assert _run(ex, "out").outputs["value"] == 'localhost:6543 ["b"] true'


# ----------------------------------------------------------------- UnsetVariables


def test_unset_variables(run_yaml):
    # Kestra core/src/test/resources/flows/valids/unset-variables.yaml (UnsetVariablesTest)
    ex = run_yaml(
        """
        id: unset-variables
        namespace: io.kestra.tests
        tasks:
          - id: set-vars
            type: io.kestra.plugin.core.execution.SetVariables
            variables:
              message: Hello World
          - id: unset-variables
            type: io.kestra.plugin.core.execution.UnsetVariables
            variables:
              - message
          - id: output
            type: io.kestra.plugin.core.output.OutputValues
            values:
              message: "{{ vars.message ??? 'default' }}"
        """
    )
    assert ex.state.current.value == "SUCCESS"
    assert len(ex.task_runs) == 3
    assert _run(ex, "output").outputs["values"] == {"message": "default"}
    assert ex.variables == {}


def test_unset_variables_nested_and_missing(run_yaml):
    ex = run_yaml(
        """
        id: unset-nested
        namespace: n
        variables:
          db: {host: h, password: secret}
          keep: 1
        tasks:
          - id: unset
            type: io.kestra.plugin.core.execution.UnsetVariables
            variables: [db.password, nothere, "{{ 'keep' }}"]
          - id: missing-parent
            type: io.kestra.plugin.core.execution.UnsetVariables
            variables: [nothere.x]
            ignoreMissing: true
          - id: fails
            type: io.kestra.plugin.core.execution.UnsetVariables
            variables: [nothere.x]
        """
    )
    assert states(ex) == {"unset": "SUCCESS", "missing-parent": "SUCCESS", "fails": "FAILED"}
    assert ex.variables == {"db": {"host": "h"}}
    assert "cannot unset variable 'nothere.x'" in _run(ex, "fails").error


# ----------------------------------------------------------------- kv.Put


def _kv(namespace, key):
    from kflow.api import open_home
    from kflow.kv import NamespaceKV

    with open_home() as home:
        store = NamespaceKV(home.store, namespace)
        row = home.store.kv_get(namespace, key)
        return store.get(key), row


def test_put_creates_replaces_and_deep_merges(run_yaml):
    flow = """
        id: put
        namespace: company.team
        tasks:
          - id: set
            type: io.kestra.plugin.core.kv.Set
            key: my-json-key
            value: {a: 1, nested: {x: 1, y: 2}, list: [1]}
            kvDescription: kept
            ttl: P1D
          - id: merge
            type: io.kestra.plugin.core.kv.Put
            key: my-json-key
            value: {nested: {y: 3, z: 4}, list: [2]}
          - id: entries
            type: io.kestra.plugin.core.kv.Put
            key: my-json-key
            value:
              - key: "json-key-1"
                value: "my new value"
              - key: "nested.field"
                value: 123
          - id: string
            type: io.kestra.plugin.core.kv.Put
            key: my-string-key
            value: "new-value"
          - id: replaced
            type: io.kestra.plugin.core.kv.Put
            key: other
            value: [{value: {whole: true}}]
          - id: typed
            type: io.kestra.plugin.core.kv.Put
            key: num
            value: "{{ 40 + 2 }}"
    """
    ex = run_yaml(flow)
    assert ex.state.current.value == "SUCCESS", [tr.error for tr in ex.task_runs]
    value, row = _kv("company.team", "my-json-key")
    assert value == {
        "a": 1,
        "nested": {"x": 1, "y": 3, "z": 4, "field": 123},
        "list": [2],
        "json-key-1": "my new value",
    }
    assert row.description == "kept" and row.expires_at is not None
    assert _kv("company.team", "my-string-key")[0] == "new-value"
    assert _kv("company.team", "other")[0] == {"whole": True}
    assert _kv("company.team", "num")[0] == 42


def test_put_error_on_missing_and_bad_entries(run_yaml):
    ex = run_yaml(
        """
        id: put-missing
        namespace: company.team
        tasks:
          - id: missing
            type: io.kestra.plugin.core.kv.Put
            key: absent
            value: x
            errorOnMissing: true
        """
    )
    assert _run(ex, "missing").error == (
        "No value found for key 'absent' in namespace 'company.team' and `errorOnMissing` "
        "is set to true"
    )
    ex = run_yaml(
        """
        id: put-bad
        namespace: company.team
        tasks:
          - id: text
            type: io.kestra.plugin.core.kv.Set
            key: text
            value: plain
          - id: keyed-on-text
            type: io.kestra.plugin.core.kv.Put
            key: text
            value: [{key: a, value: 1}]
            allowFailure: true
          - id: two-replacements
            type: io.kestra.plugin.core.kv.Put
            key: text
            value: [{value: 1}, {value: 2}]
        """
    )
    assert _run(ex, "keyed-on-text").error == (
        "Cannot apply keyed `value` updates to a non-JSON existing KV value."
    )
    assert _run(ex, "two-replacements").error == (
        "`value` entries without `key` can only be used as a single replacement item."
    )


# ----------------------------------------------------------------- Kill


def test_kill_ends_the_execution_killed(run_yaml):
    ex = run_yaml(
        """
        id: kill
        namespace: n
        inputs:
          - {id: shouldKill, type: BOOLEAN, defaults: true}
        tasks:
          - id: before
            type: io.kestra.plugin.core.debug.Return
            format: ok
          - id: kill
            type: io.kestra.plugin.core.execution.Kill
            runIf: "{{ inputs.shouldKill }}"
          - id: after
            type: io.kestra.plugin.core.debug.Return
            format: never
        errors:
          - id: on-error
            type: io.kestra.plugin.core.debug.Return
            format: never
        """
    )
    assert ex.state.current.value == "KILLED"
    assert states(ex) == {"before": "SUCCESS", "kill": "KILLED"}


def test_kill_stops_tasks_running_in_parallel(run_yaml):
    ex = run_yaml(
        """
        id: kill-parallel
        namespace: n
        tasks:
          - id: parallel
            type: io.kestra.plugin.core.flow.Parallel
            tasks:
              - id: long
                type: io.kestra.plugin.core.flow.Sleep
                duration: PT30S
              - id: seq
                type: io.kestra.plugin.core.flow.Sequential
                tasks:
                  - id: pause
                    type: io.kestra.plugin.core.flow.Sleep
                    duration: PT0.2S
                  - id: kill
                    type: io.kestra.plugin.core.execution.Kill
        """
    )
    assert ex.state.current.value == "KILLED"
    assert states(ex) == {
        "parallel": "KILLED",
        "long": "KILLED",
        "seq": "KILLED",
        "pause": "SUCCESS",
        "kill": "KILLED",
    }


def test_kill_skipped_by_run_if(run_yaml):
    ex = run_yaml(
        """
        id: kill-no
        namespace: n
        tasks:
          - id: kill
            type: io.kestra.plugin.core.execution.Kill
            runIf: "{{ false }}"
          - id: after
            type: io.kestra.plugin.core.debug.Return
            format: ok
        """
    )
    assert ex.state.current.value == "SUCCESS"
    assert states(ex)["after"] == "SUCCESS"


# ----------------------------------------------------------------- refused


@pytest.mark.parametrize(
    ("type_name", "reason"),
    [
        ("io.kestra.plugin.core.flow.PurgeFlows", "kflow keeps no flows"),
        ("io.kestra.plugin.core.flow.Approval", "no review dialog or review API"),
        ("io.kestra.plugin.core.flow.Loop", "use io.kestra.plugin.core.flow.ForEach"),
        ("io.kestra.plugin.core.flow.Wait", "use io.kestra.plugin.core.flow.Sleep"),
    ],
)
def test_newer_types_without_a_local_meaning_are_refused(type_name, reason):
    with pytest.raises(Exception, match="not supported by kflow") as info:
        parse_flow(f"id: f\nnamespace: n\ntasks:\n  - id: t\n    type: {type_name}\n")
    assert reason in str(info.value)


def test_variables_survive_a_pause_and_resume(run_yaml):
    from kflow.api import resume_execution

    ex = run_yaml(
        """
        id: set-then-pause
        namespace: n
        variables:
          name: World
        tasks:
          - id: set
            type: io.kestra.plugin.core.execution.SetVariables
            variables: {name: Loïc}
          - id: wait
            type: io.kestra.plugin.core.flow.Pause
          - id: out
            type: io.kestra.plugin.core.debug.Return
            format: "Hello {{ vars.name }}"
        """
    )
    assert ex.state.current.value == "PAUSED"
    done = resume_execution(ex.id, {})
    assert done.state.current.value == "SUCCESS"
    assert _run(done, "out").outputs == {"value": "Hello Loïc"}
    assert done.variables == {"name": "Loïc"}


# ----------------------------------------------------------------- namespace.PurgeFiles


def _put_files(namespace, *paths):
    import io

    from kflow.api import open_home
    from kflow.storage.namespace import NamespaceFiles

    with open_home() as home:
        files = NamespaceFiles(home.storage, namespace)
        for path in paths:
            files.put(path, io.BytesIO(b"unused"))


def _files(namespace):
    from kflow.api import open_home
    from kflow.storage.namespace import NamespaceFiles

    with open_home() as home:
        return NamespaceFiles(home.storage, namespace).all()


def test_purge_files_deletes_every_file_matching_the_pattern(run_yaml):
    # Kestra PurgeFilesTest.should_delete_every_files_matching_pattern
    _put_files("io.kestra.ns", "my/first/file.txt", "my/second/file.txt", "not/found.txt")
    ex = run_yaml(
        """
        id: purge
        namespace: io.kestra.ns
        tasks:
          - id: purge
            type: io.kestra.plugin.core.namespace.PurgeFiles
            filePattern: "*il*"
            behavior: {type: version, keepAmount: 0}
        """
    )
    assert _run(ex, "purge").outputs == {"size": 2}
    assert _files("io.kestra.ns") == ["/not/found.txt"]


def test_purge_files_namespaces_and_behaviors(run_yaml):
    for ns in ("io.kestra.tests", "parent", "parent.child"):
        _put_files(ns, "a.sql", "b.txt")
    flow = """
        id: purge-ns
        namespace: io.kestra.tests
        tasks:
          - id: default-keeps-the-last-version
            type: io.kestra.plugin.core.namespace.PurgeFiles
          - id: before-keeps-the-last-version
            type: io.kestra.plugin.core.namespace.PurgeFiles
            behavior: {type: version, before: "2025-01-01T00:00:00Z"}
          - id: no-child
            type: io.kestra.plugin.core.namespace.PurgeFiles
            namespaces: [ns1, parent]
            includeChildNamespaces: false
            filePattern: "*.sql"
            behavior: {type: version}
          - id: pattern
            type: io.kestra.plugin.core.namespace.PurgeFiles
            namespacePattern: "*arent*"
            behavior: {type: version, keepAmount: 0}
          - id: both
            type: io.kestra.plugin.core.namespace.PurgeFiles
            namespaces: [parent]
            namespacePattern: "*par*"
            allowFailure: true
          - id: bad-behavior
            type: io.kestra.plugin.core.namespace.PurgeFiles
            behavior: {type: version, before: "2025-01-01T00:00:00Z", keepAmount: 2}
    """
    ex = run_yaml(flow)
    out = {tr.task_id: (tr.outputs or {}).get("size") for tr in ex.task_runs}
    assert out["default-keeps-the-last-version"] == 0
    assert out["before-keeps-the-last-version"] == 0
    assert out["no-child"] == 1  # parent/a.sql only
    assert out["pattern"] == 3  # parent/b.txt, parent.child/a.sql and b.txt
    assert _files("io.kestra.tests") == ["/a.sql", "/b.txt"]
    assert _files("parent") == [] and _files("parent.child") == []
    assert _run(ex, "both").error == (
        "Properties `namespaces` and `namespacePattern` can't be used at the same time — "
        "use one or the other."
    )
    assert _run(ex, "bad-behavior").error == (
        "behavior: Cannot set both 'before' and 'keepAmount' properties"
    )
    from kflow.api import open_home

    with open_home() as home:
        logs = [r.message for r in home.store.get_logs(ex.id, "no-child")]
    assert logs == ["purging 2 namespaces: [parent, ns1]", "purged 1 files"]


@pytest.mark.parametrize(("propagate", "child_state"), [(True, "KILLED"), (False, "SUCCESS")])
def test_kill_propagates_to_subflows_when_asked(tmp_path, propagate, child_state):
    from kflow.api import open_home, run_flow

    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "child.yml").write_text(
        "id: child\nnamespace: n\ntasks:\n"
        "  - {id: nap, type: io.kestra.plugin.core.flow.Sleep, duration: PT1S}\n"
    )
    parent = flows / "parent.yml"
    parent.write_text(
        "id: parent\nnamespace: n\ntasks:\n"
        "  - {id: sub, type: io.kestra.plugin.core.flow.Subflow, namespace: n, flowId: child,"
        " wait: false}\n"
        "  - {id: settle, type: io.kestra.plugin.core.flow.Sleep, duration: PT0.2S}\n"
        f"  - {{id: kill, type: io.kestra.plugin.core.execution.Kill, propagateKill: {str(propagate).lower()}}}\n"
    )
    ex = run_flow(parent, flows_dir=flows)
    assert ex.state.current.value == "KILLED"
    child_id = _run(ex, "sub").outputs["executionId"]
    with open_home() as home:
        child = home.store.get_execution(child_id)
    assert child.state.current.value == child_state
