"""``io.kestra.plugin.jdbc.duckdb.Query``: SQL over local files with an embedded DuckDB.

One run, in Kestra's order (reference §3.14):

1. a fresh working directory (``{{ workingDir }}``) and, unless ``url`` names a database
   file (whose directory then becomes ``workingDir``) or ``databaseUri`` gives one, a new
   database file ``<random>.db`` in it;
2. ``inputFiles`` written there; each ``outputFiles`` name gets an empty
   ``<name>_<random>.tmp`` file, reachable as ``{{ outputFiles.<name> }}`` (or ``temp``);
3. the session's ``file_search_path`` set to the working directory, so both
   ``read_csv_auto('in.csv')`` and ``read_csv_auto('{{ workingDir }}/in.csv')`` work;
4. every statement of ``sql`` runs (as in the January 2025 plugin; Kestra ≥ 2025-10 allows
   one) and the last one's rows are kept according to the fetch type: ``FETCH_ONE`` →
   ``row``, ``FETCH`` → ``rows``, ``STORE`` → an Ion file (one row per line) → ``uri``,
   ``NONE`` → nothing; ``size`` counts them. ``row`` is always in the outputs (null unless
   FETCH_ONE found a row), as Kestra's ``@JsonInclude`` makes it;
5. ``afterSQL`` (same transaction), then ``outputFiles`` and, with ``outputDbFile``, the
   database file are stored.

Values are mapped as Kestra's ``DuckDbCellConverter`` does (see :func:`_converter`). duckdb is
imported inside ``run`` only, so ``kflow --help`` stays fast without it.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shutil
import struct
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from pathlib import Path
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any

from kflow import ion
from kflow.errors import TaskError
from kflow.ids import new_id
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.scripts.files import inside, parse_input_files, write_input_files

if TYPE_CHECKING:
    from kflow.flow.model import TaskSpec

FETCH_TYPES = ("FETCH_ONE", "FETCH", "STORE", "NONE")
DEFAULT_URL = "jdbc:duckdb:"
MIN_DUCKDB = (1, 4)  # description types are DuckDBPyType objects from 1.4 on

_EXTENSION_NAME = re.compile(r"[A-Za-z0-9_]+")
_OFFSET_ZONE = re.compile(r"(?:UTC|GMT)?([+-])([0-9]{1,2})(?::?([0-9]{2}))?")

Convert = Callable[[Any], Any]


class DuckDbQuery(Task):
    """Run SQL in an embedded DuckDB database and fetch, store or drop the result."""

    type = "io.kestra.plugin.jdbc.duckdb.Query"
    outputs = {
        "row": Output("MAP", "The first row (fetchType FETCH_ONE)", dynamic=True),
        "rows": Output("ARRAY", "Every row (fetchType FETCH)"),
        "uri": Output("URI", "Ion file of the rows (fetchType STORE)"),
        "size": Output("LONG", "Number of rows fetched or stored"),
        "outputFiles": Output("MAP", "File name → kestra:/// URI", dynamic=True),
        "databaseUri": Output("URI", "The database file (outputDbFile: true)"),
    }
    properties = {
        "sql": Prop(
            required=True,
            kind="string",
            doc="SQL; several statements allowed, the last one's rows are fetched",
        ),
        "url": Prop(
            default=DEFAULT_URL,
            kind="string",
            doc="jdbc:duckdb: (new file in workingDir), jdbc:duckdb:/abs/file.db, "
            "jdbc:duckdb::memory:",
        ),
        "username": Prop(kind="string", doc="Ignored by DuckDB (JDBC base property)"),
        "password": Prop(kind="string", doc="Ignored by DuckDB (JDBC base property)"),
        "inputFiles": Prop(kind="any", doc="File name → content or kestra:// URI (map or JSON)"),
        "outputFiles": Prop(
            kind="list", doc="Names of files the SQL writes: {{ outputFiles.<name> }}"
        ),
        "fetchType": Prop(default="NONE", kind="string", doc="FETCH_ONE | FETCH | STORE | NONE"),
        "fetchOne": Prop(default=False, kind="bool", doc="Deprecated: fetchType FETCH_ONE"),
        "fetch": Prop(default=False, kind="bool", doc="Deprecated: fetchType FETCH"),
        "store": Prop(default=False, kind="bool", doc="Deprecated: fetchType STORE"),
        "fetchSize": Prop(default=10000, kind="int", doc="Rows read at a time (STORE)"),
        "parameters": Prop(kind="map", doc="Values bound to :name placeholders"),
        "timeZoneId": Prop(kind="string", doc="Zone of TIMESTAMP values (default: local)"),
        "databaseUri": Prop(kind="string", doc="kestra:// URI of a DuckDB file to open"),
        "outputDbFile": Prop(default=False, kind="bool", doc="Store the database file"),
        "communityExtensions": Prop(
            kind="list", doc="Extensions to INSTALL ... FROM community and LOAD (best effort)"
        ),
        "afterSQL": Prop(kind="string", doc="SQL run after the query, in its transaction"),
    }

    @classmethod
    def check(cls, spec: TaskSpec) -> list[str]:
        """A literal ``fetchType`` must be one of Kestra's four values."""
        value = spec.props.get("fetchType")
        if isinstance(value, str) and "{" not in value and value not in FETCH_TYPES:
            return [f"fetchType must be one of {', '.join(FETCH_TYPES)}, not {value!r}"]
        return []

    # ----------------------------------------------------------------- properties
    def _flag(self, ctx: RunContext, name: str) -> bool:
        value = self.prop(name)
        if isinstance(value, str):
            value = ctx.render(value)
            return str(value).strip().lower() == "true"
        return bool(value)

    def _text(self, ctx: RunContext, name: str, **extra: Any) -> str | None:
        value = self.prop(name)
        if value is None:
            return None
        rendered = ctx.render(value, **extra) if isinstance(value, str) else value
        return None if rendered is None else str(rendered)

    def fetch_type(self, ctx: RunContext) -> str:
        """Kestra's precedence: ``fetch``, then ``fetchOne``, then ``store``, then fetchType."""
        if self._flag(ctx, "fetch"):
            return "FETCH"
        if self._flag(ctx, "fetchOne"):
            return "FETCH_ONE"
        if self._flag(ctx, "store"):
            return "STORE"
        value = (self._text(ctx, "fetchType") or "NONE").strip()
        if value not in FETCH_TYPES:
            raise TaskError(f"fetchType must be one of {', '.join(FETCH_TYPES)}, not {value!r}")
        return value

    def _fetch_size(self, ctx: RunContext) -> int:
        raw = self._text(ctx, "fetchSize") or "10000"
        try:
            size = int(raw)
        except ValueError:
            raise TaskError(f"fetchSize must be a whole number, not {raw!r}") from None
        if size <= 0:
            raise TaskError(f"fetchSize must be positive, not {size}")
        return size

    def _string_list(self, ctx: RunContext, name: str) -> list[str]:
        value = self.prop(name)
        if value is None:
            return []
        if isinstance(value, str):
            value = ctx.render_typed(value)
            if isinstance(value, str):
                text = value.strip()
                value = json.loads(text) if text.startswith("[") else [text] if text else []
        else:
            value = ctx.render(list(value))
        if not isinstance(value, list):
            value = [value]
        return [str(item) for item in value if item is not None]

    def _parameters(self, ctx: RunContext) -> dict[str, Any] | None:
        value = self.prop("parameters")
        if value is None:
            return None
        rendered = ctx.render_typed(value) if isinstance(value, str) else ctx.render(value)
        if isinstance(rendered, str):
            try:
                rendered = json.loads(rendered)
            except ValueError:
                pass
        if not isinstance(rendered, Mapping):
            raise TaskError(f"parameters must be a map of name to value, not {rendered!r}")
        return {str(k): v for k, v in rendered.items()}

    # ----------------------------------------------------------------- the run
    def summary(self, outputs: Mapping[str, Any], duration_ms: float) -> dict[str, Any]:
        """A query's row count (fetched or stored)."""
        size = outputs.get("size")
        return {"row_count": size} if isinstance(size, int) else {}

    def run(self, ctx: RunContext) -> dict[str, Any]:
        """Run the SQL; see the module docstring."""
        duckdb = _import_duckdb()
        fetch_type = self.fetch_type(ctx)
        fetch_size = self._fetch_size(ctx)
        parameters = self._parameters(ctx)
        workdir = ctx.working_dir()
        db = _Database.from_url(self._text(ctx, "url") or DEFAULT_URL, workdir)
        extra: dict[str, Any] = {"workingDir": str(db.sql_dir)}

        files = self.prop("inputFiles")
        if files is not None:
            rendered = (
                {
                    str(ctx.render(k, **extra)): None if v is None else ctx.render(v, **extra)
                    for k, v in files.items()
                }
                if isinstance(files, Mapping)
                else ctx.render(files, **extra)
            )
            write_input_files(ctx, db.sql_dir, parse_input_files(rendered))

        database_uri = self._text(ctx, "databaseUri")
        if database_uri:
            if not database_uri.startswith("kestra://"):
                raise TaskError(
                    f"databaseUri must be a kestra:// URI of a stored DuckDB file, "
                    f"not {database_uri!r}"
                )
            name = new_id()
            write_input_files(ctx, db.sql_dir, {name: database_uri})
            db = _Database(db.sql_dir / name, db.sql_dir)
        if db.path is not None:
            extra["dbFilePath"] = str(db.path)

        output_files = _create_output_files(db.sql_dir, self._string_list(ctx, "outputFiles"))
        if output_files:
            paths = {name: str(path) for name, path in output_files.items()}
            extra["outputFiles"] = paths
            extra["temp"] = paths

        sql = self._text(ctx, "sql", **extra) or ""
        after_sql = self._text(ctx, "afterSQL", **extra)
        zone_name = self._text(ctx, "timeZoneId")
        zone = _zone(zone_name) if zone_name else None
        extensions = self._string_list(ctx, "communityExtensions")

        outputs: dict[str, Any] = {"row": None}
        cleanup: list[Path] = []
        try:
            con = duckdb.connect(db.target)
        except duckdb.Error as exc:
            raise TaskError(f"cannot open the DuckDB database {db.target!r}: {exc}") from exc
        try:
            with _Interrupter(ctx.cancelled, con):
                _setup_session(ctx, con, db.sql_dir, extensions)
                sql, after_sql = _read_ion_fallback(con, db.sql_dir, sql, after_sql, cleanup)
                if zone is None:
                    zone = _session_zone(con)
                if after_sql:
                    con.begin()
                ctx.log("DEBUG", f"Starting query: {sql}")
                names_types = _execute(duckdb, ctx, con, sql, parameters, what="sql")
                size: int | None = None
                if names_types is not None and fetch_type != "NONE":
                    size = self._fetch(
                        ctx, con, names_types, fetch_type, fetch_size, zone, workdir, outputs
                    )
                if after_sql:
                    ctx.log("DEBUG", f"Executing afterSQL: {after_sql}")
                    _execute(duckdb, ctx, con, after_sql, parameters, what="afterSQL")
                    con.commit()
        except duckdb.InterruptException as exc:
            raise TaskError("the query was interrupted (timeout or kill)") from exc
        except duckdb.Error as exc:
            raise TaskError(f"DuckDB failed: {exc}") from exc
        finally:
            con.close()
            for path in cleanup:
                shutil.rmtree(path, ignore_errors=True)

        tags = {
            "fetch": str(fetch_type in ("FETCH", "FETCH_ONE")).lower(),
            "store": str(fetch_type == "STORE").lower(),
        }
        ctx.metric("fetch.size", "counter", size or 0, tags)
        if size is not None:
            outputs["size"] = size
        outputs["outputFiles"] = {
            name: ctx.put_file(path) for name, path in output_files.items() if path.is_file()
        }
        if self._flag(ctx, "outputDbFile"):
            if db.path is None or not db.path.is_file():
                raise TaskError(
                    "outputDbFile needs a database file, but the url is "
                    f"{db.target!r}; use the default url jdbc:duckdb: or a file path",
                    outputs=outputs,
                )
            outputs["databaseUri"] = ctx.put_file(db.path)
        return outputs

    def _fetch(
        self,
        ctx: RunContext,
        con: Any,
        names_types: list[tuple[str, Any]],
        fetch_type: str,
        fetch_size: int,
        zone: tzinfo,
        workdir: Path,
        outputs: dict[str, Any],
    ) -> int:
        """Read the pending result into ``outputs``; returns the number of rows."""
        for_ion = fetch_type == "STORE"
        names = [name for name, _ in names_types]
        convs = [_converter(t, name, zone, for_ion) for name, t in names_types]

        def convert(raw: tuple[Any, ...]) -> dict[str, Any]:
            return {
                n: None if v is None else c(v) for n, c, v in zip(names, convs, raw, strict=True)
            }

        if fetch_type == "FETCH_ONE":
            raw = con.fetchone()
            if raw is None:
                return 0
            outputs["row"] = ion.to_jsonable(convert(raw))
            return 1
        if fetch_type == "FETCH":
            outputs["rows"] = [ion.to_jsonable(convert(raw)) for raw in _batches(con, fetch_size)]
            return len(outputs["rows"])
        path = _create_file(workdir, "", ".ion")
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            size = ion.write_rows((convert(raw) for raw in _batches(con, fetch_size, ctx)), fh)
        outputs["uri"] = ctx.put_file(path)
        return size


