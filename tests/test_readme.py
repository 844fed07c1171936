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
    blocks = _python_blocks()
    connector, usage = blocks[:2]
    [stream_block] = [block for block in blocks if ".stream(" in block]
    [contract_block] = [block for block in blocks if "ContractTests" in block]
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(connector, "README:connector", "exec", dont_inherit=True), namespace)

    with respx.mock(assert_all_called=True) as mock:
        route = mock.post("https://example.com/hook").mock(return_value=httpx.Response(200))
        exec(compile(usage, "README:usage", "exec", dont_inherit=True), namespace)
    sent = route.calls.last.request
    assert sent.headers["authorization"] == "Bearer t0k3n"
    assert namespace["lifecycle"].delivered
    assert "t0k3n" not in namespace["lifecycle"].to_json()

    # The stream() example over real loopback HTTP (its carrier is aiohttp, which respx does
    # not see): every event delivered, nothing printed for a failure.
    _stream_example(stream_block, namespace)

    # The contract example, with the connector defined above standing in for `my_connector`.
    code = contract_block.replace("from my_connector import destination\n", "")
    exec(compile(code, "README:contract", "exec", dont_inherit=True), namespace)
    from sdk.testing import run_contract

    results = run_contract(namespace["TestMyHookContract"].contract)
    assert [r for r in results if r.status == "failed"] == []


def _walk_through() -> str:
    text = README.read_text()
    start = text.index("### Walk-through: preview and send the example journey")
    return text[start : text.index("\n## ", start)]


def _sh_commands(section: str) -> list[list[str]]:
    """The ``destkit ...`` commands of the section's ``sh`` blocks, as argument lists."""
    import shlex

    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL):
        for command in block.replace("\\\n", " ").splitlines():
            words = shlex.split(command)
            if words and words[0] == "destkit" and words[-1] != "&":
                commands.append(words[1:])
    return commands


def test_the_journey_walk_through_shows_what_the_preview_prints(
    capsys: Any, monkeypatch: Any
) -> None:
    from sdk.cli import main

    monkeypatch.chdir(README.parent)
    section = _walk_through()
    preview, send = _sh_commands(section)
    assert main(preview) == 0
    out = capsys.readouterr().out
    (excerpt,) = re.findall(r"```text\n(.*?)```", section, flags=re.DOTALL)
    lines = [line for line in excerpt.splitlines() if line.strip() and line.strip() != "..."]
    assert lines and all(line in out.splitlines() for line in lines), lines

    # The send command, with a sandbox on a free port standing in for the README's 8787.
    from sdk.testing import Sandbox

    with Sandbox() as server:
        port = server.url.rsplit(":", 1)[1].rstrip("/")
        assert main([word.replace("8787", port) for word in send]) == 0
        out = capsys.readouterr().out
        assert "delivered (200 OK)" in out
        assert any(r.path == "/hooks/journeys" for r in server.requests)
        assert any(r.path == "/v1/batch" for r in server.requests)


def _stream_example(block: str, namespace: dict[str, Any]) -> None:
    import asyncio
    import contextlib
    import io

    from sdk.testing import Sandbox

    events = [{"type": "track", "event": "Signed Up", "userId": f"u{i}"} for i in range(5)]
    with Sandbox() as sandbox:
        code = block.replace("https://example.com/hook", f"{sandbox.url}/hook")
        assert code != block
        exec(compile(code, "README:stream", "exec", dont_inherit=True), namespace)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            asyncio.run(namespace["deliver_all"](events))
        sent = [event for request in sandbox.requests for event in request.json]
        assert [event["userId"] for event in sent] == [f"u{i}" for i in range(5)]  # one batch
    assert printed.getvalue() == ""
