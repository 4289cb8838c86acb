"""``io.kestra.plugin.core.flow.Template`` (deprecated in Kestra 0.11): a template's tasks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kflow.errors import KflowError, TaskError
from kflow.tasks.base import ChildGroup, FlowablePlan, FlowableTask, Output, Prop, RunContext


class Template(FlowableTask):
    """Kestra ``flow/Template.java``: runs the ``tasks`` of the template
    ``namespace``.``templateId`` in sequence, as if written in its place; outputs ``args``
    (each value rendered), which the template's tasks read as
    ``{{ parent.outputs.args.name }}``.

    A template is a YAML file with ``id``, ``namespace`` and ``tasks``, looked up among the
    flows of ``kflow run --flows`` (default: the flow's directory). Kestra disables templates
    by default since 0.11 (``kestra.templates.enabled``); kflow runs them, with a warning."""

    type = "io.kestra.plugin.core.flow.Template"
    aliases = ("io.kestra.core.tasks.flows.Template",)
    deprecated = "move the template's tasks into the flow or a Subflow (kflow still runs it)"
    outputs = {"args": Output("MAP", "The rendered args", dynamic=True)}
    properties = {
        "namespace": Prop(required=True, kind="string", doc="the template's namespace"),
        "templateId": Prop(required=True, kind="string", doc="the template's id"),
        "args": Prop(kind="map", doc="values given to the template (rendered)"),
    }

    def plan(self, ctx: RunContext) -> FlowablePlan:
        namespace = str(self.prop("namespace"))
        template_id = str(self.prop("templateId"))
        try:
            template = ctx.find_flow(namespace, template_id)
        except KflowError as exc:
            raise TaskError(
                f"Unable to find template '{namespace}.{template_id}': {exc.message}"
            ) from exc
        if template.errors or template.finally_:
            raise TaskError(
                f"template '{namespace}.{template_id}' has 'errors' or 'finally', which kflow "
                "does not support in a template: put them on the Template task"
            )
        args: Any = self.prop("args") or {}
        rendered = (
            {str(k): ctx.render(v) for k, v in args.items()} if isinstance(args, Mapping) else {}
        )
        return FlowablePlan(groups=[ChildGroup(tuple(template.tasks))], outputs={"args": rendered})