# --------------------------------------------------------------------------- database


class _Database:
    """Where the database lives: ``path`` (None in memory or remote) and ``sql_dir``, the
    directory the SQL sees as ``workingDir``."""

    def __init__(self, path: Path | None, sql_dir: Path, target: str | None = None) -> None:
        self.path = path
        self.sql_dir = sql_dir
        self.target = target if target is not None else str(path)

    @classmethod
    def from_url(cls, url: str, workdir: Path) -> _Database:
        url = url.strip()
        if not url.startswith(DEFAULT_URL):
            raise TaskError(f"url must start with {DEFAULT_URL!r}, not {url!r}")
        rest = url[len(DEFAULT_URL) :].split("?", 1)[0]
        if rest == "":
            # Kestra: a new database file in the working directory.
            return cls(workdir / f"{secrets.randbelow(2**63)}.db", workdir)
        if rest == ":memory:" or rest.startswith(":memory:"):
            return cls(None, workdir, ":memory:")
        if rest.startswith("md:") or rest.startswith("motherduck:"):
            return cls(None, workdir, rest)
        path = Path(os.path.expanduser(rest))
        if path.is_absolute():
            # Kestra: the file's directory becomes workingDir (inputFiles go there too).
            path.parent.mkdir(parents=True, exist_ok=True)
            return cls(path, path.parent)
        return cls(inside(workdir, rest, "url database file"), workdir)


