"""The pytest face of the contract suite: subclass :class:`ContractTests`, set ``contract``.

    from sdk.testing import Contract, ContractTests
    from connectors.acme import destination

    class TestAcmeContract(ContractTests):
        contract = Contract(destination, settings={"api_key": "test-key-0001"})

pytest then collects one test per check (``test_settings_model``, ``test_retries``, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from sdk.testing._contract_model import Check, Contract
from sdk.testing._contract_runner import CHECKS, run_check

__all__ = ["ContractTests"]


def _make_test(check: Check) -> Callable[[Any], None]:
    def test(self: ContractTests) -> None:
        import pytest

        result = run_check(self.contract, check)
        if result.status == "skipped":
            pytest.skip(result.message)
        if result.status == "failed":
            pytest.fail(f"[{result.connector}] {check.name}: {result.message}", pytrace=False)

    test.__name__ = f"test_{check.name}"
    test.__doc__ = check.description
    return test


class ContractTests:
    """Base class: one pytest test per contract check, run against ``contract``."""

    __test__ = True
    contract: ClassVar[Contract]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "contract" not in cls.__dict__ and not any(
            "contract" in base.__dict__ for base in cls.__mro__[1:] if base is not ContractTests
        ):
            raise TypeError(f"{cls.__name__} must set `contract = Contract(...)`")
        cls.__test__ = True


for _check in CHECKS:
    setattr(ContractTests, f"test_{_check.name}", _make_test(_check))
ContractTests.__test__ = False  # the base itself has no contract; subclasses turn it back on
