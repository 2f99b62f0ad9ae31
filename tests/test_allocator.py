"""A command run allocates Arrow buffers with malloc, unless the user chose Arrow's allocator."""

from __future__ import annotations

import os

import pyarrow as pa
import pytest

from markers.write.allocator import ENVIRONMENT, use_system_allocator


@pytest.fixture
def pool():
    before = pa.default_memory_pool()
    yield
    pa.set_memory_pool(before)


def test_system_allocator_for_the_run_and_its_children(monkeypatch, pool):
    monkeypatch.delenv(ENVIRONMENT, raising=False)
    use_system_allocator()
    assert pa.default_memory_pool().backend_name == "system"
    assert os.environ[ENVIRONMENT] == "system"  # child processes (report --jobs) start with it


def test_the_users_choice_is_kept(monkeypatch, pool):
    monkeypatch.setenv(ENVIRONMENT, "mimalloc")
    try:
        pa.set_memory_pool(pa.mimalloc_memory_pool())
    except NotImplementedError:
        pytest.skip("this Arrow build has no mimalloc")
    use_system_allocator()
    assert pa.default_memory_pool().backend_name == "mimalloc"
    assert os.environ[ENVIRONMENT] == "mimalloc"