def _import_duckdb() -> ModuleType:
    try:
        import duckdb
    except ImportError:
        raise TaskError(
            "the DuckDB task needs the duckdb package: pip install 'kflow[duckdb]'"
        ) from None
    version = tuple(int(p) for p in re.findall(r"[0-9]+", duckdb.__version__)[:2])
    if version < MIN_DUCKDB:
        raise TaskError(
            f"the DuckDB task needs duckdb >= {'.'.join(map(str, MIN_DUCKDB))}, "
            f"found {duckdb.__version__}: pip install -U 'kflow[duckdb]'"
        )
    return duckdb


def _create_file(directory: Path, prefix: str, suffix: str) -> Path:
    """A new empty file named like Java's ``Files.createTempFile``: prefix, a random
    positive long, suffix."""
    while True:
        path = directory / f"{prefix}{secrets.randbelow(2**63)}{suffix}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        os.close(fd)
        return path


def _create_output_files(directory: Path, names: list[str]) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for name in names:
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise TaskError(
                f"outputFiles entry {name!r} must be a plain name (no path): "
                "it names the file, e.g. 'out', used as {{ outputFiles.out }}"
            )
        files[name] = _create_file(directory, f"{name}_", ".tmp")
    return files


def _read_ion_fallback(
    con: Any, sql_dir: Path, sql: str, after_sql: str | None, cleanup: list[Path]
) -> tuple[str, str | None]:
    """``sql`` and ``afterSQL`` with ``read_ion(...)`` rewritten when the session has no
    ``read_ion`` (the ``ion`` community extension could not be loaded): see
    :mod:`kflow.tasks.jdbc.read_ion`."""
    from kflow.tasks.jdbc import read_ion

    if not (read_ion.mentions(sql) or read_ion.mentions(after_sql)):
        return sql, after_sql
    row = con.execute(
        "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'read_ion'"
    ).fetchone()
    if row and row[0]:
        return sql, after_sql
    temp = Path(tempfile.mkdtemp(prefix="kflow-read-ion-"))
    cleanup.append(temp)
    new_sql = read_ion.rewrite(sql, sql_dir, temp)
    new_after = after_sql
    if after_sql:
        (temp / "after").mkdir()
        new_after = read_ion.rewrite(after_sql, sql_dir, temp / "after")
    return new_sql, new_after


