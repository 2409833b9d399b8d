"""Fixtures shared by the tests against the fake API server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes.client import ApiClient

from tests.kube.fake_apiserver import FakeApiServer


@pytest.fixture
def api(server: FakeApiServer) -> Iterator[ApiClient]:
    """A client of the module's fake API server (its ``server`` fixture)."""
    with server.api_client() as client:
        yield client
