"""destkit's pytest plugin (registered through the ``pytest11`` entry point).

It gives every project that installs destkit:

- the ``sandbox`` fixture: a running loopback sandbox destination (``.url``, ``.requests``,
  ``.set_faults(...)``), stopped after the test;
- the ``mock_vendor_api`` fixture: every httpx call mocked, answered 200 unless told otherwise;
- the contract suite, by subclassing ``sdk.testing.ContractTests``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sdk.testing._mockapi import MockAPI, mock_api
from sdk.testing._sandbox import Sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A sandbox destination server on a free loopback port."""
    with Sandbox() as server:
        yield server


@pytest.fixture
def mock_vendor_api() -> Iterator[MockAPI]:
    """Every HTTP call through httpx mocked; ``.requests`` holds what was sent."""
    with mock_api() as api:
        yield api
