"""The sandbox connector passes the whole contract suite."""

from connectors.sandbox.contract import contract
from sdk.testing import ContractTests


class TestSandboxContract(ContractTests):
    contract = contract
