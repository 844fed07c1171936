"""What one HTTP exchange with a vendor needs: the client, retry policy, rate limit, redaction
and the lifecycle record."""

from sdk.transport._http import (
    DestinationHTTP,
    Response,
    make_timeout,
)
from sdk.transport._json import compact_json
from sdk.transport._lifecycle import (
    LIFECYCLE_SCHEMA,
    Attempt,
    ErrorInfo,
    Exchange,
    Lifecycle,
    Outcome,
    RecordedRequest,
    RecordedResponse,
    RetryDecision,
    Timings,
)
from sdk.transport._ratelimit import (
    Limiter,
    RateLimiter,
)
from sdk.transport._redaction import (
    MASK,
    Redactor,
    mask_text_pairs,
    quiet_http_loggers,
)
from sdk.transport._retry import (
    NON_RETRYABLE_5XX,
    RETRYABLE_4XX,
    RetryPolicy,
    classify_status,
    parse_retry_after,
)

__all__ = [
    "LIFECYCLE_SCHEMA",
    "MASK",
    "NON_RETRYABLE_5XX",
    "RETRYABLE_4XX",
    "Attempt",
    "DestinationHTTP",
    "ErrorInfo",
    "Exchange",
    "Lifecycle",
    "Limiter",
    "Outcome",
    "RateLimiter",
    "RecordedRequest",
    "RecordedResponse",
    "Redactor",
    "Response",
    "RetryDecision",
    "RetryPolicy",
    "Timings",
    "classify_status",
    "compact_json",
    "make_timeout",
    "mask_text_pairs",
    "parse_retry_after",
    "quiet_http_loggers",
]
