"""The shapes of ``kflow serve``'s answers, as pydantic models.

They exist for the OpenAPI document (FastAPI writes it from them, and the schema-driven
tests check every answer against it); the endpoints build their JSON directly from the
engine's ``to_dict`` documents and return it as it is, so a page of records is not
validated field by field on every request. Task-output records keep the snake_case of the
"List all task outputs" document; an execution keeps Kestra's camelCase.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from kflow.taskoutputs import STATUSES

Status = Literal["queued", "running", "completed", "failed", "deleted", "stale"]
# the API's enum is kflow.taskoutputs.STATUSES: a status added there must be added here
assert get_args(Status) == STATUSES, "Status must list kflow.taskoutputs.STATUSES"


class ErrorDetail(BaseModel):
    """Standard error detail structure: every error answer (401, 404, 422, 500...) has it."""

    code: str = Field(
        description="What went wrong, as a short snake_case word a program can test "
        "(unauthorized, record_not_found, validation_error, invalid_uri...).",
        examples=["record_not_found"],
    )
    detail: str = Field(
        description="One sentence for a person: what went wrong and how to fix it.",
        examples=["no task-output record with id 'abc'; list the records with GET /task-outputs"],
    )


class TaskOutput(BaseModel):
    """A task-output record: one per task run, the stored copy of its outputs."""

    id: str = Field(description="Unique identifier of this task output (a UUID).")
    flow_execution_id: str = Field(description="ID of the flow execution holding this task.")
    organization_id: str = Field(description="ID of the organization owning this task output.")
    namespace: str
    flow_id: str
    task_name: str = Field(description="Id of the task in the flow (case-sensitive).")
    task_run_id: str = Field(description="ID of the task run (GET /task-executions).")
    task_type: str = Field(description="The task's type, e.g. io.kestra.plugin.core.log.Log.")
    iteration_value: str | None = Field(description="The loop value of this run, in a loop.")
    iteration_index: int | None = Field(description="The loop index of this run, in a loop.")
    parent_task_run_id: str | None
    status: Status = Field(description="queued, running, completed, failed, deleted or stale.")
    summary: dict[str, Any] = Field(description="Structured summary for display and queries.")
    output: dict[str, Any] | None = Field(
        description="Full output data; encrypted values are shown as ******."
    )
    tags: dict[str, str] = Field(
        description="Labels of the execution, the task type (type) and its Kestra state (state)."
    )
    expression: str = Field(description="The Pebble expression that reads these outputs.")
    created_at: str = Field(description="ISO instant the task run started.")
    updated_at: str = Field(description="ISO instant of the last change.")
    updated_by: str = Field(description="Who made the last change ('system': the engine).")


class TaskOutputPage(BaseModel):
    """One page of task outputs, newest first."""

    data: list[TaskOutput]
    has_more: bool = Field(
        description="More records follow: pass the last id as starting_after for the next page."
    )


class StateChange(BaseModel):
    state: str
    date: str


class ExecutionState(BaseModel):
    """Kestra's State object."""

    model_config = ConfigDict(extra="allow")

    current: str
    histories: list[StateChange]
    duration: str
    startDate: str
    endDate: str | None = None


class FlowExecution(BaseModel):
    """A flow execution in Kestra's camelCase execution fields, with its task outputs."""

    model_config = ConfigDict(extra="allow")

    id: str
    namespace: str
    flowId: str
    flowRevision: int
    inputs: dict[str, Any] = Field(description="Inputs; SECRET inputs are shown as ******.")
    outputs: dict[str, Any] = Field(description="Flow outputs; encrypted ones as ******.")
    labels: list[dict[str, str]]
    state: ExecutionState
    task_outputs: list[TaskOutput] = Field(
        description="Every task output of the execution, deleted ones included, in run order."
    )


class Attempt(BaseModel):
    state: str
    start_date: str
    end_date: str | None
    duration: str


class TaskExecution(BaseModel):
    """One task run: its state, attempts and timings (its outputs: task_output_id)."""

    id: str = Field(description="ID of the task run.")
    task_output_id: str = Field(description="ID of its task output (GET /task-outputs/{id}).")
    flow_execution_id: str
    namespace: str
    flow_id: str
    task_name: str
    task_type: str
    parent_task_run_id: str | None
    iteration_value: str | None
    iteration_index: int | None
    state: str = Field(description="Kestra state: SUCCESS, FAILED, RUNNING...")
    status: Status = Field(description="The status of its task output.")
    start_date: str
    end_date: str | None = Field(description="Null while the run is not finished.")
    duration: str | None = Field(description="ISO 8601 duration (PT1.2S) up to the last change.")
    state_history: list[StateChange]
    attempts: list[Attempt]
    error: str | None
    metrics: list[dict[str, Any]]


class TaskExecutionPage(BaseModel):
    """One page of task runs, newest first."""

    data: list[TaskExecution]
    has_more: bool = Field(
        description="More runs follow: pass the last id as starting_after for the next page."
    )
