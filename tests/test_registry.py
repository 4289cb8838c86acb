"""Task registry: built-ins equal the declared entry points; plugins load lazily and safely."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from kflow.errors import FlowValidationError
from kflow.tasks import registry
from kflow.tasks.base import BUILTINS, Prop, RunContext, Task

ROOT = Path(__file__).resolve().parent.parent


def test_builtins_match_pyproject_entry_points():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["project"]["entry-points"]["kflow.tasks"] == BUILTINS


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_builtin_imports_and_declares_its_type(name):
    cls = registry.lookup(name)
    assert cls is not None and cls.type == name
    for alias in cls.aliases:
        assert registry.canonical_type(alias) == name


def test_third_party_plugin_through_entry_point(monkeypatch, write_flow, tmp_path):
    import sys
    import textwrap

    pkg = tmp_path / "plugin_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        textwrap.dedent(
            """
            from kflow.tasks.base import Prop, Task

            class Hello(Task):
                type = "com.example.Hello"
                properties = {"name": Prop(required=True, kind="string")}

                def run(self, ctx):
                    return {"greeting": "Hello " + ctx.render(self.spec.props["name"])}
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_entry_points", {"com.example.Hello": "plugin_pkg:Hello",
                                                 "com.example.Broken": "plugin_pkg_missing:X"})
    from kflow.api import run_flow

    ex = run_flow(write_flow(
        "id: p\nnamespace: n\ntasks:\n  - {id: h, type: com.example.Hello, name: '{{ flow.id }}'}\n"
    ))
    assert ex.task_runs[0].outputs == {"greeting": "Hello p"}
    with pytest.raises(FlowValidationError, match="cannot be loaded"):
        run_flow(write_flow(
            "id: p\nnamespace: n\ntasks:\n  - {id: h, type: com.example.Broken}\n", "b.yml"
        ))
    sys.modules.pop("plugin_pkg", None)


def test_register_in_process():
    class Echo(Task):
        type = "com.example.Echo"
        properties = {"text": Prop()}

        def run(self, ctx: RunContext):
            return {"text": self.prop("text")}

    registry.register(Echo)
    assert registry.lookup("com.example.Echo") is Echo
