"""The KV tasks (io.kestra.plugin.core.kv.*) and kv() in runs: outputs as Kestra names
them, typed values, TTL, overwrite and namespace inheritance (cases of Kestra's SetTest,
GetTest, DeleteTest, GetKeysTest, PurgeKVTest and KvFunctionTest)."""

from __future__ import annotations

import pytest

from kflow.api import open_home
from kflow.kv import NamespaceKV
from tests.conftest import by_task, states


def out(ex, task_id):
    runs = by_task(ex, task_id)
    assert runs, f"no run of {task_id}"
    return runs[-1].outputs


def error(ex, task_id):
    return by_task(ex, task_id)[-1].error


def put(namespace, key, value, **kw):
    with open_home() as home:
        NamespaceKV(home.store, namespace).put(key, value, **kw)


def stored(namespace):
    with open_home() as home:
        return {r.key: (r.type, r.value) for r in home.store.kv_list(namespace)}


TYPED = """
id: typed
namespace: company.team
inputs:
  - id: when
    type: DATETIME
    defaults: "2024-01-31T10:00:00Z"
tasks:
  - id: map
    type: io.kestra.plugin.core.kv.Set
    key: cfg
    value: "{{ {'a': 1, 'b': [1, 2]} }}"
  - id: number
    type: io.kestra.plugin.core.kv.Set
    key: price
    value: "123.45"
    kvType: NUMBER
  - id: flag
    type: io.kestra.plugin.core.kv.Set
    key: flag
    value: "true"
    kvType: BOOLEAN
  - id: instant
    type: io.kestra.plugin.core.kv.Set
    key: at
    value: "2023-05-02T01:02:03Z"
    kvType: DATETIME
  - id: input_date
    type: io.kestra.plugin.core.kv.Set
    key: when
    value: "{{ inputs.when }}"
  - id: duration
    type: io.kestra.plugin.core.kv.Set
    key: wait
    value: "P1DT5S"
    kvType: DURATION
  - id: json
    type: io.kestra.plugin.core.kv.Set
    key: list
    value: '[{"some":"value"},{"another":"value"}]'
    kvType: JSON
    kvDescription: a list
  - id: text
    type: io.kestra.plugin.core.kv.Set
    key: text
    value: "{{ 40 + 2 }} apples"
  - id: get_map
    type: io.kestra.plugin.core.kv.Get
    key: cfg
  - id: get_at
    type: io.kestra.plugin.core.kv.Get
    key: at
  - id: get_wait
    type: io.kestra.plugin.core.kv.Get
    key: wait
  - id: use
    type: io.kestra.plugin.core.debug.Return
    format: >-
      {{ kv('cfg').b[1] + kv('price') }}|{{ kv('flag') ? 'yes' : 'no' }}|{{ kv('at') }}|{{ kv('wait') }}|{{ kv('list')[1].another }}|{{ kv('text') }}|{{ kv('when') }}
"""


def test_set_and_get_keep_the_type(run_yaml):
    ex = run_yaml(TYPED)
    assert ex.state.current.value == "SUCCESS", [tr.error for tr in ex.task_runs]
    assert out(ex, "map") == {}  # Set has no outputs (VoidOutput)
    assert out(ex, "get_map") == {"value": {"a": 1, "b": [1, 2]}}
    assert out(ex, "get_at") == {"value": "2023-05-02T01:02:03Z"}
    assert out(ex, "get_wait") == {"value": "PT24H5S"}
    assert out(ex, "use") == {
        "value": "125.45|yes|2023-05-02T01:02:03Z|PT24H5S|value|42 apples|2024-01-31T10:00:00Z"
    }
    assert stored("company.team") == {
        "at": ("DATETIME", '"2023-05-02T01:02:03Z"'),
        "cfg": ("JSON", '{"a": 1, "b": [1, 2]}'),
        "flag": ("BOOLEAN", "true"),
        "list": ("JSON", '[{"some": "value"}, {"another": "value"}]'),
        "price": ("NUMBER", "123.45"),
        "text": ("STRING", '"42 apples"'),
        "wait": ("DURATION", '"PT24H5S"'),
        "when": ("STRING", '"2024-01-31T10:00:00Z"'),  # kflow's inputs.* are text
    }
    with open_home() as home:
        assert home.store.kv_get("company.team", "list").description == "a list"


def test_get_missing_and_error_on_missing(run_yaml):
    ex = run_yaml("""
id: missing
namespace: company.team
tasks:
  - id: lenient
    type: io.kestra.plugin.core.kv.Get
    key: my-key
  - id: strict
    type: io.kestra.plugin.core.kv.Get
    key: my-key
    errorOnMissing: true
""")
    assert out(ex, "lenient") == {"value": None}
    assert states(ex) == {"lenient": "SUCCESS", "strict": "FAILED"}
    assert error(ex, "strict") == (
        "No value found for key 'my-key' in namespace 'company.team' and `errorOnMissing` "
        "is set to true"
    )


