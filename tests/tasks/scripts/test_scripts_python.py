"""Python script tasks: the cached virtualenv, Python's environment, the output protocol."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from kflow.errors import TaskError
from kflow.states import State
from kflow.tasks.scripts.python_commands import PythonCommands
from kflow.tasks.scripts.python_script import PythonScript, with_json_literals
from kflow.tasks.scripts.venv import READY_MARKER, is_cacheable_pip_install


@pytest.fixture
def shared_home(python_home: Path) -> Path:
    """The session's Python home: the base and bare virtualenvs are built once."""
    return python_home


def _wheel(directory: Path, name: str = "tinypkg", value: int = 42) -> Path:
    """A minimal pure-Python wheel (built here: no package index needed)."""
    files = {
        f"{name}.py": f"VALUE = {value}\n".encode(),
        f"{name}-0.1.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n".encode()
        ),
        f"{name}-0.1.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: kflow-tests\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{name}-0.1.dist-info/RECORD,,")
    files[f"{name}-0.1.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = directory / f"{name}-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return wheel


def _venvs(home: Path) -> list[Path]:
    """The task venvs (not the ``_base`` template they are copied from)."""
    root = home / "venvs"
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and p.name != "_base")


@pytest.mark.parametrize(
    ("line", "cacheable"),
    [
        ("pip install polars", True),
        ("pip3 install 'pandas>=2' requests==2.32.0", True),
        ("python -m pip install --upgrade pip", True),
        ("pip install --no-index /opt/wheels/x-1.0-py3-none-any.whl", True),
        ("pip install git+https://github.com/org/repo", True),
        ("pip install -r requirements.txt", False),
        ("pip install --requirement=req.txt", False),
        ("pip install -e .", False),
        ("pip install ./local_pkg", False),
        ("pip install dist/x.whl", False),
        ("pip install x.whl", False),
        ("pip install polars && echo ok", False),
        ("pip install $PKG", False),
        ("pip install", False),
        ("apt-get install -y jq", False),
        ("export X=1", False),
    ],
)
def test_cacheable_pip_lines(line, cacheable):
    assert is_cacheable_pip_install(line) is cacheable


def test_json_literals_prefix_respects_future_imports():
    assert with_json_literals("print(1)\n") == "true, false, null = True, False, None\nprint(1)\n"
    script = '"""doc"""\nfrom __future__ import annotations\nx = 1\n'
    assert with_json_literals(script) == (
        '"""doc"""\nfrom __future__ import annotations\n'
        "true, false, null = True, False, None\nx = 1\n"
    )


def test_python_script_runs_in_isolated_venv(make_ctx, run_task, shared_home):
    ctx = make_ctx(home=shared_home)
    ctx.set_vars(data='{"flag": true, "none": null, "n": 1}')
    script = """
import json, os, sys
from kestra import Kestra
data = {{ data }}
print(json.dumps(data, sort_keys=True))
print(sys.prefix)
print(os.environ["PYTHONUNBUFFERED"], os.environ["PIP_DISABLE_PIP_VERSION_CHECK"])
print(os.path.basename(sys.argv[0]).removesuffix(".py").isdigit())
try:
    import yaml  # in kflow's own environment, not in the task's
    print("leak")
except ImportError:
    print("isolated")
Kestra.outputs({"answer": 42, "ok": True})
Kestra.counter("rows", 3, {"table": "t"})
Kestra.timer("took", 0.25)
Kestra.logger().warning("be careful")
"""
    result = run_task(PythonScript, ctx, script=script)
    # the module's first Python task builds the shared venv and says so
    lines = [x for x in ctx.lines("INFO") if not x.startswith("Creating Python environment")]
    assert lines[0] == '{"flag": true, "n": 1, "none": null}'
    venv = Path(lines[1])
    assert venv.parent == shared_home / "venvs"
    assert venv != Path(sys.prefix)
    assert lines[2:] == ["true 1", "True", "isolated"]
    # kestra.py (plugin-scripts) turns booleans into "True"/"False" before sending them
    assert result.outputs["vars"] == {"answer": 42, "ok": "True"}
    assert ctx.metrics == [("rows", "counter", 3.0, {"table": "t"}), ("took", "timer", 0.25, {})]
    assert ("WARN", "be careful") in ctx.logs
    assert result.state is None


