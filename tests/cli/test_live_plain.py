"""In a pipe the live view writes its progress lines as plain text (no Rich rendering per
line); they must be the very characters Rich printed."""

from __future__ import annotations

import pytest

from kflow.cli import render
from kflow.engine.executor import Event
from kflow.records import Execution, TaskRun
from kflow.states import State

MESSAGES = ["hello", "trailing  ", "two\nlines", "tab\there", "ünïcödé ✓ 東京", "[bold]x[/]", ":smile:", "", "\x1b[31mred"]


def _events() -> list[Event]:
    ex = Execution(id="E1", namespace="company.team", flow_id="f")
    tr = TaskRun(id="T1", execution_id="E1", namespace="company.team", flow_id="f", task_id="t")
    each = TaskRun(id="T2", execution_id="E1", namespace="company.team", flow_id="f", task_id="r",
                   value="a\tb ✓")  # fmt: skip
    events = [Event("log", ex, tr, "INFO", m) for m in MESSAGES]
    events += [Event("log", ex, None, "WARN", "flow-level"), Event("log", ex, each, "ERROR", "x", 1)]
    for run in (tr, each):
        run.state.set(State.RUNNING)
        events.append(Event("taskrun", ex, run, depth=1))
        run.state.set(State.SUCCESS)
        events.append(Event("taskrun", ex, run))
    return events


def _lines(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, plain: bool) -> str:
    monkeypatch.setattr(render.time, "strftime", lambda fmt: "12:00:00")
    with render.LiveView() as view:
        assert not view.tty
        view.plain = plain
        for event in _events():
            view.on_event(event)
    return capsys.readouterr().out


def test_plain_lines_are_what_rich_printed(capsys, monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    assert render.LiveView().plain  # a pipe without forced colours
    plain = _lines(capsys, monkeypatch, True)
    rich = _lines(capsys, monkeypatch, False)
    assert plain == rich
    assert "12:00:00 t trailing  \n" in plain