def _setup_session(ctx: RunContext, con: Any, sql_dir: Path, extensions: list[str]) -> None:
    # Without this, DuckDB's Python client resolves unknown table names to Python variables
    # of the calling frames (kflow's own locals).
    con.execute("SET python_enable_replacements = false")
    escaped = str(sql_dir).replace("'", "''")
    con.execute(f"SET file_search_path = '{escaped}'")
    for name in extensions:
        if not _EXTENSION_NAME.fullmatch(name):
            ctx.log("WARN", f"Skipping DuckDB community extension {name!r}: unsupported name")
            continue
        try:
            con.execute(f"INSTALL {name} FROM community")
            con.execute(f"LOAD {name}")
        except Exception as exc:  # best effort, as in Kestra
            ctx.log(
                "WARN",
                f"Failed to install/load DuckDB community extension {name!r}; "
                f"continuing without it: {exc}",
            )


def _session_zone(con: Any) -> tzinfo:
    """The zone DuckDB (and a JVM) would use by default: the machine's."""
    try:
        row = con.execute("SELECT current_setting('TimeZone')").fetchone()
        if row and row[0]:
            return _zone(str(row[0]))
    except Exception:  # no ICU: fall back to the offset Python sees
        pass
    return _worker_zone()


def _worker_zone() -> tzinfo:
    """The local zone Kestra's JSON mapper converts date-times to (the worker's)."""
    local = datetime.now().astimezone().tzinfo
    return local if local is not None else UTC


