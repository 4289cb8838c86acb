"""HTTP Request and Download against a local server on 127.0.0.1 (never the internet):
seed 002's flows and seed 000's preview example. Outputs as Kestra gives them: `code`,
`headers` (lists), `body` (a string, never parsed), `uri`/`length` for downloads."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from kflow.cli import app
from tests.conftest import by_task

runner = CliRunner()

EMPLOYEES_ION = (
    '{id:1,name:"Alice",department:"Sales",salary:52000.5e0}\n'
    '{id:2,name:"Bob",department:"IT",salary:61000e0}\n'
)


def test_request_outputs(httpserver, run_yaml):
    httpserver.expect_request("/products").respond_with_json({"products": [{"id": 1}]})
    ex = run_yaml(
        f"""
        id: req
        namespace: company.team
        tasks:
          - id: api
            type: io.kestra.plugin.core.http.Request
            uri: "{httpserver.url_for('/products')}"
          - id: log
            type: io.kestra.plugin.core.debug.Return
            format: "{{{{ outputs.api.code }}}} {{{{ outputs.api.body | jq('.products[0].id') | first }}}} {{{{ outputs.api.headers['content-type'] | first }}}}"
        """
    )
    api = by_task(ex, "api")[0].outputs
    assert api["code"] == 200
    assert json.loads(api["body"]) == {"products": [{"id": 1}]}
    assert api["headers"]["content-type"] == ["application/json"]
    assert by_task(ex, "log")[0].outputs == {"value": "200 1 application/json"}


def test_request_post_and_failure_codes(httpserver, run_yaml):
    httpserver.expect_request("/echo", method="POST", data='{"a": 1}').respond_with_data("ok")
    httpserver.expect_request("/missing").respond_with_data("nope", status=404)
    ex = run_yaml(
        f"""
        id: post
        namespace: company.team
        tasks:
          - id: send
            type: io.kestra.plugin.core.http.Request
            uri: "{httpserver.url_for('/echo')}"
            method: POST
            contentType: application/json
            body: '{{"a": 1}}'
          - id: allowed
            type: io.kestra.plugin.core.http.Request
            uri: "{httpserver.url_for('/missing')}"
            allowFailed: true
          - id: refused
            type: io.kestra.plugin.core.http.Request
            uri: "{httpserver.url_for('/missing')}"
        """
    )
    assert by_task(ex, "send")[0].outputs["body"] == "ok"
    assert by_task(ex, "allowed")[0].outputs["code"] == 404
    refused = by_task(ex, "refused")[0]
    assert refused.state.current.value == "FAILED"
    assert "404" in refused.error


def test_seed_002_uri_input_and_status_code(httpserver, write_flow):
    httpserver.expect_request("/").respond_with_data("<html>kestra</html>", content_type="text/html")
    # seed 002, unchanged; the URI input points to the local server
    path = write_flow(
        """
        id: myflow
        namespace: company.team

        inputs:
          - id: uri
            type: URI
            defaults: https://kestra.io

        tasks:
          - id: make_request
            type: io.kestra.plugin.fs.http.Request
            uri: "{{ inputs.uri }}"

          - id: log_status_code
            type: io.kestra.plugin.core.log.Log
            message: "Status Code: {{ outputs.make_request.code }}"
        """
    )
    local = f"http://127.0.0.1:{httpserver.port}/"  # a host without a dot is refused, as in Kestra
    result = runner.invoke(app, ["run", str(path), "-i", f"uri={local}", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["taskRunList"][0]["outputs"]["code"] == 200
    logs = runner.invoke(app, ["logs", doc["id"]]).stdout
    assert "Status Code: 200" in logs


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("employees.ion", EMPLOYEES_ION, ["Alice", "Sales", "Bob", "61000"]),
        ("orders.csv", "id,item\n1,apple\n2,pear\n", ["item", "apple", "pear"]),
    ],
)
def test_download_and_preview(httpserver, write_flow, name, content, expected):
    httpserver.expect_request(f"/datasets/{name}").respond_with_data(content)
    # seed 000 'Outputs preview' flow, with a local URL
    path = write_flow(
        f"""
        id: get_employees
        namespace: company.team

        tasks:
          - id: download
            type: io.kestra.plugin.core.http.Download
            uri: {httpserver.url_for(f'/datasets/{name}')}
        """
    )
    result = runner.invoke(app, ["run", str(path), "--json"])
    doc = json.loads(result.stdout)
    out = doc["taskRunList"][0]["outputs"]
    assert out["code"] == 200 and out["length"] == len(content)
    assert out["uri"].startswith(
        f"kestra:///company/team/get-employees/executions/{doc['id']}/tasks/download/"
    )
    assert out["uri"].endswith(name.rsplit(".", 1)[1])
    preview = runner.invoke(app, ["preview", out["uri"]])
    assert preview.exit_code == 0, preview.output
    for needle in expected:
        assert needle in preview.stdout


def test_unreachable_host_fails_cleanly(run_yaml):
    ex = run_yaml(
        """
        id: down
        namespace: company.team
        tasks:
          - id: api
            type: io.kestra.plugin.core.http.Request
            uri: http://127.0.0.1:9/nothing
        """
    )
    api = by_task(ex, "api")[0]
    assert api.state.current.value == "FAILED" and "cannot reach" in api.error


def test_download_names_like_kestra(httpserver, run_yaml):
    # Download.java: no extension -> <digits>.tmp; Content-Disposition name URL-encoded
    httpserver.expect_request("/noext").respond_with_data("x")
    httpserver.expect_request("/report").respond_with_data(
        "a,b\n", headers={"Content-Disposition": 'attachment; filename="my report.csv"'}
    )
    ex = run_yaml(
        f"""
        id: names
        namespace: company.team
        tasks:
          - {{id: a, type: io.kestra.plugin.core.http.Download, uri: "{httpserver.url_for('/noext')}"}}
          - {{id: b, type: io.kestra.plugin.core.http.Download, uri: "{httpserver.url_for('/report')}"}}
        """
    )
    import re

    assert re.search(r"/\d+\.tmp$", by_task(ex, "a")[0].outputs["uri"])
    assert by_task(ex, "b")[0].outputs["uri"].endswith("/my+report.csv")
