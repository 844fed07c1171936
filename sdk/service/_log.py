"""One-line logs for events of interest (start, config loaded, a destination failing or
recovered, a dead letter, shutdown). Never a message body, never a secret: callers pass names,
counts and already-redacted error lines, and every line is flattened to one line."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ServiceLog"]


class ServiceLog:
    """Writes ``<UTC time> <event> key=value ...`` lines to a stream (stderr by default)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def event(self, name: str, **fields: object) -> None:
        """Log one event with its fields (values flattened to one line, quoted when spaced)."""
        parts = [time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), name]
        for key, value in fields.items():
            text = " ".join(str(value).split())[:300]
            if not text or " " in text or '"' in text:
                text = '"' + text.replace('"', "'") + '"'
            parts.append(f"{key}={text}")
        stream = self.stream or sys.stderr
        try:
            stream.write(" ".join(parts) + "\n")
            stream.flush()
        except (OSError, ValueError):  # a closed log stream must not stop delivery
            pass
