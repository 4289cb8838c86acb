"""``io.kestra.plugin.core.http.Download``: streams a URL into internal storage."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import urllib.parse
from pathlib import Path
from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Prop, RunContext, Task
from kflow.tasks.http.common import HTTP_PROPERTIES, allow_failed, header_lists, send


class Download(Task):
    type = "io.kestra.plugin.core.http.Download"
    aliases = ("io.kestra.plugin.fs.http.Download",)
    properties = {**HTTP_PROPERTIES, "failOnEmptyResponse": Prop(default=True, kind="bool")}

    def run(self, ctx: RunContext) -> dict[str, Any]:
        response, uri = send(ctx, self.spec.props)
        path = urllib.parse.urlsplit(uri).path
        # Java's createTempFile: random digits + the URL's extension, or ".tmp"
        ext = os.path.splitext(path.rsplit("/", 1)[-1])[1] or ".tmp"
        workdir = ctx.working_dir()
        tmp = str(workdir / f"{secrets.randbelow(2**63)}{ext}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with response, os.fdopen(fd, "wb") as out:
            code = int(response.status if hasattr(response, "status") else response.code)
            headers = header_lists(response)
            shutil.copyfileobj(response, out, 1 << 20)
        length = Path(tmp).stat().st_size
        if code >= 400 and not allow_failed(ctx, self.spec.props):
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
        stored = ctx.put_file(Path(tmp), name)
        ctx.metric("response.length", "counter", length)
        return {"uri": stored, "code": code, "length": length, "headers": headers}