def test_python_commands_with_input_files(make_ctx, run_task, shared_home):
    ctx = make_ctx(home=shared_home)
    result = run_task(
        PythonCommands,
        ctx,
        inputFiles={
            "main.py": "import sys\nprint('args', sys.argv[1:])\nopen('o.txt','w').write('x')"
        },
        commands=["python main.py a b"],
        outputFiles=["o.txt"],
    )
    assert ctx.lines("INFO") == ["args ['a', 'b']"]
    assert ctx.read(result.outputs["outputFiles"]["o.txt"]) == "x"


def test_python_failure_keeps_traceback_tail(make_ctx, run_task, shared_home):
    ctx = make_ctx(home=shared_home)
    with pytest.raises(TaskError) as err:
        run_task(PythonScript, ctx, script="print('before')\nraise ValueError('boom')\n")
    assert err.value.outputs["exitCode"] == 1
    assert err.value.message.startswith("Command failed with exit code 1")
    assert err.value.message.endswith("ValueError: boom")


def test_python_stderr_warning(make_ctx, run_task, shared_home):
    ctx = make_ctx(home=shared_home)
    result = run_task(PythonScript, ctx, script="import sys\nprint('warn', file=sys.stderr)")
    assert result.state is State.WARNING
    assert ("ERROR", "warn") in ctx.logs


def test_venv_reused_and_pip_lines_skipped(make_ctx, run_task, tmp_path, shared_home):
    home = shared_home
    existing = set(_venvs(home))
    wheel = _wheel(tmp_path)
    props = {
        "beforeCommands": [f"pip install --no-index {wheel}"],
        "script": "import tinypkg\nprint('value', tinypkg.VALUE)",
    }
    first = make_ctx(home=home)
    run_task(PythonScript, first, **props)
    assert first.lines("INFO")[-1] == "value 42"
    assert any(line.startswith("Creating Python environment") for line in first.lines("INFO"))
    assert any("Successfully installed tinypkg-0.1" in line for line in first.lines())
    (venv,) = set(_venvs(home)) - existing
    marker = json.loads((venv / READY_MARKER).read_text())
    assert marker["beforeCommands"] == props["beforeCommands"]
    assert marker["kind"] == "pip"

    second = make_ctx(home=home)
    started = time.monotonic()
    run_task(PythonScript, second, **props)
    second_run = time.monotonic() - started
    assert second.logs == [
        ("DEBUG", f"Using cached Python environment {venv}"),
        ("INFO", "value 42"),
    ]
    assert set(_venvs(home)) - existing == {venv}
    # Reported by the test run (-s); the budget is checked in bench/, not asserted here.
    print(f"\nvenv reuse: second run took {second_run:.3f}s")

    # other beforeCommands → another venv, the first one untouched
    third = make_ctx(home=home)
    run_task(PythonScript, third, beforeCommands=["pip --version"], script="print('other')")
    assert len(set(_venvs(home)) - existing) == 2
    assert (venv / READY_MARKER).is_file()


def test_failed_install_leaves_no_ready_venv(make_ctx, run_task, shared_home):
    home = shared_home
    ctx = make_ctx(home=home)
    existing = set(_venvs(home))
    with pytest.raises(TaskError) as err:
        run_task(
            PythonScript,
            ctx,
            beforeCommands=["pip install --no-index kflow-no-such-package-xyz"],
            script="print('never')",
        )
    assert err.value.message.startswith("Installing the Python dependencies failed")
    assert err.value.outputs["exitCode"] != 0
    assert "never" not in ctx.lines()
    assert set(_venvs(home)) == existing


def test_mixed_before_commands_run_every_time(make_ctx, run_task, tmp_path, shared_home):
    home = shared_home
    existing = set(_venvs(home))
    wheel = _wheel(tmp_path, "mixedpkg", 7)
    props = {
        "beforeCommands": ["export FROM_BEFORE=yes", f"pip install -q --no-index {wheel}"],
        "commands": [
            "python -c 'import os, mixedpkg; print(os.environ[\"FROM_BEFORE\"], mixedpkg.VALUE)'"
        ],
    }
    for _ in range(2):
        ctx = make_ctx(home=home)
        run_task(PythonCommands, ctx, **props)
        assert ctx.lines("INFO")[-1] == "yes 7"
    assert len(set(_venvs(home)) - existing) == 1


