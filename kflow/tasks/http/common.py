"""What Request and Download share: rendering the request and sending it (stdlib urllib,
so no extra dependency is needed for plain HTTP calls)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from kflow.errors import TaskError
from kflow.java.duration import parse_duration
from kflow.tasks.base import Prop, RunContext, SubKey

_PROXY = (
    "kflow does not send requests through a proxy; remove the proxy settings (the request "
    "then goes out directly) or run the flow in Kestra"
)
_SSL = (
    "kflow does not apply TLS options: it always verifies certificates against the system's "
    "CA store; remove the TLS options or run the flow in Kestra"
)
_LOGS = "kflow does not log HTTP requests and responses"

# ``options`` (Kestra's HttpConfiguration), including the deprecated flat names Kestra
# still accepts. A key not listed here is refused by name, as Kestra refuses it.
HTTP_OPTIONS: dict[str, SubKey] = {
    "timeout": SubKey(keys={"connectTimeout": SubKey(), "readIdleTimeout": SubKey()}),
    "connectTimeout": SubKey(),
    "readTimeout": SubKey(),
    "readIdleTimeout": SubKey(),  # Kestra ignores it too (deprecated, no equivalent)
    "connectionPoolIdleTimeout": SubKey(),  # likewise
    "maxContentLength": SubKey(),  # likewise
    "enabledTcpExtendedKeepAlive": SubKey(),  # a socket setting: no effect on results
    "followRedirects": SubKey(),
    "allowFailed": SubKey(),
    "allowedResponseCodes": SubKey(),
    "defaultCharset": SubKey(
        allowed=("UTF-8", "UTF8"),
        refused="kflow sends and reads HTTP bodies as UTF-8 only",
    ),
    "auth": SubKey(
        keys={
            "type": SubKey(
                allowed=("BASIC", "BEARER"),
                refused="kflow implements BASIC and BEARER authentication only",
            ),
            "username": SubKey(),
            "password": SubKey(),
            "token": SubKey(),
        }
    ),
    "basicAuthUser": SubKey(),
    "basicAuthPassword": SubKey(),
    "proxy": SubKey(refused=_PROXY),
    "proxyType": SubKey(refused=_PROXY),
    "proxyAddress": SubKey(refused=_PROXY),
    "proxyPort": SubKey(refused=_PROXY),
    "proxyUsername": SubKey(refused=_PROXY),
    "proxyPassword": SubKey(refused=_PROXY),
    "ssl": SubKey(refused=_SSL),
    "logs": SubKey(ignored=_LOGS),
    "logLevel": SubKey(ignored=_LOGS),
}

HTTP_PROPERTIES: dict[str, Prop] = {
    "uri": Prop(required=True, kind="string"),
    "method": Prop(default="GET", kind="string"),
    "body": Prop(kind="string"),
    "formData": Prop(kind="map"),
    "contentType": Prop(kind="string"),
    "headers": Prop(kind="map"),
    "options": Prop(kind="map", keys=HTTP_OPTIONS),
    "sslOptions": Prop(kind="map", refused=_SSL),
    "allowFailed": Prop(default=False, kind="bool"),
    "encryptBody": Prop(default=False, kind="bool"),
}


def check_http(spec: Any) -> list[str]:
    """Load-time checks shared by Request and Download."""
    props = spec.props
    content_type = props.get("contentType")
    if (
        props.get("formData")
        and isinstance(content_type, str)
        and content_type.strip().lower().startswith("multipart/form-data")
    ):
        return [
            "'formData' with contentType multipart/form-data (file uploads) is not supported "
            "by kflow: it sends form data URL-encoded only"
        ]
    return []


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
    if not isinstance(options, Mapping):
        raise TaskError(f"'options' must render to a mapping, got {options!r}")
    refused = sorted(k for k in options if k in HTTP_OPTIONS and HTTP_OPTIONS[k].refused)
    if refused:  # written as an expression, so not caught at load
        raise TaskError(f"options.{refused[0]}: {HTTP_OPTIONS[refused[0]].refused}")
    timeout = 10.0
    timeouts = options.get("timeout") or {}
    read_timeout = timeouts.get("readIdleTimeout") or options.get("readTimeout")
    connect_timeout = timeouts.get("connectTimeout") or options.get("connectTimeout")
    # urllib has one timeout for connecting and for each read
    if read_timeout or connect_timeout:
        timeout = parse_duration(str(read_timeout or connect_timeout)) or timeout
    auth = options.get("auth") or {}
    auth_type = str(auth.get("type", "")).upper()
    if auth_type not in ("", "BASIC", "BEARER"):
        raise TaskError(f"options.auth.type {auth_type}: kflow implements BASIC and BEARER only")
    bearer = auth_type == "BEARER"
    if bearer:  # BearerAuthConfiguration: the header is set whatever the headers say
        headers["Authorization"] = f"Bearer {auth.get('token') or ''}"
    user = None if bearer else options.get("basicAuthUser") or auth.get("username")
    if user:
        import base64

        password = options.get("basicAuthPassword") or auth.get("password") or ""
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    request = urllib.request.Request(uri, data=data, headers=headers, method=method)
    handlers: list[Any] = []
    if str(options.get("followRedirects", True)).lower() == "false":
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


def status_allowed(ctx: RunContext, props: Mapping[str, Any], code: int) -> bool:
    """Kestra's HttpClient rule: a non-empty ``options.allowedResponseCodes`` lists the only
    codes accepted; otherwise ``allowFailed`` accepts every code, else codes below 400."""
    options = props.get("options") or {}
    codes = options.get("allowedResponseCodes")
    if codes is not None:
        rendered = ctx.render_typed(codes) if isinstance(codes, str) else ctx.render(codes)
        if isinstance(rendered, str):
            try:
                rendered = json.loads(rendered)
            except ValueError:
                rendered = [rendered]
        if not isinstance(rendered, list):
            rendered = [rendered]
        try:
            allowed = {int(str(c)) for c in rendered if c is not None}
        except ValueError:
            raise TaskError(
                f"options.allowedResponseCodes must be a list of HTTP status codes, got {rendered!r}"
            ) from None
        if allowed:
            return code in allowed
    return allow_failed(ctx, props) or code < 400


def header_lists(response: Any) -> dict[str, list[str]]:
    """Response headers as Kestra gives them: lower-case name → list of values."""
    out: dict[str, list[str]] = {}
    for key, value in response.headers.items():
        out.setdefault(key.lower(), []).append(value)
    return out


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def http_summary(outputs: Mapping[str, Any], duration_ms: float) -> dict[str, Any]:
    """The record summary of an HTTP task: the status code and how long the request took."""
    return {"status_code": outputs.get("code"), "response_time_ms": round(duration_ms)}
