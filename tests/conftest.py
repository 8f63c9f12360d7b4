"""Settings every test runs under."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from pipeline.extract.language import CACHE_VARIABLE


@pytest.fixture(autouse=True, scope="session")
def cache_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The unpacked language model goes to a folder of the test session, not to the
    user's cache (subprocesses and workers inherit the variable)."""
    before = os.environ.get(CACHE_VARIABLE)
    os.environ[CACHE_VARIABLE] = str(tmp_path_factory.mktemp("cache"))
    yield
    if before is None:
        os.environ.pop(CACHE_VARIABLE, None)
    else:
        os.environ[CACHE_VARIABLE] = before
