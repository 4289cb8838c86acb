"""Finds flows by namespace and id in a directory tree (for subflows)."""

from __future__ import annotations

from pathlib import Path

from kflow.errors import FlowError, KflowError, NotFoundError
from kflow.flow.loader import parse_yaml
from kflow.flow.model import Flow


class FlowRepository:
    """Every ``*.yml``/``*.yaml`` below ``root``, indexed by (namespace, id) on first use."""

    def __init__(self, root: Path, preloaded: list[Flow] | None = None) -> None:
        self.root = Path(root)
        self._index: dict[tuple[str, str], list[Path]] | None = None
        self._unreadable: list[str] = []
        self._cache: dict[Path, Flow] = {}
        for flow in preloaded or []:
            if flow.path:
                self._cache[Path(flow.path).resolve()] = flow

    def _scan(self) -> dict[tuple[str, str], list[Path]]:
        if self._index is None:
            index: dict[tuple[str, str], list[Path]] = {}
            if self.root.is_dir():
                files = sorted([*self.root.rglob("*.yml"), *self.root.rglob("*.yaml")])
                for path in files:
                    if any(part.startswith(".") for part in path.relative_to(self.root).parts):
                        continue
                    try:
                        data = parse_yaml(path.read_text(encoding="utf-8"), str(path))
                    except (KflowError, OSError, UnicodeDecodeError):
                        self._unreadable.append(str(path))
                        continue
                    if isinstance(data, dict) and isinstance(data.get("id"), str):
                        key = (str(data.get("namespace")), data["id"])
                        index.setdefault(key, []).append(path.resolve())
            self._index = index
        return self._index

    def find(self, namespace: str, flow_id: str) -> Flow:
        from kflow.flow.validate import load_flow

        paths = self._scan().get((namespace, flow_id), [])
        if not paths:
            hint = f"put a file defining id: {flow_id} / namespace: {namespace} under {self.root}"
            if self._unreadable:
                hint += f" (unreadable YAML files: {', '.join(self._unreadable[:3])})"
            raise NotFoundError(f"flow {namespace}.{flow_id} not found in {self.root}", hint=hint)
        if len(paths) > 1:
            raise FlowError(
                f"flow {namespace}.{flow_id} is defined twice: {paths[0]} and {paths[1]}",
                hint="keep one file per flow id in the flows directory",
            )
        path = paths[0]
        if path not in self._cache:
            self._cache[path] = load_flow(path)
        return self._cache[path]
