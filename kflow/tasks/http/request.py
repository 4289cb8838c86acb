"""``io.kestra.plugin.core.http.Request``: one HTTP call; the body is a string output."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Output, RunContext, Task
from kflow.tasks.http.common import (
    HTTP_PROPERTIES,
    check_http,
    header_lists,
    http_summary,
    send,
    status_allowed,
)


class Request(Task):
    type = "io.kestra.plugin.core.http.Request"
    aliases = ("io.kestra.plugin.fs.http.Request",)
    outputs = {
        "uri": Output("URI", "The request URL"),
        "code": Output("INTEGER", "HTTP status code"),
        "headers": Output("MAP", "Response headers, name → list of values", dynamic=True),
        "body": Output("STRING", "The response body as text; absent when empty or encrypted"),
        "encryptedBody": Output("OBJECT", "The body, encrypted (with `encryptBody: true`)"),
        "formData": Output("MAP", "Declared by Kestra, never filled", dynamic=True),
    }
    properties = HTTP_PROPERTIES

    @classmethod
    def check(cls, spec: Any) -> list[str]:
        return check_http(spec)

    def summary(self, outputs: Mapping[str, Any], duration_ms: float) -> dict[str, Any]:
        return http_summary(outputs, duration_ms)

    def run(self, ctx: RunContext) -> dict[str, Any]:
        response, uri = send(ctx, self.spec.props)
        with response:
            raw = response.read()
            code = int(response.status if hasattr(response, "status") else response.code)
            headers = header_lists(response)
        ctx.metric("response.length", "counter", len(raw))
        outputs: dict[str, Any] = {"uri": uri, "code": code, "headers": headers}
        if raw:
            body = raw.decode("utf-8", errors="replace")
            if self.prop("encryptBody") is True:
                from kflow.secrets import encrypt

                outputs["encryptedBody"] = encrypt(body)
            else:
                outputs["body"] = body
        if not status_allowed(ctx, self.spec.props, code):
            raise TaskError(
                f"Failed http request with response code '{code}' for {uri}",
                outputs=outputs,
                hint="set allowFailed: true to keep going on HTTP errors",
            )
        return outputs
