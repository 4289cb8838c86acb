"""The FastAPI application of ``kflow serve`` (see :func:`create_app`).

Read-only by design: every endpoint is a GET that reads the store and the internal
storage of one kflow home through the engine's own interfaces (``ExecutionStore``,
``Storage``), so the API shows exactly what ``kflow outputs`` shows, encrypted values
masked the same way. Every request must carry the bearer token; every error, whoever
raises it (auth, routing, validation, the store, a bug), has one shape,
``{"code": ..., "detail": ...}``, so a client needs one error path.
"""

from __future__ import annotations

import logging
import mimetypes
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from pydantic import WithJsonSchema
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from kflow.cli.jsonout import dumps
from kflow.errors import KflowError, NotFoundError, StorageError, StoreError
from kflow.records import TaskRun
from kflow.secrets import mask_tree
from kflow.server.models import (
    ErrorDetail,
    FlowExecution,
    Status,
    TaskExecutionPage,
    TaskOutput,
    TaskOutputPage,
)
from kflow.storage.base import uri_path
from kflow.taskoutputs import OutputRecord, RecordQuery, record_id

if TYPE_CHECKING:
    from kflow.api import Home
    from kflow.store.base import ExecutionStore

log = logging.getLogger("kflow.server")

MAX_LIMIT = 1000
_CHUNK = 1 << 16


class JSONAnswer(JSONResponse):
    """JSON written as ``kflow ... --json`` writes it: always valid JSON (a NaN output is
    Jackson's string ``"NaN"``, where Starlette's JSONResponse would fail with a 500). A
    JSONResponse subclass, so FastAPI documents the response models in OpenAPI."""

    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")


class ApiError(Exception):
    """An error answer: HTTP status, snake_case code and one sentence (what, then how to
    fix it). Raised by the endpoints; turned into the error shape by one handler."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


def _error(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    return JSONAnswer({"code": code, "detail": detail}, status_code=status, headers=headers)


_UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Bearer realm="kflow"'}


class BearerAuth:
    """Pure ASGI middleware: every HTTP request, ``/openapi.json`` and unknown paths
    included, needs ``Authorization: Bearer <token>``. It runs before routing, so a caller
    without the token learns nothing, not even which paths exist. The comparison is
    ``secrets.compare_digest`` on bytes: its time does not tell how much of a guess was
    right, and a non-ASCII header cannot make it raise."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given: bytes | None = None
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                given = value
                break
        answer: Response | None = None
        if given is None:
            answer = _error(
                401, "unauthorized",
                "this request has no Authorization header; send "
                "'Authorization: Bearer <token>' with the token kflow serve printed at start",
                _UNAUTHORIZED_HEADERS,
            )  # fmt: skip
        else:
            scheme, _, credentials = given.strip().partition(b" ")
            if scheme.lower() != b"bearer" or not secrets.compare_digest(
                credentials.strip(), self._token
            ):
                answer = _error(
                    401, "unauthorized",
                    "the bearer token is wrong; send 'Authorization: Bearer <token>' with the "
                    "token kflow serve printed at start (or its --token / KFLOW_TOKEN)",
                    _UNAUTHORIZED_HEADERS,
                )  # fmt: skip
        if answer is not None:
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, send)


# ------------------------------------------------------------------ documents
def _record_doc(record: OutputRecord) -> dict[str, Any]:
    """A record as the API shows it: its ``to_dict``, encrypted values masked as
    ``kflow outputs --json`` masks them."""
    doc = record.to_dict()
    if doc["output"] is not None:
        doc["output"] = mask_tree(doc["output"])
    if doc["summary"]:
        doc["summary"] = mask_tree(doc["summary"])
    return doc


def _state_fields(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "start_date": state["startDate"],
        "end_date": state.get("endDate"),
        "duration": state.get("duration"),
    }


