"""Real flows that validated wrongly: options kflow does not honour are refused by name at
their line; documented properties (Download ``saveAs``) accepted; one error per unknown
child type; suggestions only when really close; ``extend:`` explained."""

from __future__ import annotations

import gc
import textwrap

import pytest

from kflow.errors import FlowValidationError
from kflow.flow.validate import parse_flow
from tests.conftest import by_task


def problems(text: str) -> list[str]:
    with pytest.raises(FlowValidationError) as info:
        parse_flow(textwrap.dedent(text), "flow.yml")
    return [str(p) for p in info.value.problems]


def hints(text: str) -> list[str | None]:
    with pytest.raises(FlowValidationError) as info:
        parse_flow(textwrap.dedent(text), "flow.yml")
    return [p.hint for p in info.value.problems]


def http_task(extra: str, kind: str = "Request") -> str:
    body = textwrap.indent(textwrap.dedent(extra).strip("\n"), "    ")
    return (
        "id: f\nnamespace: company.team\ntasks:\n  - id: call\n"
        f"    type: io.kestra.plugin.core.http.{kind}\n    uri: http://127.0.0.1:1/x\n{body}\n"
    )


# --------------------------------------------------------------------------- refused options


@pytest.mark.parametrize(
    ("extra", "where", "what"),
    [
        ("sslOptions:\n  insecureTrustAllCertificates: true", "flow.yml:7:5", "'sslOptions'"),
        (
            "options:\n  ssl:\n    insecureTrustAllCertificates: true",
            "flow.yml:8:7",
            "'options.ssl'",
        ),
        ("options:\n  proxy:\n    address: proxy.local", "flow.yml:8:7", "'options.proxy'"),
        (
            "options:\n  proxyAddress: proxy.local\n  proxyPort: 3128",
            "flow.yml:8:7",
            "'options.proxyAddress'",
        ),
        ("options:\n  auth:\n    type: DIGEST", "flow.yml:9:9", "options.auth.type 'DIGEST'"),
        ("options:\n  defaultCharset: ISO-8859-1", "flow.yml:8:7", "options.defaultCharset"),
    ],
)
def test_options_kflow_does_not_honour_are_refused_at_their_line(extra, where, what):
    found = problems(http_task(extra))
    assert found[0].startswith(f"{where}: task 'call': {what}")
    assert "not supported by kflow" in found[0]


def test_refused_options_on_download_too():
    (found,) = problems(http_task("sslOptions: {insecureTrustAllCertificates: false}", "Download"))
    assert "'sslOptions' is not supported by kflow" in found


def test_honoured_options_are_accepted():
    flow = parse_flow(
        http_task(
            """
            allowFailed: true
            options:
              timeout: {connectTimeout: PT5S, readIdleTimeout: PT10S}
              followRedirects: false
              allowedResponseCodes: [200, 404]
              defaultCharset: UTF-8
              auth: {type: BEARER, token: abc}
            """
        )
    )
    assert flow.warnings == ()


def test_an_expression_is_not_refused_at_load():
    parse_flow(http_task('options:\n  defaultCharset: "{{ vars.cs }}"'))


def test_unknown_option_key_refused_with_a_close_suggestion():
    (found,) = problems(http_task("options:\n  folowRedirects: false"))
    assert found.startswith("flow.yml:8:7: task 'call': unknown key 'folowRedirects' in 'options'")
    (hint,) = hints(http_task("options:\n  folowRedirects: false"))
    assert hint == "did you mean 'followRedirects'?"


def test_multipart_form_data_is_refused():
    (found,) = problems(
        http_task("contentType: multipart/form-data\nformData:\n  file: kestra:///a.txt")
    )
    assert "multipart/form-data" in found and "not supported by kflow" in found


@pytest.mark.parametrize(("value", "ok"), [("LINUX", True), ("AUTO", True), ("WINDOWS", False)])
def test_script_target_os(value, ok):
    text = (
        "id: f\nnamespace: n\ntasks:\n  - id: sh\n    type: io.kestra.plugin.scripts.shell.Commands\n"
        f"    targetOS: {value}\n    commands: [echo hi]\n"
    )
    if ok:
        parse_flow(text)
    else:
        (found,) = problems(text)
        assert found.startswith(
            "flow.yml:6:5: task 'sh': targetOS 'WINDOWS' is not supported by kflow"
        )