def test_get_searches_parent_namespaces_only_for_the_flows_own(run_yaml):
    put("company", "inherited", "from company")
    ex = run_yaml("""
id: inherit
namespace: company.team.sub
tasks:
  - id: own
    type: io.kestra.plugin.core.kv.Get
    key: inherited
  - id: explicit_own
    type: io.kestra.plugin.core.kv.Get
    key: inherited
    namespace: company.team.sub
  - id: other
    type: io.kestra.plugin.core.kv.Get
    key: inherited
    namespace: company.team
  - id: parent
    type: io.kestra.plugin.core.kv.Get
    key: inherited
    namespace: company
""")
    assert out(ex, "own") == {"value": "from company"}
    assert out(ex, "explicit_own") == {"value": "from company"}
    assert out(ex, "other") == {"value": None}  # another namespace: no inheritance
    assert out(ex, "parent") == {"value": "from company"}


KV_FUNCTION = """
id: kvfn
namespace: company.team
tasks:
  - id: inherited
    type: io.kestra.plugin.core.debug.Return
    format: "{{ kv('inherited') }}"
  - id: named
    type: io.kestra.plugin.core.debug.Return
    format: "{{ kv(key='inherited', namespace='company') }}"
  - id: no_parent_search
    type: io.kestra.plugin.core.debug.Return
    format: "{{ kv('inherited', 'company.team', false) ?? 'none' }}"
  - id: lenient
    type: io.kestra.plugin.core.debug.Return
    format: "[{{ kv('nope', errorOnMissing=false) }}]"
  - id: strict
    type: io.kestra.plugin.core.debug.Return
    format: "{{ kv('nope') }}"
"""


def test_kv_function(run_yaml):
    put("company", "inherited", "from company")
    ex = run_yaml(KV_FUNCTION)
    assert out(ex, "inherited") == {"value": "from company"}
    assert out(ex, "named") == {"value": "from company"}
    assert out(ex, "no_parent_search") == {"value": "none"}
    assert out(ex, "lenient") == {"value": "[]"}
    assert states(ex)["strict"] == "FAILED"
    assert "The key 'nope' does not exist in the namespace 'company.team'." in error(ex, "strict")


def test_overwrite_false_fails_on_an_existing_key(run_yaml):
    put("company.team", "k", "old")
    ex = run_yaml("""
id: overwrite
namespace: company.team
tasks:
  - id: keep
    type: io.kestra.plugin.core.kv.Set
    key: k
    value: new
    overwrite: false
""")
    assert states(ex) == {"keep": "FAILED"}
    assert error(ex, "keep") == (
        "Cannot set value for key 'k'. Key already exists and `overwrite` is set to `false`."
    )
    assert stored("company.team") == {"k": ("STRING", '"old"')}


def test_a_key_kestra_refuses(run_yaml):
    ex = run_yaml("""
id: badkey
namespace: company.team
tasks:
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: "{{ 'bad key' }}"
    value: v
""")
    assert error(ex, "set").startswith("Key must start with an alphanumeric character")


EXPIRY = """
id: expiry
namespace: company.team
tasks:
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: gone
    value: soon
    ttl: PT0S
  - id: keep
    type: io.kestra.plugin.core.kv.Set
    key: kept
    value: later
    ttl: PT1H
  - id: keys
    type: io.kestra.plugin.core.kv.GetKeys
  - id: lenient
    type: io.kestra.plugin.core.debug.Return
    format: "[{{ kv('gone', errorOnMissing=false) }}]"
  - id: again
    type: io.kestra.plugin.core.kv.Set
    key: gone
    value: back
    ttl: PT0S
  - id: read
    type: io.kestra.plugin.core.kv.Get
    key: gone
    allowFailure: true
  - id: after
    type: io.kestra.plugin.core.kv.Get
    key: gone
"""


def test_ttl_expiry(run_yaml):
    ex = run_yaml(EXPIRY)
    assert out(ex, "keys") == {"keys": ["kept"]}
    assert out(ex, "lenient") == {"value": "[]"}  # kv(): expired, no errorOnMissing → null
    assert states(ex)["read"] == "WARNING"  # FAILED (ResourceExpiredException), allowed
    assert error(ex, "read") == "The requested value has expired"
    assert out(ex, "after") == {"value": None}  # the failed read deleted it
    assert list(stored("company.team")) == ["kept"]


def test_ttl_must_not_be_negative(run_yaml):
    ex = run_yaml("""
id: negative
namespace: company.team
tasks:
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: k
    value: v
    ttl: "{{ '-PT1M' }}"
""")
    assert error(ex, "set") == "ttl cannot be negative"


