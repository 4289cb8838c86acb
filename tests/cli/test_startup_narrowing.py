"""``kflow CMD`` builds only CMD's Click command (start-up cost), while help and unknown
names still see every command."""

from __future__ import annotations

import pytest

from kflow.cli import _invoked_command
from tests.conftest import kflow_cli


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["run", "f.yml"], "run"),
        (["--db", "postgresql://x", "--org", "acme", "outputs", "last"], "outputs"),
        (["--debug", "kv", "list"], "kv"),
        (["--help"], None),
        ([], None),
        (["--version"], None),
    ],
)
def test_the_command_is_found_after_root_options(argv: list[str], name: str | None) -> None:
    assert _invoked_command(argv) == name


def test_commands_still_work_and_typos_still_get_suggestions() -> None:
    kv = kflow_cli("--org", "acme", "kv", "list")
    assert kv.returncode == 0, kv.stderr
    typo = kflow_cli("runn", "f.yml")
    assert typo.returncode == 2
    assert "run" in typo.stderr  # the close match comes from the full command list
    helped = kflow_cli("--help")
    for command in ("run", "resume", "kv", "secrets", "preview", "download"):
        assert command in helped.stdout
