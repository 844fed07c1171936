"""The Redis queue's key layout and its small encodings: a lane's keys, job ids as integers,
counter fields. Every key starts with ``destkit:``."""

from __future__ import annotations

from sdk.queue._interface import LANES

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


def settle_keys(dest: str, lane: int) -> list[str]:
    """The SETTLE script's keys: the lane's, the destination's consumers, the counters, the
    pending count and the dead letters."""
    return [*lane_keys(dest, lane), consumers(dest), COUNTERS, PENDING, DEAD]


def claim_keys(dest: str, lane: int) -> list[str]:
    """The CLAIM script's keys: SETTLE's, then every lane's lease."""
    return [*settle_keys(dest, lane), *(lane_keys(dest, n)[3] for n in range(LANES))]


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