def test_delete_and_get_keys(run_yaml):
    for key in ("test-key", "test-second-key", "another-key"):
        put("company.team", key, "value")
    ex = run_yaml("""
id: keys
namespace: company.team
tasks:
  - id: all
    type: io.kestra.plugin.core.kv.GetKeys
  - id: prefixed
    type: io.kestra.plugin.core.kv.GetKeys
    prefix: test
  - id: none
    type: io.kestra.plugin.core.kv.GetKeys
    namespace: company.empty
  - id: delete
    type: io.kestra.plugin.core.kv.Delete
    key: test-key
  - id: delete_again
    type: io.kestra.plugin.core.kv.Delete
    key: test-key
  - id: strict
    type: io.kestra.plugin.core.kv.Delete
    key: test-key
    errorOnMissing: true
""")
    assert out(ex, "all") == {"keys": ["another-key", "test-key", "test-second-key"]}
    assert out(ex, "prefixed") == {"keys": ["test-key", "test-second-key"]}
    assert out(ex, "none") == {"keys": []}
    assert out(ex, "delete") == {"deleted": True}
    assert out(ex, "delete_again") == {"deleted": False}
    assert error(ex, "strict") == (
        "No value found for key 'test-key' in namespace 'company.team' and `errorOnMissing` "
        "is set to true"
    )


def _purge_fixture():
    from kflow.kv import parse_ttl

    for ns in ("io.kestra.one", "io.kestra.two"):
        put(ns, "key_expired", "unused", ttl=parse_ttl("PT0S"))
        put(ns, "key", "unused", ttl=parse_ttl("PT1M"))
    put("io.kestra.two", "key2_never_expired", "unused")
    put("parent", "key_1", "unused")
    put("parent.child", "key_2", "unused")
    put("parentx", "not_found", "unused")


@pytest.mark.parametrize(
    ("props", "size", "left"),
    [
        ("", 2, {"io.kestra.one": ["key"], "io.kestra.two": ["key", "key2_never_expired"]}),
        ("behavior: {type: key, expiredOnly: false}\n    namespaces: [io.kestra.two]", 3,
         {"io.kestra.one": ["key", "key_expired"], "io.kestra.two": []}),
        ("expiredOnly: false\n    behavior: {type: key, expiredOnly: true}\n"
         "    namespaces: [parent]\n    includeChildNamespaces: false", 1,
         {"parent": [], "parent.child": ["key_2"], "parentx": ["not_found"]}),
        ("expiredOnly: false\n    namespaces: [parent]", 3,
         {"parent": [], "parent.child": [], "parentx": []}),
        ("expiredOnly: false\n    namespacePattern: '*arent*'\n    keyPattern: 'key_?'", 2,
         {"parent": [], "parent.child": [], "parentx": ["not_found"]}),
        ("behavior: {type: version, keepAmount: 1}", 0,
         {"io.kestra.two": ["key", "key2_never_expired", "key_expired"]}),
    ],
    ids=["expired-everywhere", "all-of-one", "no-children", "prefix-children", "patterns",
         "version"],
)  # fmt: skip
def test_purge_kv(run_yaml, props, size, left):
    _purge_fixture()
    ex = run_yaml(f"""
id: purge
namespace: system
tasks:
  - id: purge
    type: io.kestra.plugin.core.kv.PurgeKV
    {props}
""")
    assert out(ex, "purge") == {"size": size}, error(ex, "purge")
    with open_home() as home:
        for ns, keys in left.items():
            assert [r.key for r in home.store.kv_list(ns)] == keys, ns


def test_purge_kv_logs_and_refuses_both_namespace_filters(run_yaml):
    _purge_fixture()
    ex = run_yaml("""
id: purge
namespace: system
tasks:
  - id: ok
    type: io.kestra.plugin.core.kv.PurgeKV
    namespaces: [io.kestra.one]
  - id: both
    type: io.kestra.plugin.core.kv.PurgeKV
    namespaces: [io.kestra.one]
    namespacePattern: "io.*"
""")
    with open_home() as home:
        lines = [r.message for r in home.store.get_logs(ex.id, "ok")]
    assert "purging 1 namespaces: [io.kestra.one]" in lines
    assert "purged 1 keys" in lines
    assert error(ex, "both") == (
        "Properties `namespaces` and `namespacePattern` can't be used at the same time — use "
        "one or the other."
    )


def test_kv_type_literal_is_checked_at_load(write_flow):
    from kflow.api import load_flow
    from kflow.errors import FlowValidationError

    path = write_flow("""
id: badtype
namespace: company.team
tasks:
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: k
    value: v
    kvType: TEXT
""")
    with pytest.raises(FlowValidationError) as exc:
        load_flow(path)
    assert "kvType 'TEXT'" in str(exc.value.problems[0])