def _zone(name: str) -> tzinfo:
    """A ``timeZoneId`` as Java's ``ZoneId.of`` reads it: a region or an offset."""
    name = name.strip()
    if name == "Z":
        return UTC
    m = _OFFSET_ZONE.fullmatch(name)
    if m:
        sign, hours, minutes = m.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        return timezone(-delta if sign == "-" else delta) if delta else UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TaskError(
            f"timeZoneId {name!r} is not a known time zone; use a region such as "
            "'Europe/Paris' or an offset such as '+01:00'"
        ) from None


# --------------------------------------------------------------------------- statements


def _named_placeholders(sql: str) -> str:
    """``:name`` → DuckDB's ``$name``, outside strings, comments and ``::`` casts."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":
            end = i + 1
            while end < n:
                if sql[end] == c:
                    if end + 1 < n and sql[end + 1] == c:
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1])
            i = end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end])
            i = end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(sql[i:end])
            i = end
        elif sql.startswith("::", i):
            out.append("::")
            i += 2
        elif c == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_"):
            out.append("$")
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _execute(
    duckdb: ModuleType,
    ctx: RunContext,
    con: Any,
    sql: str,
    parameters: Mapping[str, Any] | None,
    what: str,
) -> list[tuple[str, Any]] | None:
    """Run every statement; the last one's (name, type) columns when it returns rows."""
    if parameters is not None:
        sql = _named_placeholders(sql)
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise TaskError(f"{what} failed: {exc}") from exc
    if not statements:
        raise TaskError(f"{what} holds no SQL statement")
    for number, statement in enumerate(statements, 1):
        names = sorted(statement.named_parameters) if parameters is not None else []
        missing = [n for n in names if n not in (parameters or {})]
        for name in missing:
            ctx.log("WARN", f":{name} is not in parameters; it is bound to null")
        try:
            if names:
                con.execute(statement, {n: (parameters or {}).get(n) for n in names})
            else:
                con.execute(statement)
        except duckdb.InterruptException:
            raise
        except duckdb.Error as exc:
            where = ""
            if len(statements) > 1:
                text = " ".join(statement.query.split())
                text = text if len(text) <= 80 else text[:77] + "..."
                where = f" (statement {number} of {len(statements)}: {text})"
            raise TaskError(f"{what} failed{where}: {exc}") from exc
    description = con.description
    if not description:
        return None
    columns = [(str(d[0]), d[1]) for d in description]
    last = statements[-1]
    # INSERT/CREATE/COPY... report a "Count" column; JDBC says they return no result set.
    if last.type.name != "SELECT" and [c[0] for c in columns] == ["Count"]:
        return None
    return columns


