"""The contract suite: checks every connector must pass, each asserting on the HTTP requests the
connector actually sent (through a mocked API) and on its lifecycle records.

A connector declares a :class:`Contract` (sample settings, the vendor's recorded responses, and
what its API has room for); :func:`run_contract` runs every check and returns one
:class:`CheckResult` each. The pytest face is :class:`ContractTests`; the command-line face is
``destkit contract``.

The suite lives in private modules, one concept each: the declaration (``_contract_model``), the
sample events (``_contract_samples``), reading the requests sent (``_contract_requests``), the
checks (``_checks_settings``, ``_checks_delivery``, ``_checks_transport``) and the runner
(``_contract_runner``). This module re-exports all their names, so imports from it keep working.
"""

from __future__ import annotations

from sdk.testing._checks_delivery import (  # noqa: F401
    OTHER_DESTINATION,
    check_actions_send,
    check_filtered_events,
    check_journey_list_add_only,
    check_malformed_events,
    check_personas_reach_destination,
)
from sdk.testing._checks_settings import (  # noqa: F401
    _CaptureLogs,
    check_authentication,
    check_no_secret_leaks,
    check_settings_model,
)
from sdk.testing._checks_transport import (  # noqa: F401
    NON_RETRYABLE_CASES,
    RETRYABLE_CASES,
    _event_counts,
    _expect_requests,
    check_batch_limits,
    check_retries,
)
from sdk.testing._contract_model import (  # noqa: F401
    _KNOWN_PERSONAS_FIELDS,
    CHECK_RETRY,
    PERSONAS_FIELDS,
    Check,
    CheckResult,
    Contract,
    ContractViolation,
    _auth_failure,
    _auth_forbidden,
)
from sdk.testing._contract_requests import (  # noqa: F401
    _count_array_events,
    _delivery_count,
    _delivery_requests,
    _describe_lifecycle,
    _event_markers,
    _longest_array,
    _request_text,
    _sha256,
)
from sdk.testing._contract_runner import (  # noqa: F401
    CHECKS,
    run_check,
    run_contract,
)
from sdk.testing._contract_samples import (  # noqa: F401
    CONTRACT_SPACE,
    _accepted_samples,
    _first_sample,
    _identity_traits,
    _takes,
    sample_events,
)

__all__ = [
    "CHECKS",
    "PERSONAS_FIELDS",
    "Check",
    "CheckResult",
    "Contract",
    "ContractViolation",
    "run_contract",
    "sample_events",
]