# --------------------------------------------------------------------------- HTTP behaviour


def test_download_save_as_names_the_stored_file(httpserver, run_yaml):
    httpserver.expect_request("/data").respond_with_data(
        "a,b\n", headers={"Content-Disposition": 'attachment; filename="server.csv"'}
    )
    ex = run_yaml(
        f"""
        id: dl
        namespace: company.team
        tasks:
          - id: get
            type: io.kestra.plugin.core.http.Download
            uri: "{httpserver.url_for("/data")}"
            saveAs: "{{{{ 'orders' }}}}.csv"
        """
    )
    (run,) = by_task(ex, "get")
    assert run.state.current.value == "SUCCESS"
    assert run.outputs["uri"].endswith("/orders.csv")


def test_download_with_a_5000_character_file_name_keeps_a_shortened_name(httpserver, run_yaml):
    long_name = "x" * 5000 + ".csv"
    httpserver.expect_request("/f").respond_with_data(
        "a\n", headers={"Content-Disposition": f'attachment; filename="{long_name}"'}
    )
    httpserver.expect_request("/" + "e" * 10 + "." + "y" * 5000).respond_with_data("b\n")
    ex = run_yaml(
        f"""
        id: dl
        namespace: company.team
        tasks:
          - id: header
            type: io.kestra.plugin.core.http.Download
            uri: "{httpserver.url_for("/f")}"
          - id: extension
            type: io.kestra.plugin.core.http.Download
            uri: "{httpserver.url_for("/" + "e" * 10 + "." + "y" * 5000)}"
        """
    )
    assert ex.state.current.value == "SUCCESS"
    name = by_task(ex, "header")[0].outputs["uri"].rsplit("/", 1)[-1]
    assert name.endswith(".csv") and name.startswith("xxx") and len(name.encode()) <= 255
    assert by_task(ex, "extension")[0].outputs["uri"].endswith(".tmp")


def test_bearer_auth_and_allowed_response_codes(httpserver, run_yaml):
    httpserver.expect_request("/secure", headers={"Authorization": "Bearer t0k"}).respond_with_data(
        "gone", status=410
    )
    httpserver.expect_request("/ok").respond_with_data("fine")
    ex = run_yaml(
        f"""
        id: auth
        namespace: company.team
        tasks:
          - id: allowed
            type: io.kestra.plugin.core.http.Request
            uri: "{httpserver.url_for("/secure")}"
            options:
              auth: {{type: BEARER, token: t0k}}
              allowedResponseCodes: [410]
          - id: not_listed
            type: io.kestra.plugin.core.http.Request
            uri: "{httpserver.url_for("/ok")}"
            options:
              allowedResponseCodes: [201]
        """
    )
    assert by_task(ex, "allowed")[0].state.current.value == "SUCCESS"
    assert by_task(ex, "allowed")[0].outputs["code"] == 410
    assert by_task(ex, "not_listed")[0].state.current.value == "FAILED"


# --------------------------------------------------------------------------- task types


@pytest.mark.parametrize(
    "flowable",
    [
        "type: io.kestra.plugin.core.flow.Parallel\n    tasks:",
        "type: io.kestra.plugin.core.flow.If\n    condition: 'true'\n    then:",
        "type: io.kestra.plugin.core.flow.Switch\n    value: a\n    defaults:",
        "type: io.kestra.plugin.core.flow.Sequential\n    tasks:",
    ],
)
def test_unknown_child_types_give_one_error_each_and_nothing_else(flowable):
    text = (
        f"id: f\nnamespace: n\ntasks:\n  - id: block\n    {flowable}\n"
        "      - id: a\n        type: io.kestra.plugin.airbyte.connections.Sync\n"
        "      - id: b\n        type: io.kestra.plugin.fivetran.connectors.Sync\n"
    )
    found = problems(text)
    assert len(found) == 2, found
    assert "task 'a'" in found[0] and "task 'b'" in found[1]
    assert not any("must not be empty" in p or "No task defined" in p for p in found)