def _batches(con: Any, size: int, ctx: RunContext | None = None) -> Iterator[tuple[Any, ...]]:
    while True:
        if ctx is not None and ctx.cancelled.is_set():
            raise TaskError("the query was interrupted (timeout or kill)")
        batch = con.fetchmany(size)
        if not batch:
            return
        yield from batch


class _Interrupter:
    """Interrupts the running statement when the task is cancelled (timeout, kill)."""

    def __init__(self, cancelled: threading.Event, con: Any) -> None:
        self.cancelled = cancelled
        self.con = con
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="duckdb-interrupt", daemon=True)

    def _watch(self) -> None:
        while not self.done.wait(0.05):
            if self.cancelled.is_set():
                self.con.interrupt()
                return

    def __enter__(self) -> _Interrupter:
        self.thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.done.set()
        self.thread.join()


# --------------------------------------------------------------------------- values


def _identity(value: Any) -> Any:
    return value


def _float32(value: float) -> float:
    """A FLOAT as Java prints it (``1.1``, not the widened ``1.100000023841858``)."""
    if not math.isfinite(value):
        return value
    packed = struct.pack("f", value)
    for digits in range(1, 10):
        short = float(f"{value:.{digits}g}")
        if struct.pack("f", short) == packed:
            return short
    return value


def _iso_offset(dt: datetime) -> str:
    """``ISO_OFFSET_DATE_TIME``: ``2024-01-01T10:00:00+01:00`` (``Z`` for UTC)."""
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{ion.format_local_time(dt)}"
        + ion.format_offset(dt.utcoffset())
    )


def _zone_label(zone: tzinfo) -> str | None:
    key = getattr(zone, "key", None)
    return str(key) if key else None


