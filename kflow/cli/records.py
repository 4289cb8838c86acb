"""``kflow outputs`` across runs (task-output records), their soft delete, and ``kflow purge``.

Records (kflow.taskoutputs) are listed newest first from the store, a page at a time, as a
table, one JSON document, or JSON lines streamed from the store in batches (memory stays
flat for an export of every record). Each row carries the expression that reaches the
record's outputs in its execution, which ``kflow eval --exec`` takes as printed.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kflow.errors import UsageError

MAX_LIMIT = 10_000
_SHORT_DURATION = re.compile(r"(\d+)\s*(s|m|h|d|w)", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration_back(text: str, option: str) -> timedelta:
    """``2h``, ``30m``, ``7d``, ``1w``, ``90s`` (and sums such as ``1h30m``) or an ISO-8601
    duration (``PT2H``, ``P1D``)."""
    from kflow.java.duration import parse_duration

    raw = text.strip()
    if raw and _SHORT_DURATION.sub("", raw).strip() == "" and _SHORT_DURATION.search(raw):
        seconds = sum(int(n) * _UNITS[u.lower()] for n, u in _SHORT_DURATION.findall(raw))
        return timedelta(seconds=seconds)
    seconds_f = parse_duration(raw.upper()) if raw[:1] in "pP" else None
    if seconds_f is None or seconds_f < 0:
        raise UsageError(
            f"{option} {text!r} is not a duration",
            hint=f"write it like {option} 2h, 30m, 7d or PT2H",
        )
    return timedelta(seconds=seconds_f)


def _iso(moment: datetime) -> str:
    """An instant as the store compares it: UTC, always six fraction digits (a stored
    ``...:00Z`` and ``...:00.123Z`` then sort right against it)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_instant(text: str, option: str, *, now: datetime | None = None) -> str:
    """A date (``2026-12-01``: its start, UTC), a date-time (``2026-12-01T10:00``, with an
    offset or ``Z``; without, UTC, as ``kflow serve`` reads it and as records are
    stamped) or a duration back from now (``2h``, ``PT2H``)."""
    raw = text.strip()
    current = now or datetime.now(UTC)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        try:
            day = datetime.strptime(raw, "%Y-%m-%d")
        except ValueError:
            raise UsageError(f"{option} {text!r} is not a date", hint="e.g. 2026-12-01") from None
        return _iso(day.replace(tzinfo=UTC))
    if re.match(r"\d{4}-\d{2}-\d{2}[T ]", raw):
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(
                f"{option} {text!r} is not a date-time",
                hint="e.g. 2026-12-01T10:00:00Z or 2026-12-01T10:00",
            ) from None
        return _iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return _iso(current - parse_duration_back(raw, option))