def test_a_really_empty_parallel_is_still_refused():
    (found,) = problems(
        "id: f\nnamespace: n\ntasks:\n  - id: p\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks: []\n"
    )
    assert "'tasks' must not be empty" in found


def test_an_unshipped_plugin_is_named_without_unrelated_suggestions():
    text = "id: f\nnamespace: n\ntasks:\n  - id: sync\n    type: io.kestra.plugin.airbyte.connections.Sync\n"
    (found,) = problems(text)
    assert found == (
        "flow.yml:5:5: task 'sync' has type io.kestra.plugin.airbyte.connections.Sync, "
        "from the Kestra plugin io.kestra.plugin.airbyte, which kflow does not ship"
    )
    (hint,) = hints(text)
    assert hint is not None and "did you mean" not in hint and "kflow plugins" in hint


@pytest.mark.parametrize(
    ("written", "suggested"),
    [
        ("io.kestra.plugin.core.log.Logg", "io.kestra.plugin.core.log.Log"),
        ("io.kestra.plugin.core.flow.Paralel", "io.kestra.plugin.core.flow.Parallel"),
        ("io.kestra.plugin.scripts.shell.Command", "io.kestra.plugin.scripts.shell.Commands"),
        ("io.kestra.plugin.core.flow.Log", "io.kestra.plugin.core.log.Log"),
        ("io.kestra.plugin.core.debug.retrun", "io.kestra.plugin.core.debug.Return"),
    ],
)
def test_typos_of_known_types_get_one_close_suggestion(written, suggested):
    (hint,) = hints(f"id: f\nnamespace: n\ntasks:\n  - id: t\n    type: {written}\n")
    assert hint is not None and hint.startswith(f"did you mean {suggested}? (")


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("io.kestra.plugin.core.templating.TemplatedTask", "a Kestra core task not supported by kflow"),
        ("io.kestra.plugin.core.metric.PurgeMetrics", "a Kestra core task not supported by kflow"),
        (
            "io.kestra.plugin.scripts.node.Script",
            "from the Kestra plugin io.kestra.plugin.scripts.node",
        ),
        (
            "io.kestra.plugin.jdbc.postgresql.Query",
            "from the Kestra plugin io.kestra.plugin.jdbc.postgresql",
        ),
        ("com.example.tasks.Hello", "no installed kflow plugin provides it"),
    ],
)
def test_real_other_types_are_not_mistaken_for_typos(written, says):
    text = f"id: f\nnamespace: n\ntasks:\n  - id: t\n    type: {written}\n"
    (found,) = problems(text)
    assert says in found
    (hint,) = hints(text)
    assert hint is not None and "did you mean" not in hint


def test_property_suggestions_only_when_close():
    text = "id: f\nnamespace: n\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    mesage: m\n    message: m\n    zzz: 1\n"
    assert hints(text) == ["did you mean 'message'?", "remove it; see the task's docs"]


def test_top_level_extend_is_refused_with_what_it_is(write_flow, cli):
    path = write_flow(
        """
        id: hello
        namespace: company.team
        tasks:
          - id: t
            type: io.kestra.plugin.core.log.Log
            message: hi
        extend:
          title: Hello world
          tags: [Getting Started]
        """
    )
    proc = cli("validate", str(path))
    assert proc.returncode == 2
    assert f"{path}:7:1: 'extend' is not a flow property" in proc.stderr
    assert "blueprint" in proc.stderr and "remove the 'extend:' block" in proc.stderr
    assert "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- big flows


def test_loading_pauses_the_cycle_collector_and_restores_it():
    """Big flows load in linear time because the collector does not rescan the growing
    heap while the flow is built; its state is restored afterwards, also on errors."""
    text = "id: f\nnamespace: n\ntasks:\n" + "".join(
        f"  - id: t{i}\n    type: io.kestra.plugin.core.log.Log\n    message: m{i}\n"
        for i in range(200)
    )
    assert gc.isenabled()
    assert len(parse_flow(text).tasks) == 200
    assert gc.isenabled()
    with pytest.raises(FlowValidationError):
        parse_flow(text.replace("namespace: n", "namespace: N"))
    assert gc.isenabled()
    gc.disable()
    try:
        parse_flow(text)
        assert not gc.isenabled()
    finally:
        gc.enable()
