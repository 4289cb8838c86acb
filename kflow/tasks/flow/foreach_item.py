"""``io.kestra.plugin.core.flow.ForEachItem``: a stored file split in batches, one subflow
execution per batch.

As in Kestra, the task runs three generated children one after another, named after it:

- ``<id>_split`` cuts ``items`` (a ``kestra://`` URI) in batch files (``batch``: ``rows``,
  default 1, or ``bytes``, or ``partitions``; each line re-ended with ``separator``; the
  algorithm of ``storage.Split``) and outputs ``splits``: a stored text file listing the
  batch URIs, one per line;
- ``<id>_items`` starts one execution of ``namespace``/``flowId`` per batch, with ``inputs``
  rendered per batch where ``taskrun.items`` is the batch's URI and ``taskrun.iteration`` its
  1-based number; outputs ``numberOfBatches``, ``iterations`` (count per state: ``CREATED``
  and ``RUNNING`` end at 0) and ``subflowOutputsBaseUri``. With ``wait`` (default) and
  ``transmitFailed`` (default) a FAILED batch makes it FAILED (else KILLED, then WARNING);
  when the subflow declares flow ``outputs`` each batch's outputs are stored as one Ion
  line under ``<subflowOutputsBaseUri>/<iteration>/outputs.ion``;
- ``<id>_merge`` concatenates those lines, in iteration order, into one stored file:
  output ``subflowOutputs`` (none when the subflow has no outputs).

Read them as ``outputs.<id>_split.splits``, ``outputs.<id>_items.iterations``,
``outputs.<id>_merge.subflowOutputs``. kflow runs the batches one after another (Kestra
creates them all at once); ``wait: false`` starts each in the background and counts it
SUCCESS once started, as Kestra's ``iterations`` show it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kflow.errors import TaskError
from kflow.flow.model import TaskSpec
from kflow.states import State
from kflow.tasks.base import (
    ChildGroup,
    FlowablePlan,
    FlowableTask,
    Output,
    Prop,
    RunContext,
    SubKey,
    Task,
    TaskResult,
)
from kflow.tasks.flow.subflow import _bool, _labels
from kflow.tasks.storage.common import services
from kflow.tasks.storage.split import Split

_TYPE = "io.kestra.plugin.core.flow.ForEachItem"


@dataclass
class _Run:
    """What the three generated tasks of one ForEachItem run hand to one another."""

    splits: list[str] = field(default_factory=list)
    outputs_base: str | None = None  # storage path of the per-iteration outputs
    iterations_with_outputs: list[int] = field(default_factory=list)


class ForEachItem(FlowableTask):
    type = _TYPE
    aliases = ("io.kestra.core.tasks.flows.ForEachItem",)
    outputs = {}
    properties = {
        "items": Prop(required=True, kind="string", doc="The kestra:// file to split"),
        "batch": Prop(
            kind="map",
            keys={key: SubKey() for key in ("rows", "bytes", "partitions", "separator")},
            doc="{rows: 1 | bytes: 10MB | partitions: N, separator: \\n}",
        ),
        "namespace": Prop(required=True, kind="string"),
        "flowId": Prop(required=True, kind="string"),
        "revision": Prop(
            kind="int",
            ignored="kflow runs the subflow's file as it is now (flows have no revisions locally)",
        ),
        "inputs": Prop(kind="map", doc="Subflow inputs; taskrun.items is the batch's URI"),
        "labels": Prop(),
        "inheritLabels": Prop(default=False, kind="bool"),
        "wait": Prop(default=True, kind="bool"),
        "transmitFailed": Prop(default=True, kind="bool"),
        "scheduleDate": Prop(
            kind="string", ignored="kflow starts the subflow executions at once, not at that date"
        ),
        "restartBehavior": Prop(kind="string", ignored="kflow does not restart executions"),
    }

    def plan(self, ctx: RunContext) -> FlowablePlan:
        run = _Run()
        spec = self.spec
        batch = dict(self.prop("batch") or {})
        if not any(batch.get(k) is not None for k in ("rows", "bytes", "partitions")):
            batch["rows"] = 1
        split_props = {
            "from": self.prop("items"),
            **{k: v for k, v in batch.items() if v is not None},
            "_run": run,
        }
        items_props: dict[str, Any] = {
            name: spec.props[name]
            for name in ("namespace", "flowId", "inputs", "labels", "inheritLabels", "wait",
                         "transmitFailed")
            if name in spec.props
        }  # fmt: skip
        items_props["_run"] = run
        children = (
            _generated(spec, "_split", ForEachItemSplit, split_props),
            _generated(spec, "_items", ForEachItemExecutable, items_props),
            _generated(spec, "_merge", ForEachItemMergeOutputs, {"_run": run}),
        )
        return FlowablePlan(groups=[ChildGroup(children)])


def _generated(parent: TaskSpec, suffix: str, cls: type[Task], props: dict[str, Any]) -> TaskSpec:
    return TaskSpec(
        id=parent.id + suffix,
        type=cls.type,
        task_class=cls,
        props=props,
        location=parent.location,
    )


class ForEachItemSplit(Split):
    """``<id>_split``: the batches, listed in a stored ``splits.txt``."""

    type = _TYPE + "$ForEachItemSplit"
    outputs = {"splits": Output("URI", "A stored text file: one batch URI per line")}

    def run(self, ctx: RunContext) -> dict[str, Any]:
        uri = self.rendered(ctx, "from")
        if not isinstance(uri, str) or not uri.startswith("kestra://"):
            raise TaskError(
                f"Unable to split the items from {uri}, this is not an internal storage URI!"
            )
        splits: list[str] = super().run(ctx)["uris"]
        run: _Run = self.prop("_run")
        run.splits = splits
        path = ctx.working_dir() / "splits.txt"
        path.write_text("\n".join(splits), encoding="utf-8")
        return {"splits": ctx.put_file(path, "splits.txt")}


class ForEachItemExecutable(Task):
    """``<id>_items``: one subflow execution per batch."""

    type = _TYPE + "$ForEachItemExecutable"
    outputs = {
        "numberOfBatches": Output("INTEGER", "How many batches (subflow executions)"),
        "iterations": Output("MAP", "Batches per state (CREATED, RUNNING, SUCCESS...)"),
        "subflowOutputsBaseUri": Output("STRING", "Where each batch's outputs are stored"),
    }
    properties = {
        key: ForEachItem.properties[key]
        for key in ("namespace", "flowId", "inputs", "labels", "inheritLabels", "wait",
                    "transmitFailed")
    }  # fmt: skip

    def run(self, ctx: RunContext) -> TaskResult:
        run: _Run = self.prop("_run")
        if not run.splits:
            return TaskResult()  # no batch: no execution, no outputs (as Kestra)
        namespace = str(ctx.render(self.prop("namespace")))
        flow_id = str(ctx.render(self.prop("flowId")))
        labels = _labels(ctx.render(self.prop("labels") or {}))
        if _bool(self.prop("inheritLabels"), False):
            inherited = {
                k: v
                for k, v in ctx.variables.get("labels", {}).items()
                if not k.startswith("system")
            }
            labels = {**inherited, **labels}
        wait = _bool(self.prop("wait"), True)
        transmit = _bool(self.prop("transmitFailed"), True)
        from kflow.storage.base import taskrun_prefix

        base = taskrun_prefix(
            ctx.namespace, ctx.flow_id, ctx.execution_id, ctx.task_id, ctx.taskrun_id
        )
        run.outputs_base = base
        counts: dict[str, int] = {"CREATED": 0, "RUNNING": 0} if wait else {"RUNNING": 0}
        killed = False
        taskrun = dict(ctx.variables.get("taskrun") or {})
        for iteration, uri in enumerate(run.splits, start=1):
            if ctx.cancelled.is_set():
                killed = True
                break
            inputs = ctx.render(
                self.prop("inputs") or {},
                taskrun={**taskrun, "items": uri, "iteration": iteration},
            )
            child = ctx.run_subflow(namespace, flow_id, inputs, labels, wait)
            state = child.state.current.value if wait else State.SUCCESS.value
            counts[state] = counts.get(state, 0) + 1
            if wait and child.outputs:
                self._store_outputs(ctx, base, iteration, child.outputs)
                run.iterations_with_outputs.append(iteration)
        outputs = {
            "iterations": counts,
            "numberOfBatches": len(run.splits),
            "subflowOutputsBaseUri": base,
        }
        if killed:
            return TaskResult(outputs=outputs, state=State.KILLED)
        if not (wait and transmit):
            return TaskResult(outputs=outputs)
        if counts.get("FAILED"):
            raise TaskError(
                f"{counts['FAILED']} of {len(run.splits)} subflow executions of "
                f"{namespace}.{flow_id} ended FAILED",
                outputs=outputs,
            )
        if counts.get("KILLED"):
            return TaskResult(outputs=outputs, state=State.KILLED)
        if counts.get("WARNING"):
            return TaskResult(outputs=outputs, state=State.WARNING)
        return TaskResult(outputs=outputs)

    @staticmethod
    def _store_outputs(
        ctx: RunContext, base: str, iteration: int, outputs: Mapping[str, Any]
    ) -> None:
        from kflow import ion
        from kflow.storage.base import to_uri

        with tempfile.TemporaryDirectory(dir=ctx.working_dir()) as tmp:
            path = Path(tmp) / "outputs.ion"
            path.write_text(ion.dumps_line(dict(outputs)) + "\n", encoding="utf-8")
            services(ctx).storage.put(to_uri(f"{base}/{iteration}/outputs.ion"), path)


class ForEachItemMergeOutputs(Task):
    """``<id>_merge``: every batch's outputs in one stored Ion file."""

    type = _TYPE + "$ForEachItemMergeOutputs"
    outputs = {"subflowOutputs": Output("URI", "One Ion line per batch: its flow outputs")}

    def run(self, ctx: RunContext) -> dict[str, Any]:
        import shutil

        from kflow.storage.base import to_uri

        run: _Run = self.prop("_run")
        if run.outputs_base is None or not run.iterations_with_outputs:
            return {}
        storage = services(ctx).storage
        path = ctx.working_dir() / "outputs.ion"
        with open(path, "wb") as out:
            for iteration in run.iterations_with_outputs:
                with storage.open(to_uri(f"{run.outputs_base}/{iteration}/outputs.ion")) as src:
                    shutil.copyfileobj(src, out)
        return {"subflowOutputs": ctx.put_file(path, "outputs.ion")}
