"""A Kestra test suite file, read exactly as Kestra defines it (``TestSuite``, ``UnitTest``,
``Fixtures``, ``TaskFixture``, ``Assertion``); a bad suite raises :class:`SuiteError` with
``file:line``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kflow.errors import KflowError
from kflow.states import TERMINAL, State

UNIT_TEST = "io.kestra.core.tests.flow.UnitTest"

# Kestra's order of the results of one assertion (Assertion.java)
OPERATORS = (
    "isNull", "isNotNull", "endsWith", "startsWith", "equalTo", "contains", "notEqualTo",
    "greaterThan", "greaterThanOrEqualTo", "lessThan", "lessThanOrEqualTo", "in", "notIn",
)  # fmt: skip
# early Kestra 0.23 names, still read
ALIASES = {"equalsTo": "equalTo", "notEqualsTo": "notEqualTo"}
_ASSERTION_KEYS = {"value", "taskId", "errorMessage", "description"}

_SUITE_ID = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_-]*")
_NAMESPACE = re.compile(r"[a-z0-9][a-z0-9._-]*")
_FLOW_ID = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]*")


class SuiteError(KflowError):
    """A test suite kflow cannot run: not a suite, a missing or wrong key (exit 2)."""

    exit_code = 2


@dataclass(frozen=True)
class TaskFixture:
    """A mocked task: it does not run; its run takes ``state`` and ``outputs`` (rendered).
    It matches a task run with this task id and this ``value`` (None: outside any loop)."""

    id: str
    value: str | None = None
    state: State = State.SUCCESS
    outputs: dict[str, Any] | None = None
    description: str | None = None

    def matches(self, task_id: str, value: str | None) -> bool:
        """Kestra's ``Execution.getFixtureForTaskRun``: same id and same value."""
        return self.id == task_id and self.value == value


@dataclass(frozen=True)
class Fixtures:
    """What a test case puts in place of the outside world."""

    inputs: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    tasks: tuple[TaskFixture, ...] = ()
    trigger: dict[str, Any] | None = None


@dataclass(frozen=True)
class Assertion:
    """One ``assertions`` item: ``value`` and its operators, as (operator, expected) pairs
    in Kestra's order."""

    value: Any
    checks: tuple[tuple[str, Any], ...]
    task_id: str | None = None
    error_message: str | None = None
    description: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class TestCase:
    """One ``testCases`` item (``io.kestra.core.tests.flow.UnitTest``)."""

    __test__ = False  # not a pytest class

    id: str
    type: str
    assertions: tuple[Assertion, ...]
    fixtures: Fixtures = field(default_factory=Fixtures)
    description: str | None = None
    disabled: bool = False
    line: int | None = None


@dataclass(frozen=True)
class TestSuite:
    """A test suite: the flow it tests and its cases."""

    __test__ = False

    id: str
    namespace: str
    flow_id: str
    test_cases: tuple[TestCase, ...]
    description: str | None = None
    disabled: bool = False
    path: str | None = None
    line: int | None = None


def is_suite(data: Any) -> bool:
    """Whether parsed YAML looks like a test suite (a mapping with flowId and testCases)."""
    return isinstance(data, dict) and "flowId" in data and "testCases" in data


