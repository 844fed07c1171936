"""The checks on settings and credentials: the settings model types secrets, authentication is
tested, and no secret leaks into a lifecycle record or a log line."""

from __future__ import annotations

import logging

import httpx
from pydantic import SecretStr

from sdk._errors import InvalidSettings
from sdk.connector._settings import load_settings, secret_values
from sdk.testing._contract_model import Contract, ContractViolation, _auth_failure, _auth_forbidden
from sdk.testing._contract_requests import _describe_lifecycle
from sdk.testing._contract_samples import _first_sample
from sdk.testing._mockapi import Responder, mock_api
from sdk.transport._redaction import Redactor, is_secret_name

__all__ = ["check_authentication", "check_no_secret_leaks", "check_settings_model"]


def check_settings_model(contract: Contract) -> str | None:
    """The sample settings validate, and every credential-looking field is typed secret."""
    model = contract.destination.settings
    try:
        load_settings(model, {**contract.settings, "endpoint": "https://contract.test"})
    except InvalidSettings as exc:
        raise ContractViolation(f"sample settings do not validate: {exc.message}") from None
    for name, info in model.model_fields.items():
        annotation = info.annotation
        secret = annotation is SecretStr or SecretStr in getattr(annotation, "__args__", ())
        if is_secret_name(name) and not secret:
            raise ContractViolation(
                f"setting {name!r} looks like a credential but is not typed SecretStr, "
                "so it would not be redacted"
            )
    return None


def check_authentication(contract: Contract) -> str | None:
    """``test_authentication`` succeeds on 2xx and reports invalid credentials on 401/403."""
    if contract.destination.authentication.test is None:
        return "skipped: the destination declares no test_authentication call"
    with mock_api(contract.respond) as api, contract.delivery() as delivery:
        good = delivery.test_authentication()
        if not good.delivered:
            raise ContractViolation(
                f"test_authentication failed on the recorded success response: "
                f"{_describe_lifecycle(good)}"
            )
        if not api.requests:
            raise ContractViolation("test_authentication made no HTTP request")
    failures: list[tuple[str, Responder]] = [("HTTP 401", _auth_failure)]
    failures.append(("HTTP 403", _auth_forbidden))
    if contract.auth_failure is not _auth_failure:
        failures.append(("the recorded bad-credentials answer", contract.auth_failure))
    for what, answer in failures:
        with mock_api(answer) as api, contract.delivery() as delivery:
            bad = delivery.test_authentication()
            if bad.delivered or bad.error is None or bad.error.cls != "InvalidAuthentication":
                raise ContractViolation(
                    f"bad credentials ({what}) were not reported as InvalidAuthentication: "
                    f"{_describe_lifecycle(bad)}"
                )
    return None


def check_no_secret_leaks(contract: Contract) -> str | None:
    """No secret appears in any lifecycle record or log line, on success or failure."""
    settings = load_settings(
        contract.destination.settings, {**contract.settings, "endpoint": "https://contract.test"}
    )
    secrets = secret_values(settings)
    if not secrets:
        return "skipped: the sample settings hold no secret"
    event = _first_sample(contract)

    def echo(status: int) -> Responder:
        def respond(request: httpx.Request) -> httpx.Response:
            leaked = " ".join(secrets)
            return httpx.Response(
                status,
                json={"message": f"bad key {leaked}", "url": str(request.url)},
                headers={"X-Echo": leaked},
            )

        return respond

    records: list[str] = []
    handler = _CaptureLogs()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        for respond in (contract.respond, echo(401), echo(500), echo(400)):
            with mock_api(respond) as api, contract.delivery() as delivery:
                records.append(delivery.send(event).to_json())
                if contract.destination.authentication.test is not None:
                    records.append(delivery.test_authentication().to_json())
                del api
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
    for secret in secrets:
        for text in records:
            if secret in text:
                raise ContractViolation("a secret setting appears unmasked in a lifecycle record")
        for line in handler.lines:
            if secret in line:
                shown = Redactor(secrets).text(line)[:100]
                raise ContractViolation(f"a secret setting appears in a log line: {shown!r}")
    return None


class _CaptureLogs(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
