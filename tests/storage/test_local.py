"""Internal storage: Kestra's layout and slugs, atomic writes, hostile URIs refused."""

from __future__ import annotations

import io

import pytest

from kflow.errors import NotFoundError, StorageError
from kflow.storage.base import slugify, taskrun_prefix
from kflow.storage.local import LocalStorage


@pytest.mark.parametrize(
    ("text", "slug"),
    [("My_Flow.v2", "my-flowv2"), ("extract_data", "extract-data"), ("Café au lait", "cafe-au-lait")],
)
def test_slugify(text, slug):
    assert slugify(text) == slug


def test_layout():
    assert taskrun_prefix("company.team", "My_Flow", "EXEC", "extract_data", "RUN") == (
        "/company/team/my-flow/executions/EXEC/tasks/extract-data/RUN"
    )


def test_put_open_list_delete(tmp_path):
    st = LocalStorage(tmp_path / "s")
    uri = "kestra:///company/team/f/executions/E/tasks/t/R/out.txt"
    assert st.put(uri, io.BytesIO(b"hello")) == uri
    with st.open(uri) as fh:
        assert fh.read() == b"hello"
    assert st.exists(uri) and st.size(uri) == 5
    assert list(st.list("kestra:///company/team/f/executions/E")) == [uri]
    assert st.delete("kestra:///company/team/f/executions/E") == 1
    assert not st.exists(uri)
    with pytest.raises(NotFoundError):
        st.open(uri)


@pytest.mark.parametrize(
    "uri",
    [
        "kestra:///company/../../etc/passwd",
        "kestra:///a/%2e%2e/%2e%2e/x",
        "kestra://host/x",
        "file:///etc/passwd",
        "/etc/passwd",
    ],
)
def test_hostile_uris_refused(tmp_path, uri):
    st = LocalStorage(tmp_path / "s")
    with pytest.raises(StorageError):
        st.open(uri)