def load_suite(path: str | Path) -> TestSuite:
    """Read and check a test suite file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"cannot read the test suite {path}: {exc}", path=str(path)) from None
    return parse_suite(text, str(path))


def parse_suite(text: str, path: str | None = None) -> TestSuite:
    """Parse a test suite's YAML text; every problem raises :class:`SuiteError` with
    ``path:line``."""
    from kflow.flow.loader import parse_yaml

    try:
        data = parse_yaml(text, path)
    except KflowError as exc:
        raise SuiteError(exc.message, path=path, line=exc.line, column=exc.column) from None
    return _Reader(path).suite(data)


class _Reader:
    def __init__(self, path: str | None) -> None:
        self.path = path

    def error(
        self, message: str, where: Any = None, key: Any = None, hint: str | None = None
    ) -> SuiteError:
        line = column = None
        if key is not None and hasattr(where, "mark"):
            line, column = where.mark(key)
        elif where is not None:
            line, column = getattr(where, "line", None), getattr(where, "column", None)
        return SuiteError(f"Invalid TestSuite: {message}", path=self.path, line=line, column=column,
                          hint=hint)  # fmt: skip

    def string(self, data: dict[str, Any], key: str, where: str, *, required: bool = True,
               pattern: re.Pattern[str] | None = None) -> str | None:  # fmt: skip
        value = data.get(key)
        if value is None:
            if required:
                raise self.error(f"{where}{key}: must not be null", data, hint=f"add '{key}:'")
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.error(f"{where}{key}: must be a string", data, key)
        value = str(value)
        if pattern is not None and not pattern.fullmatch(value):
            raise self.error(f"{where}{key}: '{value}' must match {pattern.pattern}", data, key)
        return value

    def boolean(self, data: dict[str, Any], key: str, where: str) -> bool:
        value = data.get(key, False)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.error(f"{where}{key}: must be true or false", data, key)
        return value

    def mapping(self, value: Any, where: str, parent: Any, key: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(f"{where}: must be a mapping", parent, key)
        return value

    def suite(self, data: Any) -> TestSuite:
        if not is_suite(data):
            raise self.error("not a test suite (a mapping with flowId and testCases)", data)
        cases = data.get("testCases")
        if not isinstance(cases, list) or not cases:
            raise self.error("testCases: must not be empty", data, "testCases",
                             hint="add at least one test case")  # fmt: skip
        test_cases = tuple(self.case(c, i) for i, c in enumerate(cases))
        seen: set[str] = set()
        for case in test_cases:
            if case.id in seen:
                raise SuiteError(f"Invalid TestSuite: testCases: duplicate id '{case.id}'",
                                 path=self.path, line=case.line)  # fmt: skip
            seen.add(case.id)
        return TestSuite(
            id=self.string(data, "id", "", pattern=_SUITE_ID) or "",
            namespace=self.string(data, "namespace", "", pattern=_NAMESPACE) or "",
            flow_id=self.string(data, "flowId", "", pattern=_FLOW_ID) or "",
            test_cases=test_cases,
            description=self.string(data, "description", "", required=False),
            disabled=self.boolean(data, "disabled", ""),
            path=self.path,
            line=getattr(data, "line", None),
        )

    def case(self, data: Any, index: int) -> TestCase:
        where = f"testCases[{index}]."
        if not isinstance(data, dict):
            raise self.error(f"testCases[{index}]: must be a mapping", data)
        case_id = self.string(data, "id", where) or ""
        case_type = self.string(data, "type", where) or ""
        if case_type != UNIT_TEST:
            raise self.error(f"{where}type: unknown test type '{case_type}'", data, "type",
                             hint=f"use type: {UNIT_TEST}")  # fmt: skip
        assertions = data.get("assertions")
        if not isinstance(assertions, list) or not assertions:
            raise self.error(f"{where}assertions: must not be empty", data,
                             "assertions" if "assertions" in data else None)  # fmt: skip
        return TestCase(
            id=case_id,
            type=case_type,
            assertions=tuple(
                self.assertion(a, f"{where}assertions[{i}]") for i, a in enumerate(assertions)
            ),  # fmt: skip
            fixtures=self.fixtures(data.get("fixtures"), where, data),
            description=self.string(data, "description", where, required=False),
            disabled=self.boolean(data, "disabled", where),
            line=getattr(data, "line", None),
        )

    def fixtures(self, value: Any, where: str, parent: Any) -> Fixtures:
        data = self.mapping(value, f"{where}fixtures", parent, "fixtures")
        where = f"{where}fixtures."
        files = self.mapping(data.get("files"), f"{where}files", data, "files")
        for name, content in files.items():
            if not isinstance(content, str):
                raise self.error(f"{where}files.{name}: must be the file's content (a string)",
                                 files, name)  # fmt: skip
        tasks = data.get("tasks")
        if tasks is not None and not isinstance(tasks, list):
            raise self.error(f"{where}tasks: must be a list", data, "tasks")
        trigger = data.get("trigger")
        if trigger is not None:
            trigger = self.mapping(trigger, f"{where}trigger", data, "trigger")
            for key in ("id", "type"):
                self.string(trigger, key, f"{where}trigger.")
            variables = self.mapping(trigger.get("variables"), f"{where}trigger.variables",
                                     trigger, "variables")  # fmt: skip
            trigger = {"id": trigger["id"], "type": trigger["type"], "variables": dict(variables)}
        return Fixtures(
            inputs=dict(self.mapping(data.get("inputs"), f"{where}inputs", data, "inputs")),
            files={str(k): v for k, v in files.items()},
            tasks=tuple(self.task(t, f"{where}tasks[{i}].") for i, t in enumerate(tasks or [])),
            trigger=trigger,
        )

    def task(self, data: Any, where: str) -> TaskFixture:
        if not isinstance(data, dict):
            raise self.error(f"{where[:-1]}: must be a mapping", data)
        state_name = self.string(data, "state", where, required=False) or "SUCCESS"
        state = next((s for s in TERMINAL if s.value == state_name), None)
        if state is None:  # a fixture ends its task run: a state a run can end in
            raise self.error(f"{where}state: unknown state '{state_name}'", data, "state",
                             hint=f"one of {', '.join(sorted(TERMINAL))}")  # fmt: skip
        outputs = data.get("outputs")
        if outputs is not None and not isinstance(outputs, dict):
            raise self.error(f"{where}outputs: must be a mapping", data, "outputs")
        return TaskFixture(
            id=self.string(data, "id", where) or "",
            value=self.string(data, "value", where, required=False),
            state=state,
            outputs=dict(outputs) if outputs is not None else None,
            description=self.string(data, "description", where, required=False),
        )

    def assertion(self, data: Any, where: str) -> Assertion:
        if not isinstance(data, dict):
            raise self.error(f"{where}: must be a mapping", data)
        if "value" not in data:
            raise self.error(f"{where}.value: must not be null", data, hint="add 'value:'")
        found: dict[str, Any] = {}
        for key, expected in data.items():
            name = ALIASES.get(key, key)
            if name in OPERATORS:
                found[name] = expected
            elif key not in _ASSERTION_KEYS:
                raise self.error(f"{where}: unknown operator '{key}'", data, key,
                                 hint=f"one of {', '.join(OPERATORS)}")  # fmt: skip
        checks = tuple((op, found[op]) for op in OPERATORS if op in found
                       and not (op in ("in", "notIn") and found[op] == []))  # fmt: skip
        if not found:
            raise self.error(f"{where}: at least one actual assertion is required "
                             "(equalTo, greaterThan..)", data)  # fmt: skip
        for op in ("in", "notIn"):
            if op in found and not isinstance(found[op], list):
                raise self.error(f"{where}.{op}: must be a list", data, op)
        for op in ("isNull", "isNotNull"):
            if op in found and not isinstance(found[op], bool):
                raise self.error(f"{where}.{op}: must be true or false", data, op)
        return Assertion(
            value=data["value"],
            checks=checks,
            task_id=self.string(data, "taskId", f"{where}.", required=False),
            error_message=self.string(data, "errorMessage", f"{where}.", required=False),
            description=self.string(data, "description", f"{where}.", required=False),
            line=getattr(data, "line", None),
        )
