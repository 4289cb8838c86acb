"""``io.kestra.plugin.core.http.Download``: streams a URL into internal storage."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.http.common import (
    HTTP_PROPERTIES,
    check_http,
    header_lists,
    http_summary,
    send,
    status_allowed,
)

# Most file systems refuse a file name over 255 bytes; a longer name from a URL, a
# Content-Disposition header or ``saveAs`` is shortened (its extension kept).
MAX_NAME_BYTES = 255
# An extension longer than this is not one (Java's createTempFile would fail on it).
_MAX_EXT = 32


class Download(Task):
    type = "io.kestra.plugin.core.http.Download"
    aliases = ("io.kestra.plugin.fs.http.Download",)
    outputs = {
        "uri": Output("URI", "kestra:/// URI of the stored response body"),
        "code": Output("INTEGER", "HTTP status code"),
        "length": Output("LONG", "Bytes received"),
        "headers": Output("MAP", "Response headers, name → list of values", dynamic=True),
    }
    properties = {
        **HTTP_PROPERTIES,
        "failOnEmptyResponse": Prop(default=True, kind="bool"),
        "saveAs": Prop(
            kind="string",
            doc="The stored file's name (wins over the Content-Disposition header's)",
        ),
    }

    @classmethod
    def check(cls, spec: Any) -> list[str]:
        return check_http(spec)

    def summary(self, outputs: Mapping[str, Any], duration_ms: float) -> dict[str, Any]:
        return http_summary(outputs, duration_ms)

    def run(self, ctx: RunContext) -> dict[str, Any]:
        response, uri = send(ctx, self.spec.props)
        path = urllib.parse.urlsplit(uri).path
        # Java's createTempFile: random digits + the URL's extension, or ".tmp"
        ext = os.path.splitext(path.rsplit("/", 1)[-1])[1]
        if not ext or len(ext) > _MAX_EXT or not re.fullmatch(r"\.[\w.-]+", ext):
            ext = ".tmp"
        workdir = ctx.working_dir()
        tmp = str(workdir / f"{secrets.randbelow(2**63)}{ext}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with response, os.fdopen(fd, "wb") as out:
            code = int(response.status if hasattr(response, "status") else response.code)
            headers = header_lists(response)
            shutil.copyfileobj(response, out, 1 << 20)
        length = Path(tmp).stat().st_size
        if not status_allowed(ctx, self.spec.props, code):
            raise TaskError(f"Failed http request with response code '{code}' for {uri}")
        options = self.prop("options") or {}
        options_allow_failed = str(ctx.render(options.get("allowFailed", False))).lower() == "true"
        # Download.java fails an empty body only when options.allowFailed is false
        fail_on_empty = str(self.prop("failOnEmptyResponse")).lower() != "false"
        if length == 0 and fail_on_empty and not options_allow_failed:
            raise TaskError(f"No response from server {uri} (empty body)",
                            hint="set failOnEmptyResponse: false to accept an empty file")  # fmt: skip
        name = Path(tmp).name
        disposition = (headers.get("content-disposition") or [""])[0]
        m = re.search(r'filename\*?=(?:[^\']*\'[^\']*\')?"?([^";]+)"?', disposition)
        if m:
            # Kestra stores the header's file name URL-encoded (URLEncoder: space -> '+')
            name = urllib.parse.quote_plus(os.path.basename(urllib.parse.unquote(m.group(1))))
        save_as = self.prop("saveAs")
        if save_as is not None:
            wanted = os.path.basename(str(ctx.render(save_as)).strip())
            if wanted in ("", ".", ".."):
                raise TaskError(f"saveAs {save_as!r} is not a file name",
                                hint="give a name such as data.csv")  # fmt: skip
            name = wanted
        if name in (".", ".."):
            name = Path(tmp).name
        try:
            stored = ctx.put_file(Path(tmp), shorten_name(name))
        except OSError as exc:
            raise TaskError(
                f"cannot store the downloaded file as {cut(name)!r}: {exc.strerror}"
            ) from exc
        ctx.metric("response.length", "counter", length)
        return {"uri": stored, "code": code, "length": length, "headers": headers}


def shorten_name(name: str, limit: int = MAX_NAME_BYTES) -> str:
    """``name`` cut to at most ``limit`` UTF-8 bytes, its extension kept when it is short."""
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, ext = os.path.splitext(name)
    if len(ext.encode("utf-8")) > _MAX_EXT:
        stem, ext = name, ""
    budget = limit - len(ext.encode("utf-8"))
    cut_stem = stem.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return cut_stem + ext


def cut(text: str, size: int = 80) -> str:
    """A long text shortened for a message."""
    return text if len(text) <= size else text[: size - 3] + "..."
