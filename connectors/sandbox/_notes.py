# ruff: noqa: E501 - Markdown tables are one line a row
"""The prose of the sandbox docs page (``destkit docs sandbox`` adds it under "Notes")."""

NOTES = """\
destkit's own loopback destination: an HTTP server in `sdk.testing.Sandbox` that records every
request, answers with JSON echoing what it received, and injects faults on demand. The `sandbox`
connector sends there; when its `endpoint` is not set, `destkit send` and `destkit tester` start
a sandbox in-process, so both work on a fresh machine with no credentials.

| event | request |
|---|---|
| any message, one at a time | `POST {endpoint}/v1/event`, the message as JSON, `Authorization: Bearer <api_key>` |
| batched | `POST {endpoint}/v1/batch`, `{"batch": [...]}`, up to 100 events and 500 KB |
| credentials check | `GET {endpoint}/v1/auth` |

Faults (`destkit sandbox --help`, or `Faults(...)` in Python): a fixed status, a sequence of
statuses (`--sequence 503,503,200`), `Retry-After`, latency, a failure rate with a seed, a
text/empty/broken body, a dropped connection.

```python
from sdk.testing import Faults, Sandbox

with Sandbox(faults=Faults(sequence=[503, 200])) as sandbox:
    ...  # send to sandbox.url; sandbox.requests holds what arrived
```
"""
