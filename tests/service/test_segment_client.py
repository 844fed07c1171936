"""The real segment-analytics-python client, with only its host changed, delivers through
``destkit serve`` to the sandbox."""

from __future__ import annotations

from pathlib import Path

from segment.analytics import Client

from sdk.testing import Sandbox
from tests.service.conftest import WRITE_KEY, config_text, delivered, wait_until


def test_segment_client_delivers_to_the_sandbox(sandbox: Sandbox, tmp_path: Path, serve_process):
    server = serve_process(config_text(sandbox.url)).start()
    errors: list[Exception] = []
    client = Client(
        WRITE_KEY,
        host=server.url,
        on_error=lambda error, batch: errors.append(error),
        gzip=True,
        max_retries=1,
        sync_mode=False,
    )
    client.track(user_id="u1", event="Order Completed", properties={"revenue": 12.5})
    client.identify(user_id="u1", traits={"plan": "pro"})
    client.page(user_id="u1", category="Docs", name="Serve")
    client.group(user_id="u1", group_id="g1", traits={"name": "Acme"})
    client.alias(previous_id="anon-1", user_id="u1")
    client.screen(user_id="u1", name="Home")
    client.flush()
    client.join()
    assert errors == []
    assert wait_until(lambda: len(delivered(sandbox)) == 6, timeout=15)
    assert server.terminate() == 0
    types = sorted(m["type"] for m in delivered(sandbox))
    assert types == ["alias", "group", "identify", "page", "screen", "track"]
    track = next(m for m in delivered(sandbox) if m["type"] == "track")
    assert track["properties"] == {"revenue": 12.5}
    assert track["context"]["library"]["name"] == "analytics-python"
    assert track["receivedAt"] and track["sentAt"] and track["originalTimestamp"]