def parse_tags(items: Iterable[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(
                f"--tag {item!r} is not KEY=VALUE",
                hint="e.g. --tag env=prod or --tag type=io.kestra.plugin.core.http.Request",
            )
        tags[key.strip()] = value
    return tags


@dataclass
class Listing:
    """The listing options of ``kflow outputs`` (no execution given)."""

    flow: str | None = None
    namespace: str | None = None
    task: str | None = None
    status: str | None = None
    tags: list[str] = field(default_factory=list)
    since: str | None = None
    until: str | None = None
    limit: int | None = None
    after: str | None = None
    include_deleted: bool = False

    def query(self, *, export: bool) -> Any:
        """The store query; ``export`` (``--jsonl``): every record unless ``--limit``."""
        from kflow.taskoutputs import STATUSES, RecordQuery

        if self.status is not None and self.status not in STATUSES:
            raise UsageError(
                f"--status {self.status!r} is not a record status",
                hint=f"use one of: {', '.join(STATUSES)}",
            )
        if self.limit is not None and not 1 <= self.limit <= MAX_LIMIT:
            raise UsageError(
                f"--limit must be a whole number from 1 to {MAX_LIMIT:,}, not {self.limit}",
                hint="page through more with --after ID, or export all with --jsonl",
            )
        return RecordQuery(
            namespace=self.namespace,
            flow_id=self.flow,
            task_name=self.task,
            status=self.status,
            tags=parse_tags(self.tags),
            created_after=parse_instant(self.since, "--since") if self.since else None,
            created_before=parse_instant(self.until, "--until") if self.until else None,
            after=self.after,
            limit=self.limit if self.limit is not None else (None if export else 50),
            include_deleted=self.include_deleted,
        )

    def next_command(self, after: str) -> str:
        """The command for the next page: the same filters, ``--after`` the last id."""
        import shlex

        parts = ["kflow", "outputs"]
        for option, value in (("--flow", self.flow), ("--namespace", self.namespace),
                              ("--task", self.task), ("--status", self.status),
                              ("--since", self.since), ("--until", self.until)):  # fmt: skip
            if value is not None:
                parts += [option, value]
        for tag in self.tags:
            parts += ["--tag", tag]
        if self.limit is not None:
            parts += ["--limit", str(self.limit)]
        if self.include_deleted:
            parts.append("--include-deleted")
        parts += ["--after", after]
        return shlex.join(parts)


def record_doc(record: Any) -> dict[str, Any]:
    """A record as printed (``--json``/``--jsonl``): the API's document, encrypted outputs
    masked as everywhere else."""
    from kflow.secrets import mask_tree

    doc: dict[str, Any] = record.to_dict()
    if doc["output"] is not None:
        doc["output"] = mask_tree(doc["output"])
    return doc


def list_command(listing: Listing, as_json: bool, as_jsonl: bool) -> None:
    from kflow.api import open_home
    from kflow.cli.jsonout import dumps

    if as_json and as_jsonl:
        raise UsageError("--json and --jsonl cannot be used together", hint="pick one")
    query = listing.query(export=as_jsonl)
    with open_home() as home:
        if as_jsonl:
            out = sys.stdout
            for n, record in enumerate(home.store.iter_records(query), 1):
                out.write(dumps(record_doc(record)) + "\n")
                if n % 1000 == 0:
                    out.flush()
            return
        page = home.store.list_records(query)
    if as_json:
        sys.stdout.write(dumps({"data": [record_doc(r) for r in page.records],
                                "has_more": page.has_more,
                                "next_after": page.next_after}) + "\n")  # fmt: skip
        return
    if not page.records:
        sys.stdout.write("no task-output records match"
                         + ("" if listing.include_deleted else " (soft-deleted ones are left out: "
                            "--include-deleted lists them)") + "\n")  # fmt: skip
        return
    _print(records_model(page, listing))


def records_model(page: Any, listing: Listing) -> Any:
    from kflow.cli.safetext import safe
    from kflow.cli.views import Cell, TableModel, cut, show_value, state_cell
    from kflow.secrets import mask_tree

    model = TableModel(
        "Task outputs (newest first)",
        [("id", False), ("created", False), ("execution", False), ("flow", True),
         ("task", True), ("status", False), ("expression", True), ("summary", True),
         ("output", True)],  # fmt: skip
    )
    for r in page.records:
        summary = ", ".join(f"{k}={show_value(v)}" for k, v in r.summary.items())
        output = "" if r.output is None else show_value(mask_tree(r.output))
        # the record status, in the colour of the run's state (kept in the tag `state`)
        style = state_cell(str(r.tags.get("state", ""))).parts
        status = Cell.of(r.status, "dim" if r.status in ("deleted", "stale") or not style
                         else style[0][1])  # fmt: skip
        model.rows.append([
            Cell.of(r.id), Cell.of(r.created_at[:19].replace("T", " ")),
            Cell.of(r.flow_execution_id), Cell.of(safe(f"{r.namespace}.{r.flow_id}")),
            Cell.of(safe(r.task_name)), status, Cell.of(safe(r.expression)),
            Cell.of(cut(summary, 80)), Cell.of(cut(output, 80)),
        ])  # fmt: skip
    shown = len(page.records)
    plural = "" if shown == 1 else "s"
    if page.has_more and page.next_after:
        model.caption = (f"{shown} record{plural} shown; next page: "
                         f"{listing.next_command(page.next_after)}")  # fmt: skip
    else:
        model.caption = f"{shown} record{plural}"
    return model


def _print(model: Any) -> None:
    from kflow.cli.views import plain_output, plain_table

    if plain_output():
        sys.stdout.write(plain_table(model) + "\n")
        return
    from kflow.cli.render import console, rich_table

    console().print(rich_table(model))


# ---------------------------------------------------------------- housekeeping


def _who() -> str:
    """``updated_by`` for a person's change: the local user name."""
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name (a container without /etc/passwd)
        import os

        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "user"


def _confirm(question: str, yes: bool) -> None:
    """Ask on a terminal unless ``--yes``; a pipe or CI log is never asked."""
    if yes or not sys.stdin.isatty() or not sys.stdout.isatty():
        return
    sys.stdout.write(f"{question} [y/N] ")
    sys.stdout.flush()
    answer = sys.stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        raise UsageError("nothing changed: not confirmed", hint="pass --yes to skip the question")


def delete_command(record_ids: Sequence[str], execution: str | None, yes: bool) -> None:
    """Soft-delete records (status ``deleted``, kept for audit): the given ids, or every
    record of ``execution``."""
    from kflow.api import open_home
    from kflow.errors import NotFoundError

    with open_home() as home:
        store = home.store
        if execution is not None:
            eid = store.resolve_id(execution)
            live = [r for r in store.execution_records(eid) if r.status != "deleted"]
            _confirm(f"soft-delete the {len(live)} task-output records of execution {eid}?", yes)
            changed = store.delete_execution_records(eid, _who())
            what = f"of execution {eid}"
        else:
            unknown = []
            for rid in record_ids:
                try:
                    store.get_record(rid)
                except NotFoundError:
                    unknown.append(rid)
            if unknown:
                raise NotFoundError(
                    f"no task-output record with id {', '.join(map(repr, unknown[:5]))}"
                    + (f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else "")
                    + ": nothing deleted",
                    hint="list record ids with: kflow outputs --include-deleted",
                )
            _confirm(f"soft-delete {len(record_ids)} task-output records?", yes)
            changed = store.delete_records(record_ids, _who())
            what = "given"
    left = (len(record_ids) if execution is None else len(changed)) - len(changed)
    sys.stdout.write(
        f"deleted {len(changed)} task-output record{'' if len(changed) == 1 else 's'} {what} "
        "(status deleted, kept for audit; list them with --include-deleted)"
        + (f"; {left} already deleted" if left > 0 else "") + "\n"
    )


def purge_command(older_than: str, yes: bool) -> None:
    """Remove the stored files of executions that ended more than ``older_than`` ago and
    mark their records ``stale`` (the records, their outputs and the executions stay)."""
    from kflow.api import open_home
    from kflow.storage.base import execution_prefix, to_uri

    cutoff = datetime.now(UTC) - parse_duration_back(older_than, "--older-than")
    with open_home() as home:
        old = home.store.executions_ended_before(_iso(cutoff))
        if not old:
            sys.stdout.write(f"nothing to purge: no execution ended before {_iso(cutoff)}\n")
            return
        plural = "" if len(old) == 1 else "s"
        _confirm(f"remove the stored files of {len(old)} execution{plural} that ended before "
                 f"{_iso(cutoff)[:19]}?", yes)  # fmt: skip
        files = 0
        for ex in old:
            files += home.storage.delete(to_uri(execution_prefix(ex.namespace, ex.flow_id, ex.id)))
        stale = home.store.mark_stale([ex.id for ex in old], _who())
    sys.stdout.write(
        f"purged {files} stored file{'' if files == 1 else 's'} of {len(old)} "
        f"execution{'' if len(old) == 1 else 's'}; {stale} task-output "
        f"record{'' if stale == 1 else 's'} marked stale (records and executions kept)\n"
    )
