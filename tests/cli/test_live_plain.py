"""In a pipe the progress lines are plain text (kflow.cli.views.PlainView, no Rich); they are
the very characters Rich prints for the same events (forced colours in a pipe), except a
tab, which Rich expands to tab stops and a plain log keeps as it is."""

from __future__ import annotations

import pytest

from kflow.cli import render, views
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


def _rich(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(render.time, "strftime", lambda fmt: "12:00:00")
    with render.LiveView() as view:
        assert not view.tty
        for event in _events():
            view.on_event(event)
    return capsys.readouterr().out


def _plain(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(views, "_stamp", lambda: "12:00:00")
    with views.PlainView() as view:
        for event in _events():
            view.on_event(event)
    return capsys.readouterr().out


def test_plain_lines_are_what_rich_printed(capsys, monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    assert views.plain_output()  # captured stdout: not a terminal, no forced colours
    plain = _plain(capsys, monkeypatch).splitlines()
    rich = _rich(capsys, monkeypatch).splitlines()
    assert len(plain) == len(rich)
    for ours, theirs in zip(plain, rich, strict=True):
        assert ours.expandtabs(8) == theirs  # Rich expands a tab to 8-column stops
    assert "12:00:00 t trailing  " in plain
    assert "12:00:00 t tab\there" in plain  # the tab kept
