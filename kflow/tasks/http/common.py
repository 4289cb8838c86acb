"""What Request and Download share: rendering the request and sending it (stdlib urllib,
so no extra dependency is needed for plain HTTP calls)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from kflow.durations import parse_duration
from kflow.errors import TaskError
from kflow.tasks.base import Prop, RunContext

HTTP_PROPERTIES: dict[str, Prop] = {
    "uri": Prop(required=True, kind="string"),
    "method": Prop(default="GET", kind="string"),
    "body": Prop(kind="string"),
    "formData": Prop(kind="map"),
    "contentType": Prop(kind="string"),
    "headers": Prop(kind="map"),
    "options": Prop(kind="map"),
    "sslOptions": Prop(kind="map"),
    "allowFailed": Prop(default=False, kind="bool"),
    "encryptBody": Prop(default=False, kind="bool"),
}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def send(ctx: RunContext, props: Mapping[str, Any]) -> tuple[Any, str]:
    """Send the rendered request; returns (response-like object, url). Status >= 400 is
    returned too (the caller decides with ``allowFailed``)."""
    uri = str(ctx.render(props.get("uri")))
    method = str(ctx.render(props.get("method") or "GET")).upper()
    headers = {str(k): str(v) for k, v in (ctx.render(props.get("headers") or {})).items()}
    options = ctx.render(props.get("options") or {})
    content_type = props.get("contentType")
    data: bytes | None = None
    form = props.get("formData")
    if form:
        rendered = ctx.render(form)
        data = urllib.parse.urlencode({k: _text(v) for k, v in rendered.items()}).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif props.get("body") is not None:
        body = ctx.render(props["body"])
        data = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
    if content_type:
        headers["Content-Type"] = str(ctx.render(content_type))
    if urllib.parse.urlsplit(uri).scheme not in ("http", "https"):
        raise TaskError(f"'uri' must be an http(s) URL, got {uri!r}")
    timeout = 10.0
    read_timeout = (options.get("timeout") or {}).get("readIdleTimeout") or options.get("readTimeout")
    if read_timeout:
        timeout = parse_duration(str(read_timeout)) or timeout
    user = options.get("basicAuthUser") or (options.get("auth") or {}).get("username")
    if user:
        import base64

        password = options.get("basicAuthPassword") or (options.get("auth") or {}).get("password") or ""
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    request = urllib.request.Request(uri, data=data, headers=headers, method=method)
    handlers: list[Any] = []
    if options.get("followRedirects") is False:
        handlers.append(_NoRedirect())
    opener = urllib.request.build_opener(*handlers)
    try:
        return opener.open(request, timeout=timeout), uri
    except urllib.error.HTTPError as exc:
        return exc, uri
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TaskError(f"cannot reach {uri}: {reason}") from exc


def allow_failed(ctx: RunContext, props: Mapping[str, Any]) -> bool:
    options = props.get("options") or {}
    value = props.get("allowFailed", options.get("allowFailed", False))
    return str(ctx.render(value)).lower() == "true" if value is not None else False


def header_lists(response: Any) -> dict[str, list[str]]:
    """Response headers as Kestra gives them: lower-case name → list of values."""
    out: dict[str, list[str]] = {}
    for key, value in response.headers.items():
        out.setdefault(key.lower(), []).append(value)
    return out


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