def test_dependency_cache_disabled_uses_throwaway_venv(make_ctx, run_task, shared_home):
    home = shared_home
    ctx = make_ctx(home=home)
    existing = set(_venvs(home))
    run_task(
        PythonScript,
        ctx,
        dependencyCacheEnabled=False,
        script="import sys\nprint(sys.prefix)",
    )
    prefix = Path(ctx.lines("INFO")[-1])
    assert prefix.name.startswith("nocache-")
    assert not prefix.exists()
    assert set(_venvs(home)) == existing


PRODUCTS = {
    "products": [
        {
            "id": 1,
            "title": "Mascara",
            "brand": "Essence",
            "price": 9.99,
            "stock": 5,
            "discounted": True,
            "warranty": None,
        },
        {
            "id": 2,
            "title": "Palette",
            "brand": "Glamour Beauty",
            "price": 19.99,
            "stock": 0,
            "discounted": False,
            "warranty": None,
        },
        {
            "id": 3,
            "title": "Perfume",
            "brand": "Chanel",
            "price": 129.5,
            "stock": 2,
            "discounted": True,
            "warranty": "1 year",
        },
    ],
    "total": 3,
    "skip": 0,
    "limit": 30,
}


def test_tutorial_polars_products_csv(make_ctx, run_task, httpserver, shared_home):
    """Seed 001: the Python task writing products.csv with polars from beforeCommands.

    The HTTP Request task is not part of this unit: the API body is fetched from a local
    server here and its `products` array given to the template as JSON text, as
    `{{ outputs.api.body | jq('.products') | first }}` prints it. Installing polars needs
    the package index once; if it cannot be reached this test fails.
    """
    httpserver.expect_request("/products").respond_with_json(PRODUCTS)
    with urllib.request.urlopen(httpserver.url_for("/products"), timeout=10) as response:
        body = json.loads(response.read())
    home = shared_home
    props = {
        "containerImage": "python:slim",
        "beforeCommands": ["pip install polars"],
        "outputFiles": ["products.csv"],
        "script": (
            "import polars as pl\n"
            "data = {{ products }}\n"
            "df = pl.from_dicts(data)\n"
            "df.glimpse()\n"
            'df.select(["brand", "price"]).write_csv("products.csv")\n'
        ),
    }
    runs = []
    for _ in range(2):
        ctx = make_ctx({"products": json.dumps(body["products"])}, home=home)
        started = time.monotonic()
        result = run_task(PythonScript, ctx, **props)
        runs.append(time.monotonic() - started)
        assert result.outputs["exitCode"] == 0
        assert list(result.outputs["outputFiles"]) == ["products.csv"]
        csv = ctx.read(result.outputs["outputFiles"]["products.csv"])
        assert csv == "brand,price\nEssence,9.99\nGlamour Beauty,19.99\nChanel,129.5\n"
        assert ctx.logs[0][0] == "WARN" and "containerImage 'python:slim' ignored" in ctx.logs[0][1]
        assert any(line.startswith("Rows: 3") for line in ctx.lines("INFO"))
    assert any(line.startswith("Using cached Python environment") for line in ctx.lines("DEBUG"))
    print(f"\npolars: first run {runs[0]:.2f}s, second run {runs[1]:.2f}s")


def test_dependencies_are_installed_and_cached(make_ctx, run_task, tmp_path, shared_home):
    wheel = _wheel(tmp_path, "deppkg", 5)
    props = {
        "dependencies": [str(wheel)],
        "script": "import deppkg\nprint('dep', deppkg.VALUE)",
    }
    first = make_ctx(home=shared_home)
    run_task(PythonScript, first, **props)
    assert first.lines("INFO")[-1] == "dep 5"
    second = make_ctx(home=shared_home)
    run_task(PythonScript, second, **props)
    assert second.lines("INFO") == ["dep 5"]
    assert second.lines("DEBUG")[0].startswith("Using cached Python environment")


def test_unavailable_python_version_falls_back_with_a_warning(make_ctx, run_task, shared_home):
    ctx = make_ctx(home=shared_home)
    run_task(PythonScript, ctx, pythonVersion="3.99", script="print('ran')")
    assert ctx.lines("WARN")[0].startswith("pythonVersion 3.99 is not installed on this machine")
    assert ctx.lines("INFO")[-1] == "ran"
