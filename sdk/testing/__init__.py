"""Testing tools for connectors: the contract suite, a mocked vendor API, and the sandbox.

- :class:`Contract` / :class:`ContractTests`: declare a connector's contract and get the whole
  suite in pytest with one subclass; ``destkit contract`` runs it without pytest.
- :func:`mock_api`: respx-backed mock of every HTTP call, with fault injection.
- :class:`Sandbox`: a real HTTP server on loopback for end-to-end tests (``with Sandbox() as
  sandbox:``, a free port, ``sandbox.url``, ``sandbox.requests``), with :class:`Faults`.
"""

from sdk.testing._contract_model import Check, CheckResult, Contract, ContractViolation
from sdk.testing._contract_runner import CHECKS, run_contract
from sdk.testing._contract_samples import sample_events
from sdk.testing._mockapi import MockAPI, decoded_body, mock_api
from sdk.testing._pytest_face import ContractTests
from sdk.testing._sandbox import FaultError, Faults, RecordedRequest, Sandbox

__all__ = [
    "CHECKS",
    "Check",
    "CheckResult",
    "Contract",
    "ContractTests",
    "ContractViolation",
    "FaultError",
    "Faults",
    "MockAPI",
    "RecordedRequest",
    "Sandbox",
    "decoded_body",
    "mock_api",
    "run_contract",
    "sample_events",
]