def _task_execution(record: OutputRecord, run: TaskRun | None) -> dict[str, Any]:
    """One task run for /task-executions, from its record (the index) and its stored run
    (state history, attempts, error, metrics). A run not found (a store written by an
    older kflow) is shown from its record alone."""
    doc: dict[str, Any] = {
        "id": record.taskrun_id,
        "task_output_id": record.id,
        "flow_execution_id": record.flow_execution_id,
        "namespace": record.namespace,
        "flow_id": record.flow_id,
        "task_name": record.task_name,
        "task_type": record.task_type,
        "parent_task_run_id": record.parent_taskrun_id,
        "iteration_value": record.iteration_value,
        "iteration_index": record.iteration_index,
        "status": record.status,
    }
    if run is None:
        doc.update(
            state=record.tags.get("state", ""), start_date=record.created_at, end_date=None,
            duration=None, state_history=[], attempts=[], error=None, metrics=[],
        )  # fmt: skip
        return doc
    state = run.state.to_dict()
    doc["state"] = state["current"]
    doc.update(_state_fields(state))
    doc["state_history"] = state["histories"]
    doc["attempts"] = [
        {"state": a["current"], **_state_fields(a)} for a in (x.to_dict() for x in run.attempts)
    ]
    doc["error"] = run.error
    doc["metrics"] = run.metrics
    return doc


def _instant(text: str | None, name: str) -> str | None:
    """An ISO date or date-time from a query parameter as the store's UTC instant text
    (a date is its midnight UTC; a time without offset is UTC). Always six fraction
    digits: the store compares instants as text, and its own have 0, 3 or 6 digits, so a
    bound with 6 digits orders right against all of them (``...12Z`` sorts after
    ``...12.5Z``, but ``...12.000000Z`` sorts before ``...12.500Z``)."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().upper())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ApiError(
            422, "validation_error",
            f"query parameter {name!r}: {text[:60]!r} is not an ISO date or date-time; "
            "write e.g. 2024-05-01 or 2024-05-01T12:00:00Z",
        ) from None  # fmt: skip
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _cursor_not_found(cursor: str, endpoint: str) -> ApiError:
    return ApiError(
        404, "cursor_not_found",
        f"starting_after {cursor[:80]!r} is not the id of an item of GET {endpoint}; pass the "
        "id of the last item of the previous page",
    )  # fmt: skip


# ------------------------------------------------------------------ task runs
class TaskRunCache:
    """Task runs by execution, for /task-executions.

    The store reads task runs an execution at a time (``get_taskruns``), not by id, so a
    page of 50 runs of a 10,000-run ForEach would read the whole execution for every
    page. Runs are kept here, per execution (LRU, bounded in runs), and read again when a
    record on the page changed after they were read (``updated_at``), or names a run not
    read yet. ``MARGIN`` covers a writer's lag: a change stamped before a read may be
    committed after it."""

    MARGIN = timedelta(seconds=10)

    def __init__(self, store: ExecutionStore, max_runs: int = 50_000) -> None:
        self._store = store
        self._max_runs = max_runs
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[datetime, dict[str, TaskRun]]] = OrderedDict()
        self._held = 0

    def runs(self, execution_id: str, records: list[OutputRecord]) -> dict[str, TaskRun]:
        """Task run id -> run, covering at least ``records`` (of ``execution_id``)."""
        with self._lock:
            entry = self._entries.get(execution_id)
            if entry is not None:
                self._entries.move_to_end(execution_id)
        if entry is not None and self._fresh(entry, records):
            return entry[1]
        read_at = datetime.now(UTC)
        runs = {r.id: r for r in self._store.get_taskruns(execution_id)}
        with self._lock:
            old = self._entries.pop(execution_id, None)
            if old is not None:
                self._held -= len(old[1])
            if len(runs) <= self._max_runs // 4:
                self._entries[execution_id] = (read_at, runs)
                self._held += len(runs)
                while self._held > self._max_runs and self._entries:
                    _, (_, dropped) = self._entries.popitem(last=False)
                    self._held -= len(dropped)
        return runs

    def _fresh(self, entry: tuple[datetime, dict[str, TaskRun]], records: list[OutputRecord]) -> bool:
        read_at, runs = entry
        limit = read_at - self.MARGIN
        for record in records:
            if record.taskrun_id not in runs:
                return False
            try:
                changed = datetime.fromisoformat(record.updated_at)
            except ValueError:
                return False
            if changed.tzinfo is None:
                changed = changed.replace(tzinfo=UTC)
            if changed >= limit:
                return False
        return True


# ------------------------------------------------------------------ the app
def _responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers of an endpoint, all in the error shape (401 and 500 always)."""
    texts = {
        400: "Malformed request (a URI outside the internal storage).",
        401: "Missing or wrong bearer token.",
        404: "Unknown id, cursor, file or path.",
        422: "A query parameter is missing or invalid.",
        500: "An error inside kflow (reported on the server's stderr).",
        503: "The execution store cannot be read.",
    }
    return {
        s: {"model": ErrorDetail, "description": texts[s]}
        for s in sorted({401, 500, 503, *statuses})
    }


