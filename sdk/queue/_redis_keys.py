"""The Redis queue's key layout and its small encodings: a lane's keys, job ids as integers,
counter fields. Every key starts with ``destkit:``.

A destination's jobs are spread over ``REDIS_LANES`` lanes by the user's hash, more than one
worker works at once: a worker has ``LANES`` slots (its lane tasks), and slot ``s`` works one
at a time of the lanes ``s, s + LANES, s + 2 * LANES...`` (a user's lane modulo ``LANES`` is
the interface's :func:`lane_of`). So one worker has ``LANES`` batches in flight, and up to
``SLOT_LANES`` workers add theirs (then workers share the lanes, see ``CLAIM``).
"""

from __future__ import annotations

import functools
import zlib

import orjson

from sdk.queue._interface import LANES

#: Lanes one slot of a worker takes turns on.
SLOT_LANES = 4
#: Lanes of a destination.
REDIS_LANES = LANES * SLOT_LANES

SEQ = 10_000_000  # a stream id "ms-seq" as one integer: ms * SEQ + seq
_P = "destkit:"
_SEP = "\x1f"

DEAD = f"{_P}dead"
COUNTERS = f"{_P}counters"
DESTS = f"{_P}destinations"
PENDING = f"{_P}pending"


def stream(dest: str, lane: int) -> str:
    """A lane's stream of jobs."""
    return f"{_P}s:{dest}:{lane}"


def lane_keys(dest: str, lane: int) -> list[str]:
    """A lane's stream, delayed set of retries, retrying users and lease."""
    return [
        stream(dest, lane),
        f"{_P}d:{dest}:{lane}",
        f"{_P}r:{dest}:{lane}",
        f"{_P}l:{dest}:{lane}",
    ]


def consumers(dest: str) -> str:
    """The workers claiming a destination's lanes now (consumer -> last claim)."""
    return f"{_P}c:{dest}"


def lane_of_user(user_key: str) -> int:
    """A user's lane (of ``REDIS_LANES``; modulo ``LANES`` it is :func:`lane_of`'s)."""
    return zlib.crc32(user_key.encode("utf-8", "surrogatepass")) % REDIS_LANES


def slot_lanes(slot: int) -> list[int]:
    """The lanes a worker's slot takes turns on."""
    return [slot + LANES * k for k in range(SLOT_LANES)]


@functools.lru_cache(maxsize=4096)
def settle_keys(dest: str, lane: int) -> tuple[str, ...]:
    """The SETTLE script's keys: the destination's consumers, the counters, the pending count,
    the dead letters, then the lane's keys."""
    return (consumers(dest), COUNTERS, PENDING, DEAD, *lane_keys(dest, lane))


@functools.lru_cache(maxsize=4096)
def claim_keys(dest: str, slot: int) -> tuple[str, ...]:
    """The CLAIM script's keys: SETTLE's first four, the keys of each of the slot's lanes,
    then every lane's lease."""
    keys = [consumers(dest), COUNTERS, PENDING, DEAD]
    for lane in slot_lanes(slot):
        keys += lane_keys(dest, lane)
    return (*keys, *(lane_keys(dest, n)[3] for n in range(REDIS_LANES)))


def rate(dest: str) -> str:
    """A destination's shared rate limit."""
    return f"{_P}rate:{dest}"


def id_int(stream_id: bytes | str) -> int:
    """A stream id (``ms-seq``) as one integer."""
    text = stream_id.decode() if isinstance(stream_id, bytes) else stream_id
    ms, seq = text.split("-")
    return int(ms) * SEQ + int(seq)


def id_text(job_id: int) -> str:
    """The stream id of a job id."""
    ms, seq = divmod(job_id, SEQ)
    return f"{ms}-{seq}"


def counter(dest: str, kind: str, reason: str = "") -> str:
    """The field of a count in the counters hash."""
    return f"{dest}{_SEP}{kind}{_SEP}{reason}"


def split_counter(field: bytes) -> list[str]:
    """``[destination, kind, reason]`` of a counters field."""
    return field.decode().split(_SEP)


#: A job in a lane's stream (and a retry in its delayed set) is one field, ``j``: a JSON
#: header ``[order, user, message id, attempts, enqueued at]``, a newline, and the message's
#: JSON body. One field, not six, because every string of an entry is converted twice in the
#: CLAIM script (reply to Lua, Lua to reply): the header is read there only for a user with a
#: retry pending. The header never holds a raw newline (JSON escapes it), so the first one
#: ends it. Entries of the older layout (fields ``o u m a e b``) are still read.
JOB_FIELD = "j"


def pack_job(
    order: str, user: str, message_id: str, attempts: int, enqueued_at: float, body: bytes
) -> bytes:
    """A job's ``j`` field: see :data:`JOB_FIELD`."""
    return b"%b\n%b" % (orjson.dumps([order, user, message_id, attempts, enqueued_at]), body)


def unpack_job(packed: bytes) -> tuple[str, str, str, int, float, bytes]:
    """``(order, user, message id, attempts, enqueued at, body)`` of a job's ``j`` field."""
    header, _, body = packed.partition(b"\n")
    order, user, message_id, attempts, enqueued_at = orjson.loads(header)
    return order, user, message_id, int(attempts), float(enqueued_at), body


def job_fields(fields: dict[bytes, bytes]) -> tuple[str, str, str, int, float, bytes]:
    """:func:`unpack_job` of a stream entry's fields, in either layout."""
    packed = fields.get(JOB_FIELD.encode())
    if packed is not None:
        return unpack_job(packed)
    return (
        fields[b"o"].decode(),
        fields[b"u"].decode("utf-8", "surrogatepass"),
        fields[b"m"].decode(),
        int(fields[b"a"]),
        float(fields[b"e"]),
        fields[b"b"],
    )
