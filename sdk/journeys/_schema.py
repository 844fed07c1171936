"""The strict base every model of a journey or user file shares.

An unknown field is an error naming it and the known ones; a validator raises
:class:`FieldError` to point the one-line ``InvalidJourney`` at a field (``_journey_files``
turns pydantic's errors into that line). Datetimes in the files are read as UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

__all__ = ["MAX_DAYS", "FieldError", "JourneyModel", "utc"]

#: The longest span a file may give (a wait, a window, a timeout): 100 years, in days.
MAX_DAYS = 36_500


class FieldError(ValueError):
    """Raised inside validators: ``field`` (relative to the model) and ``rule`` end up in the
    one-line error, so the path names the field and not just the model."""

    def __init__(self, field_name: str, rule: str) -> None:
        super().__init__(rule)
        self.field = field_name
        self.rule = rule


class JourneyModel(BaseModel):
    """Strict: an unknown field is an error naming it and the known ones."""

    model_config = ConfigDict(
        extra="forbid", validate_by_name=True, validate_by_alias=True, allow_inf_nan=False
    )

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            known = [info.alias or name for name, info in cls.model_fields.items()]
            for key in data:
                if key not in known:
                    raise FieldError(str(key), f"unknown field (known: {', '.join(sorted(known))})")
        return data


def utc(value: datetime) -> datetime:
    """The moment in UTC; a naive datetime in a file is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