# The date filters: a plain string in Python (parsed by _instant, which says what is
# wrong in the error shape), an ISO date or date-time in the OpenAPI document.
_DateParam = Annotated[
    str | None,
    WithJsonSchema(
        {"anyOf": [{"type": "string", "format": "date-time"},
                   {"type": "string", "format": "date"}, {"type": "null"}]}
    ),
]  # fmt: skip

_DESCRIPTION = """\
Read-only JSON API over a kflow home: task-output records, flow executions, task runs and
the files they stored. Every request needs `Authorization: Bearer <token>`. Every error
answer is `{"code": "<snake_case>", "detail": "<one sentence>"}`. Lists are newest first
and paged with `limit` and `starting_after` (the id of the last item of the previous page).
"""


def create_app(home: Home, token: str) -> FastAPI:
    """The API over ``home`` (its store and storage stay open while the app serves);
    every request must carry ``Authorization: Bearer <token>``. ``token`` must not be
    empty: ``kflow serve`` generates one when needed."""
    if not token:
        raise ValueError("create_app needs a non-empty token")
    from kflow import __version__

    store: ExecutionStore = home.store
    storage = home.storage
    taskruns = TaskRunCache(store)

    app = FastAPI(
        title="kflow",
        version=__version__,
        description=_DESCRIPTION,
        docs_url=None,  # Swagger UI and ReDoc load scripts from a CDN and cannot send the
        redoc_url=None,  # token: /openapi.json is what a client reads
        openapi_url="/openapi.json",
        default_response_class=JSONAnswer,
    )

    # -------------------------------------------------------------- errors
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return _error(exc.status, exc.code, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = list(exc.errors())
        first = problems[0] if problems else {}
        loc = [str(p) for p in first.get("loc", ())]
        where = f"{loc[0]} parameter {'.'.join(loc[1:])!r}" if len(loc) > 1 else "the request"
        detail = f"{where}: {first.get('msg', 'invalid value')}"
        if len(problems) > 1:
            detail += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
        return _error(422, "validation_error", detail + "; see /openapi.json for the parameters")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return _error(
                404, "not_found",
                f"there is no endpoint at {request.url.path[:100]}; the endpoints are listed "
                "in /openapi.json",
            )  # fmt: skip
        if exc.status_code == 405:
            return _error(
                405, "method_not_allowed",
                f"{request.method} is not allowed here: the API is read-only, use GET",
                {"Allow": "GET"},
            )  # fmt: skip
        try:
            phrase = HTTPStatus(exc.status_code).phrase
        except ValueError:
            phrase = "error"
        code = phrase.lower().replace(" ", "_").replace("-", "_")
        return _error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(KflowError)
    async def _kflow_error(request: Request, exc: KflowError) -> Response:
        hint = f"; {exc.hint}" if exc.hint else ""
        if isinstance(exc, StoreError):
            return _error(503, "store_unavailable", f"{exc}{hint}")
        log.error("kflow serve: %s %s failed: %s", request.method, request.url.path, exc)
        return _error(500, "internal_error", f"{exc}{hint}")

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        # Starlette logs the traceback after this answer is sent
        return _error(
            500, "internal_error",
            f"kflow failed on {request.method} {request.url.path[:100]} "
            f"({type(exc).__name__}); the traceback is on the server's stderr, please report it",
        )  # fmt: skip

    # -------------------------------------------------------------- task outputs
    @app.get(
        "/task-outputs",
        response_model=TaskOutputPage,
        responses=_responses(404, 422),
        summary="List task outputs",
        tags=["task outputs"],
    )
    def list_task_outputs(
        flow_execution_id: Annotated[
            str | None, Query(description="Only the outputs of this flow execution.")
        ] = None,
        task_name: Annotated[str | None, Query(description="Only the outputs of this task id.")] = None,
        status: Annotated[
            Status | None,
            Query(description="Only this status. Deleted outputs are left out unless asked."),
        ] = None,
        created_after: Annotated[
            _DateParam, Query(description="Created at or after this ISO date or date-time.")
        ] = None,
        created_before: Annotated[
            _DateParam, Query(description="Created before this ISO date or date-time.")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = 50,
        starting_after: Annotated[
            str | None,
            Query(description="The id of the last output of the previous page."),
        ] = None,
    ) -> Response:
        """Task outputs across the organization's flow executions, newest first."""
        query = RecordQuery(
            flow_execution_id=flow_execution_id,
            task_name=task_name,
            status=status,
            created_after=_instant(created_after, "created_after"),
            created_before=_instant(created_before, "created_before"),
            after=starting_after,
            limit=limit,
        )
        try:
            page = store.list_records(query)
        except NotFoundError:
            if starting_after is None:
                raise
            raise _cursor_not_found(starting_after, "/task-outputs") from None
        return JSONAnswer(
            {"data": [_record_doc(r) for r in page.records], "has_more": page.has_more}
        )

    @app.get(
        "/task-outputs/{id}",
        response_model=TaskOutput,
        responses=_responses(404, 422),
        summary="Get one task output",
        tags=["task outputs"],
    )
    def get_task_output(id: str) -> Response:
        """One task output by id, deleted ones included (with their status)."""
        try:
            record = store.get_record(id)
        except NotFoundError:
            raise ApiError(
                404, "record_not_found",
                f"no task output with id {id[:80]!r}; list them with GET /task-outputs",
            ) from None  # fmt: skip
        return JSONAnswer(_record_doc(record))

    # -------------------------------------------------------------- executions
    def _foreign(execution_id: str) -> bool:
        """True unless ``execution_id`` is, exactly, an execution of this organisation (the
        store's reads are scoped to it): the files of others' executions are not served."""
        try:
            return store.resolve_id(execution_id) != execution_id
        except NotFoundError:
            return True

    @app.get(
        "/flow-executions/{id}",
        response_model=FlowExecution,
        responses=_responses(404, 422),
        summary="Get one flow execution with its task outputs",
        tags=["flow executions"],
    )
    def get_flow_execution(id: str) -> Response:
        """The execution in Kestra's fields, with ``task_outputs``: its records, deleted
        ones included, in run order."""
        missing = ApiError(
            404, "execution_not_found",
            f"no flow execution with id {id[:80]!r}; give the full id (GET /task-outputs "
            "lists flow_execution_id)",
        )  # fmt: skip
        try:
            execution = store.get_execution(id)
        except NotFoundError:
            raise missing from None
        if execution.id != id:  # the store also resolves prefixes and "last": not here
            raise missing
        records = store.execution_records(execution.id)  # in run order
        doc = execution.to_dict(with_taskruns=False)
        doc["inputs"] = mask_tree(doc["inputs"])
        doc["outputs"] = mask_tree(doc["outputs"])
        doc["task_outputs"] = [_record_doc(r) for r in records]
        return JSONAnswer(doc)

    @app.get(
        "/task-executions",
        response_model=TaskExecutionPage,
        responses=_responses(404, 422),
        summary="List task runs",
        tags=["task executions"],
    )
    def list_task_executions(
        flow_execution_id: Annotated[
            str | None, Query(description="Only the runs of this flow execution.")
        ] = None,
        task_name: Annotated[str | None, Query(description="Only the runs of this task id.")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = 50,
        starting_after: Annotated[
            str | None,
            Query(description="The id of the last task run of the previous page."),
        ] = None,
    ) -> Response:
        """Task runs with their state, attempts and timings, newest first (each with the
        id of its task output)."""
        query = RecordQuery(
            flow_execution_id=flow_execution_id,
            task_name=task_name,
            after=None if starting_after is None else record_id(starting_after),
            limit=limit,
            include_deleted=True,  # the run happened: a deleted output does not hide it
        )
        try:
            page = store.list_records(query)
        except NotFoundError:
            if starting_after is None:
                raise
            raise _cursor_not_found(starting_after, "/task-executions") from None
        by_execution: dict[str, list[OutputRecord]] = {}
        for record in page.records:
            by_execution.setdefault(record.flow_execution_id, []).append(record)
        runs: dict[str, TaskRun] = {}
        for execution_id, records in by_execution.items():
            runs.update(taskruns.runs(execution_id, records))
        data = [_task_execution(r, runs.get(r.taskrun_id)) for r in page.records]
        return JSONAnswer({"data": data, "has_more": page.has_more})

    # -------------------------------------------------------------- files
    @app.get(
        "/files",
        response_class=StreamingResponse,
        responses={
            200: {
                "description": "The stored file, streamed.",
                "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                    "format": "binary"}}},
            },
            **_responses(400, 404, 422),
        },
        summary="Download a stored file",
        tags=["files"],
    )  # fmt: skip
    def get_file(
        uri: Annotated[
            str,
            Query(description="The kestra:/// URI of the file, as a task output shows it."),
        ],
    ) -> Response:
        """A file of the internal storage, streamed; its content type guessed from its
        name. A URI outside the storage root (``..``) or not ``kestra:///`` is refused."""
        try:
            path = uri_path(uri)
        except StorageError as exc:
            raise ApiError(400, "invalid_uri", _storage_detail(exc)) from None
        parts = path.split("/")
        for i, part in enumerate(parts[:-1]):
            # .../executions/<id>/...: the file of an execution, visible only to its
            # organisation (the storage itself is shared by the home's organisations)
            if part == "executions" and parts[i + 1]:
                eid = parts[i + 1]
                if _foreign(eid):
                    raise _file_not_found(uri)
        try:
            handle = storage.open(uri)
        except NotFoundError:
            raise _file_not_found(uri) from None
        except StorageError as exc:
            raise ApiError(400, "invalid_uri", _storage_detail(exc)) from None
        try:
            size = storage.size(uri)
        except KflowError:
            size = None
        name = path.rstrip("/").rsplit("/", 1)[-1] or "file"
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        headers = {
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": _attachment(name),
        }
        if size is not None:
            headers["Content-Length"] = str(size)
        return StreamingResponse(
            _chunks(handle), media_type=media_type, headers=headers,
            background=BackgroundTask(handle.close),
        )  # fmt: skip

    # -------------------------------------------------------------- OpenAPI
    def openapi() -> dict[str, Any]:
        """FastAPI's document, plus the bearer scheme every operation requires."""
        if app.openapi_schema is None:
            doc = get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes,
            )  # fmt: skip
            components = doc.setdefault("components", {})
            components.setdefault("securitySchemes", {})["bearerAuth"] = {
                "type": "http",
                "scheme": "bearer",
                "description": "The token kflow serve printed at start, or its --token.",
            }
            doc["security"] = [{"bearerAuth": []}]
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(BearerAuth, token=token)
    return app


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    """The file, a chunk at a time (Starlette runs this iterator in a worker thread)."""
    try:
        while chunk := handle.read(_CHUNK):
            yield chunk
    finally:
        handle.close()


def _storage_detail(exc: StorageError) -> str:
    return f"{exc}; {exc.hint}" if exc.hint else f"{exc}; give a kestra:/// URI a task output shows"


def _file_not_found(uri: str) -> ApiError:
    return ApiError(
        404, "file_not_found",
        f"no file in the internal storage at {uri[:200]}; the URIs are in the task outputs "
        "(GET /task-outputs)",
    )  # fmt: skip


def _attachment(name: str) -> str:
    """``Content-Disposition`` with an ASCII fallback and the RFC 5987 UTF-8 name."""
    from urllib.parse import quote

    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


__all__ = ["ApiError", "BearerAuth", "JSONAnswer", "TaskRunCache", "create_app"]
