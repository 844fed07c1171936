"""The sandbox destination: a real HTTP server on loopback that plays a destination.

It answers any method on any path (``/users/track``, ``/2/httpapi``, ``/v19.0/act_1/users`` ...)
with ``200`` and a JSON echo of what it received, records every request, and can be told to
misbehave (:class:`Faults`): a fixed status, a sequence of statuses, ``Retry-After``, latency, a
seeded random failure rate, non-JSON bodies, dropped connections.

It runs on a daemon thread (``http.server.ThreadingHTTPServer``, HTTP/1.1 with keep-alive), so
sync and asyncio clients in the same process can both call it::

    with Sandbox(faults=Faults(sequence=[503, 503, 200])) as sb:
        httpx.post(f"{sb.url}/v1/event", json={"type": "track"})
        sb.wait_for(1)
        assert sb.requests[0].json == {"type": "track"}

Its memory is bounded however long it runs: a request body over ``max_body_bytes`` (8 MiB), as
sent or once inflated, is refused with ``413`` before it is read or inflated further, and only the
newest ``max_requests`` (1000) requests are kept, within ``max_recorded_bytes`` (64 MiB).

Control endpoints under ``/_sandbox/`` let ``destkit sandbox`` be driven with curl (they are
never recorded and never get faults):

- ``GET /_sandbox/requests``: the recorded requests as JSON (credential-named headers and query
  parameters masked; bodies as text, or base64 when not UTF-8);
- ``DELETE /_sandbox/requests``: forget them;
- ``GET /_sandbox/faults``: the fault plan;
- ``PUT /_sandbox/faults``: replace the fault plan with a JSON object of :class:`Faults` fields
  (``400`` with a one-line error naming the field when a value is bad).
"""

from sdk.testing._sandbox._cli import add_fault_arguments, faults_from_args, serve
from sdk.testing._sandbox._faults import MAX_LATENCY, BodyMode, FaultError, Faults, check_port
from sdk.testing._sandbox._http import CONTROL_PREFIX
from sdk.testing._sandbox._requests import RecordedRequest
from sdk.testing._sandbox._server import Sandbox

__all__ = [
    "CONTROL_PREFIX",
    "MAX_LATENCY",
    "BodyMode",
    "FaultError",
    "Faults",
    "RecordedRequest",
    "Sandbox",
    "add_fault_arguments",
    "check_port",
    "faults_from_args",
    "serve",
]
