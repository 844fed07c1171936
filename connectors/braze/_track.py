"""Sending objects through ``POST /users/track``: at most 75 objects per request in all, and
Braze's non-fatal ``errors`` attributed to the events they are about. See the package
docstring for the rules followed."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from connectors.braze._api import post
from sdk import BatchResult, Context, DeliveryError, PayloadValidationError

__all__ = ["MAX_OBJECTS", "BrazeObject", "track"]

log = logging.getLogger("connectors.braze")

#: Objects per ``/users/track`` request, all arrays together (see the package docstring).
MAX_OBJECTS = 75
#: Keys of an attributes object that name its user: an error about one fails the identify.
_IDENTITY_KEYS = frozenset({"external_id", "user_alias", "braze_id"})
_QUOTED = re.compile(r"'([^']+)'")
Array = Literal["attributes", "events"]


@dataclass(frozen=True, slots=True)
class BrazeObject:
    """One event's objects for ``/users/track``: its main object (which array, and its body),
    the purchases of an order, and what was left out (for the lifecycle only)."""

    array: Array
    body: dict[str, Any]
    #: Traits left out of the body (name -> why), shown in the lifecycle record only.
    dropped: dict[str, str] = dataclasses.field(default_factory=dict)
    #: Purchase objects of an order (``Order Completed`` / ``Product Purchased``).
    purchases: tuple[dict[str, Any], ...] = ()
    #: Other one-line notes of what was left out (products without a price...).
    notes: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        """Objects this event adds to a request."""
        return 1 + len(self.purchases)


def _chunks(payloads: Sequence[BrazeObject]) -> list[list[int]]:
    """Indices of ``payloads`` grouped into requests of at most ``MAX_OBJECTS`` objects."""
    chunks: list[list[int]] = []
    count = MAX_OBJECTS
    for number, payload in enumerate(payloads):
        if count + payload.size > MAX_OBJECTS:
            chunks.append([])
            count = 0
        chunks[-1].append(number)
        count += payload.size
    return chunks


async def track(ctx: Context[Any], payloads: Sequence[BrazeObject]) -> BatchResult:
    """Send ``payloads`` (in as many requests as the 75-object limit needs); the result fails
    the events Braze refused and notes what it refused of the others."""
    result = BatchResult(len(payloads))
    chunks = _chunks(payloads)
    for chunk in chunks:
        try:
            await _send(ctx, [(number, payloads[number]) for number in chunk], result)
        except DeliveryError as error:
            if len(chunks) == 1:
                raise  # the SDK's rules for a whole batch (retry, split on 413)
            for number in chunk:
                result.fail(number, error)
    return result


async def _send(
    ctx: Context[Any], items: list[tuple[int, BrazeObject]], result: BatchResult
) -> None:
    body: dict[str, list[dict[str, Any]]] = {}
    # Braze counts ``index`` within each input array: remember where each object came from.
    positions: dict[str, list[int]] = {}
    for number, payload in items:
        body.setdefault(payload.array, []).append(payload.body)
        positions.setdefault(payload.array, []).append(number)
        for purchase in payload.purchases:
            body.setdefault("purchases", []).append(purchase)
            positions.setdefault("purchases", []).append(number)
    by_number = dict(items)
    response = await post(ctx, "/users/track", body)
    data = response.data if isinstance(response.data, Mapping) else {}
    errors = data.get("errors")
    for error in errors if isinstance(errors, list) else []:
        if not isinstance(error, Mapping):
            continue
        array, index = error.get("input_array"), error.get("index")
        slots = positions.get(array) if isinstance(array, str) else None
        if slots is None or not isinstance(index, int) or not 0 <= index < len(slots):
            continue  # not attributable to one event; the recorded response shows it
        kind = ctx.redactor.text(" ".join(str(error.get("type", "rejected")).split()))[:200]
        number = slots[index]
        if array == "purchases":
            # The order's event was recorded; only this purchase was not.
            result.note(number, f"Braze refused purchases[{index}]: {kind}")
            continue
        refused = _refused_attribute(by_number[number], kind)
        if refused is not None:
            # Braze processed the rest of this attributes object ("any data not affected by
            # an error ... will still be processed"): the identify was applied but for one
            # attribute, so it is not failed; its note and the recorded response say so.
            note = f"Braze applied {array}[{index}] except the attribute {refused}: {kind}"
            result.note(number, note)
            log.warning("%s: %s", ctx.destination.slug, note)
            continue
        result.fail(
            number,
            PayloadValidationError(
                f"Braze rejected {array}[{index}]: {kind}", status=response.status_code
            ),
        )


def _refused_attribute(payload: BrazeObject, kind: str) -> str | None:
    """The one attribute of an attributes object that a non-fatal error is about, if its
    ``type`` quotes one that was sent (and not the object's identity); else ``None``."""
    if payload.array != "attributes":
        return None
    named = set(_QUOTED.findall(kind))
    if not named or named & _IDENTITY_KEYS:
        return None
    sent = [name for name in named if name in payload.body]
    return sent[0] if len(sent) == 1 and len(named) == 1 else None
