"""The contract's checks in order (:data:`CHECKS`) and the runner that executes them, turning each
into a :class:`CheckResult` (never an exception)."""

from __future__ import annotations

import traceback
from collections.abc import Sequence

from sdk.testing._checks_delivery import (
    check_actions_send,
    check_filtered_events,
    check_journey_list_add_only,
    check_malformed_events,
    check_personas_reach_destination,
)
from sdk.testing._checks_settings import (
    check_authentication,
    check_no_secret_leaks,
    check_settings_model,
)
from sdk.testing._checks_transport import check_batch_limits, check_retries
from sdk.testing._contract_model import Check, CheckResult, Contract, ContractViolation

__all__ = ["CHECKS", "run_check", "run_contract"]

CHECKS: tuple[Check, ...] = (
    Check(
        "settings_model", "settings validate; credentials are typed secret", check_settings_model
    ),
    Check(
        "authentication",
        "test_authentication: 2xx passes, 401 and 403 are InvalidAuthentication",
        check_authentication,
    ),
    Check("actions_send", "every action turns its sample events into requests", check_actions_send),
    Check(
        "filtered_no_call",
        "events routed elsewhere by integrations make no HTTP call",
        check_filtered_events,
    ),
    Check(
        "journey_list_add_only",
        "a journey list never receives a removal",
        check_journey_list_add_only,
    ),
    Check("retries", "retryable statuses retried with Retry-After; others not", check_retries),
    Check("batch_limits", "batches never exceed the declared limits", check_batch_limits),
    Check(
        "no_secret_leaks", "no secret in any lifecycle record or log line", check_no_secret_leaks
    ),
    Check(
        "personas_reach_destination",
        "the step key and the context.personas fields reach the API",
        check_personas_reach_destination,
    ),
    Check(
        "malformed_events", "malformed events: one-line error, no request", check_malformed_events
    ),
)


def run_check(contract: Contract, check: Check) -> CheckResult:
    """Run one check, turning any failure into a result (never an exception)."""
    import time

    started = time.perf_counter()
    slug = contract.destination.slug
    try:
        note = check.run(contract)
    except ContractViolation as exc:
        return CheckResult(slug, check.name, "failed", str(exc), time.perf_counter() - started)
    except Exception as exc:
        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return CheckResult(
            slug,
            check.name,
            "failed",
            f"the check crashed: {detail}",
            time.perf_counter() - started,
        )
    elapsed = time.perf_counter() - started
    if note and note.startswith("skipped"):
        return CheckResult(slug, check.name, "skipped", note, elapsed)
    return CheckResult(slug, check.name, "passed", note or "", elapsed)


def run_contract(contract: Contract, checks: Sequence[Check] = CHECKS) -> list[CheckResult]:
    """Run every check against one connector's contract."""
    return [run_check(contract, check) for check in checks]