def _converter(t: Any, column: str, zone: tzinfo, for_ion: bool) -> Convert:
    """How one DuckDB type becomes a Kestra value (``DuckDbCellConverter``).

    With ``for_ion`` the value is what Kestra's Ion writer gets (Decimal, date, Java time
    types as annotated strings); otherwise what its JSON mapper prints for outputs.
    """
    tid = str(t.id)
    name = str(t)
    if name == "JSON":
        return json.loads
    if tid in (
        "boolean",
        "tinyint",
        "smallint",
        "integer",
        "bigint",
        "utinyint",
        "usmallint",
        "uinteger",
        "double",
        "varchar",
        "enum",
        "bit",
        "null",
        "decimal",
    ):
        return _identity
    if tid == "float":
        return _identity if for_ion else _float32
    if tid in ("hugeint", "uhugeint", "ubigint", "varint", "bignum", "uuid"):
        return str  # BigInteger and UUID: strings in Kestra
    if tid == "blob":
        return bytes
    if tid == "date":
        return _identity  # LocalDate: a day timestamp in Ion, "2024-01-01" in JSON
    if tid in ("time", "time with time zone", "time_ns"):
        return _identity  # LocalTime / OffsetTime
    if tid in ("timestamp", "timestamp_s", "timestamp_ms", "timestamp_ns"):
        return _zoned(zone, for_ion)
    if tid == "timestamp with time zone":
        return _offset_utc(for_ion)
    if tid in ("list", "array"):
        child = _converter(t.children[0][1], column, zone, for_ion)
        return lambda v: [None if x is None else child(x) for x in v]
    if tid == "struct":
        fields = [(str(k), _converter(ct, column, zone, for_ion)) for k, ct in t.children]
        return lambda v: {k: None if v.get(k) is None else c(v[k]) for k, c in fields}
    if tid == "map":
        key = _converter(t.children[0][1], column, zone, for_ion)
        val = _converter(t.children[1][1], column, zone, for_ion)
        return lambda v: {str(key(k)): None if x is None else val(x) for k, x in _map_items(v)}
    if tid == "union":
        return _untyped(column, name)

    def unsupported(value: Any) -> Any:
        raise TaskError(
            f"Data of type '{name}' for column '{column}' is not supported; "
            f"cast it in the SQL, e.g. CAST({column} AS VARCHAR)"
        )

    return unsupported


def _map_items(value: Any) -> list[tuple[Any, Any]]:
    if isinstance(value, Mapping):
        if set(value) == {"key", "value"} and isinstance(value["key"], list):
            return list(zip(value["key"], value["value"], strict=False))  # old duckdb shape
        return list(value.items())
    return list(value)


def _in_zone(dt: datetime, zone: tzinfo) -> datetime:
    """``dt`` seen in ``zone``; unchanged at the edges of the calendar (DuckDB's infinity
    comes back as ``datetime.max``), where the conversion would overflow."""
    try:
        return dt.astimezone(zone)
    except (OverflowError, ValueError):
        return dt


def _zoned(zone: tzinfo, for_ion: bool) -> Convert:
    """TIMESTAMP → ``ZonedDateTime`` of the wall time in ``timeZoneId``."""
    label = _zone_label(zone)

    def convert(value: Any) -> Any:
        if not isinstance(value, datetime):
            return str(value)  # out of Python's range: DuckDB gives text
        zoned = value.replace(tzinfo=zone)
        if not for_ion:
            return _iso_offset(_in_zone(zoned, _worker_zone()))
        text = _iso_offset(zoned) + (f"[{label}]" if label else "")
        return ion.AnnotatedStr(text, "ZonedDateTime")

    return convert


def _offset_utc(for_ion: bool) -> Convert:
    """TIMESTAMPTZ → ``OffsetDateTime`` in UTC."""

    def convert(value: Any) -> Any:
        if not isinstance(value, datetime):
            return str(value)
        utc = value.replace(tzinfo=UTC) if value.tzinfo is None else _in_zone(value, UTC)
        if not for_ion:
            return _iso_offset(_in_zone(utc, _worker_zone()))
        return ion.AnnotatedStr(_iso_offset(utc), "OffsetDateTime")

    return convert


def _untyped(column: str, name: str) -> Convert:
    """A value whose type is only known at run time (UNION members)."""

    def convert(value: Any) -> Any:
        if value is None or isinstance(
            value, str | bool | int | float | Decimal | date | datetime | time | bytes
        ):
            return value
        if isinstance(value, list | tuple):
            return [convert(v) for v in value]
        if isinstance(value, Mapping):
            return {str(k): convert(v) for k, v in value.items()}
        raise TaskError(f"Data of type '{name}' for column '{column}' is not supported")

    return convert


__all__ = ["DuckDbQuery"]
