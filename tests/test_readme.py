"""The README's Python examples run, and do what the README says."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import respx

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_the_readme_has_its_python_examples() -> None:
    assert len(_python_blocks()) >= 3


def test_the_connector_example_delivers_and_passes_the_contract_suite() -> None:
    connector, usage, contract_block = _python_blocks()[:3]
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(connector, "README:connector", "exec", dont_inherit=True), namespace)

    with respx.mock(assert_all_called=True) as mock:
        route = mock.post("https://example.com/hook").mock(return_value=httpx.Response(200))
        exec(compile(usage, "README:usage", "exec", dont_inherit=True), namespace)
    sent = route.calls.last.request
    assert sent.headers["authorization"] == "Bearer t0k3n"
    assert namespace["lifecycle"].delivered
    assert "t0k3n" not in namespace["lifecycle"].to_json()

    # The contract example, with the connector defined above standing in for `my_connector`.
    code = contract_block.replace("from my_connector import destination\n", "")
    exec(compile(code, "README:contract", "exec", dont_inherit=True), namespace)
    from sdk.testing import run_contract

    results = run_contract(namespace["TestMyHookContract"].contract)
    assert [r for r in results if r.status == "failed"] == []
