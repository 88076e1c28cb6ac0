"""Shared fixtures of the kernel tests: the g++-compiled device-function libraries."""

from __future__ import annotations

import pytest

from engine.kernels import host_harness
from engine.kernels.sources import FAMILY_HEADERS, family_available


class HostLibraries:
    """Per-family ctypes libraries of the device functions, built on first use."""

    def __init__(self, work_dir):
        self.work_dir = work_dir
        self._built = {}  # family -> ctypes.CDLL (this fixture's own cache)

    def get(self, family: str):
        if not family_available(family):
            pytest.skip(f"{FAMILY_HEADERS[family]} not written yet")
        if family not in self._built:
            self._built[family] = host_harness.build_host_library(family, self.work_dir)
        return self._built[family]


@pytest.fixture(scope="session")
def host_libraries(tmp_path_factory) -> HostLibraries:
    if host_harness.host_compiler() is None:
        pytest.skip("no host C++ compiler (g++) for the device-function harness")
    return HostLibraries(tmp_path_factory.mktemp("ql_host"))
