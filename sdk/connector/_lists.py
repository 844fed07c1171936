"""List-destination plumbing: what every connector that keeps users on a vendor's list shares.

A list connector (Meta custom audiences, Google Customer Match user lists, Klaviyo lists...)
receives Engage membership events and turns each into one :class:`ListMember`: which list (the
computation key looked up in a map setting, else the one default list), add or remove (add-only
for journey steps), and the user's identifiers, read once from the event, normalised (and hashed)
once by the connector's :meth:`ListAction.identifiers`. An identifier that cannot be normalised is
left out and noted in the event's lifecycle (``payload_notes``), naming the field and the rule; a
user left with no identifier at all is refused before any request.

What stays in the connector is only its vendor's API: the settings names, the record of one user
(a row of hashed values, a ``UserData`` object, a profile) and the requests.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, TypeVar

from sdk._errors import InvalidEvent, InvalidIdentifier, ListRemovalRefused
from sdk.connector._destination import Action, AnyMessage, Subscription
from sdk.connector._settings import DestinationSettings
from sdk.engage._personas import membership_of, user_identifiers

__all__ = [
    "IDENTIFIER_FIELDS",
    "ListAction",
    "ListMember",
    "ListTarget",
    "ListUser",
    "Skipped",
    "check_list_id",
    "check_list_map",
    "list_for_key",
    "location_country",
]

SettingsT = TypeVar("SettingsT", bound=DestinationSettings)
RecordT = TypeVar("RecordT")
Operation = Literal["add", "remove"]

#: Where each identifier of :func:`sdk.engage.user_identifiers` comes from in a Segment event:
#: the field a note names when the identifier is left out.
IDENTIFIER_FIELDS: Mapping[str, str] = {
    "user_id": "userId",
    "anonymous_id": "anonymousId",
    "email": "traits.email",
    "phone": "traits.phone",
    "mobile_ad_id": "context.device.advertisingId",
    "first_name": "traits.first_name",
    "last_name": "traits.last_name",
    "city": "traits.address.city",
    "state": "traits.address.state",
    "country": "traits.address.country",
    "zip": "traits.address.postal_code",
    "gender": "traits.gender",
    "birthday": "traits.birthday",
    "address": "traits.address",
}
_DIGITS = re.compile(r"[0-9]+")


# --------------------------------------------------------------------------- settings


def check_list_id(
    value: str | None, what: str, *, pattern: re.Pattern[str] = _DIGITS
) -> str | None:
    """A settings validator's body for the default list id: trimmed; ``ValueError`` naming
    ``what`` (``"custom audience id"``) when it does not match ``pattern`` (digits only)."""
    if value is None:
        return None
    text = value.strip()
    if pattern.fullmatch(text) is None:
        raise ValueError(f"must be a {what}" + (" (digits only)" if pattern is _DIGITS else ""))
    return text


def check_list_map(
    value: Mapping[str, Any],
    default: str | None,
    *,
    what: str,
    default_setting: str,
    pattern: re.Pattern[str] = _DIGITS,
) -> dict[str, str]:
    """A settings validator's body for the computation key -> list id map: every key non-empty
    and every id matching ``pattern``; empty only when ``default`` (the setting named
    ``default_setting``) is set. Returns the map with its ids trimmed."""
    suffix = " (digits only)" if pattern is _DIGITS else ""
    for key, list_id in value.items():
        if not key or pattern.fullmatch(str(list_id).strip()) is None:
            raise ValueError(f"{key!r} must map to a {what}{suffix}")
    if not value and not default:
        raise ValueError(
            f"set {default_setting} (one {what} for every key) or map at least one "
            f"computation key to a {what} here"
        )
    return {key: str(list_id).strip() for key, list_id in value.items()}


def list_for_key(
    key: str,
    mapping: Mapping[str, str],
    default: str | None,
    *,
    map_setting: str,
    default_setting: str,
) -> str:
    """The list a computation key goes to: its ``mapping`` entry, else ``default``; an
    ``InvalidEvent`` naming the key when neither is set."""
    list_id = mapping.get(key) or default
    if list_id is None:
        raise InvalidEvent(
            "context.personas.computation_key",
            f"{key!r} has no {map_setting} entry and no {default_setting} is set",
        )
    return list_id


# --------------------------------------------------------------------------- the user


@dataclass(frozen=True, slots=True)
class ListUser:
    """A user's identifiers, read once from the event (:func:`sdk.engage.user_identifiers`),
    with the user's own country (``traits.address.country``, else ``context.location.country``)
    for the phone numbers written without a calling code."""

    found: Mapping[str, str]
    country: str | None

    @classmethod
    def of(cls, event: AnyMessage) -> ListUser:
        """Read the identifiers of ``event``."""
        return cls.of_found(user_identifiers(event), location_country(event.context))

    @classmethod
    def of_found(cls, found: Mapping[str, str], context_country: str | None) -> ListUser:
        """The user of identifiers ``found`` (:func:`sdk.engage.user_identifiers`), whose
        event's ``context.location.country`` is ``context_country``."""
        return _new_user(found, found.get("country") or context_country)

    def get(self, name: str) -> str | None:
        """The raw value of identifier ``name`` (``email``, ``phone``...), or ``None``."""
        return self.found.get(name)


def location_country(context: Mapping[str, Any]) -> str | None:
    """``context.location.country`` when it is non-blank text, else ``None``."""
    location = context.get("location")
    value = location.get("country") if isinstance(location, dict) else None
    return value if isinstance(value, str) and value.strip() else None


@dataclass(frozen=True, slots=True)
class ListTarget:
    """Where a membership event sends its user: the list, add or remove, and the computation
    key that chose the list. Every user of one list sync shares it."""

    list_id: str
    operation: Operation
    key: str


@dataclass(frozen=True, slots=True)
class ListMember(Generic[RecordT]):
    """One user to add to, or remove from, one list: the vendor's record of the user, and the
    identifiers left out of it."""

    list_id: str
    operation: Operation
    #: The computation key that chose the list.
    key: str
    #: The vendor's record of this user (a row of hashed values, a ``UserData``, a profile).
    record: RecordT
    #: Identifiers left out because they could not be normalised: name -> rule broken.
    skipped: Mapping[str, str] = field(default_factory=dict)
    #: The event's messageId (what tells one upload apart from another).
    message_id: str = ""


# Frozen slots dataclasses set each field through ``object.__setattr__`` in ``__init__``, which
# costs more than the rest of building a member in a large list sync; these build the same
# (as frozen) instances by setting the slots directly.
_object_new = object.__new__
_set_found, _set_country = (ListUser.__dict__[name].__set__ for name in ("found", "country"))
(
    _set_list_id,
    _set_operation,
    _set_key,
    _set_record,
    _set_skipped,
    _set_message_id,
) = (
    ListMember.__dict__[name].__set__
    for name in ("list_id", "operation", "key", "record", "skipped", "message_id")
)


def _new_user(found: Mapping[str, str], country: str | None) -> ListUser:
    user: ListUser = _object_new(ListUser)
    _set_found(user, found)
    _set_country(user, country)
    return user


def _new_member(
    target: ListTarget, record: Any, skipped: Mapping[str, str], message_id: str
) -> ListMember[Any]:
    member: ListMember[Any] = _object_new(ListMember)
    _set_list_id(member, target.list_id)
    _set_operation(member, target.operation)
    _set_key(member, target.key)
    _set_record(member, record)
    _set_skipped(member, skipped)
    _set_message_id(member, message_id)
    return member


class Skipped:
    """Collects the identifiers a connector leaves out, each with the rule it broke."""

    __slots__ = ("rules",)

    def __init__(self) -> None:
        self.rules: dict[str, str] = {}

    def add(self, name: str, rule: str) -> None:
        """Note identifier ``name`` left out for ``rule`` (the first rule of a name is kept)."""
        self.rules.setdefault(name, rule)

    def take(self, name: str, error: InvalidIdentifier) -> None:
        """Note identifier ``name`` left out for the rule ``error`` names."""
        self.add(name, error.rule)


# --------------------------------------------------------------------------- the action


class ListAction(Action[SettingsT, ListMember[RecordT]]):
    """An action that adds users entering an audience or journey step to a list and removes
    users leaving an audience (journey lists are add-only: a removal is refused).

    A subclass sets ``list_setting``/``map_setting`` (the names of its default-list and
    key-to-list settings), implements :meth:`identifiers` (the vendor's record of the user) and
    :meth:`missing` (what to say when a user has no identifier), and sends the members in
    ``perform``/``perform_batch``. Batches never mix lists nor adds with removals.
    """

    subscribe: ClassVar[Subscription] = Subscription.of("track", "identify", membership=True)
    #: The setting naming the one list for every key (``audience_id``, ``user_list_id``...).
    list_setting: ClassVar[str]
    #: The setting mapping computation keys to lists (``audience_map``, ``user_list_map``...).
    map_setting: ClassVar[str]
    #: How the payload record names the list and the user's record.
    record_list_as: ClassVar[str] = "list_id"
    record_user_as: ClassVar[str] = "identifiers"

    def identifiers(self, user: ListUser, settings: SettingsT, skipped: Skipped) -> RecordT | None:
        """The vendor's record of ``user``, or ``None`` when no identifier is usable. Note each
        identifier left out in ``skipped``."""
        raise NotImplementedError

    def missing(self, settings: SettingsT) -> tuple[str, str]:
        """``(field, rule)`` refusing a user who carries no identifier the vendor matches on."""
        return ("traits.email", "is missing, and so is every other identifier the list matches on")

    def list_for(self, key: str, settings: SettingsT) -> str:
        """The list ``key`` goes to, from the settings this action names."""
        return list_for_key(
            key,
            getattr(settings, self.map_setting),
            getattr(settings, self.list_setting),
            map_setting=self.map_setting,
            default_setting=self.list_setting,
        )

    def target(self, event: AnyMessage, settings: SettingsT) -> ListTarget:
        """Which list ``event`` goes to and whether it adds or removes its user; raises for an
        event that is not a membership event, for a journey exit (add-only) and for a key with
        no list."""
        membership = membership_of(event)
        if membership is None:
            raise InvalidEvent("context.personas", "is required (an Engage membership event)")
        if membership.is_journey and not membership.member:
            raise ListRemovalRefused(
                f"{membership.key} is a journey step: journeys are add-only, "
                "so a removal or exit is never sent"
            )
        list_id = self.list_for(membership.key, settings)
        return ListTarget(list_id, "add" if membership.member else "remove", membership.key)

    def member(
        self, user: ListUser, target: ListTarget, settings: SettingsT, message_id: str
    ) -> ListMember[RecordT]:
        """The member ``user`` becomes on ``target``'s list: the vendor's record from
        :meth:`identifiers` and the identifiers left out. Raises ``InvalidIdentifier`` (the
        first identifier left out) or ``InvalidEvent`` (:meth:`missing`) when no identifier is
        usable. Both :meth:`map` and a bulk list sync build members here, so the two agree."""
        skipped = Skipped()
        record = self.identifiers(user, settings, skipped)
        if record is None:
            if skipped.rules:
                name, rule = next(iter(skipped.rules.items()))
                raise InvalidIdentifier(name, rule)
            raise InvalidEvent(*self.missing(settings))
        return _new_member(target, record, skipped.rules, message_id)

    def map(self, event: AnyMessage, settings: SettingsT) -> ListMember[RecordT]:
        target = self.target(event, settings)
        return self.member(ListUser.of(event), target, settings, event.message_id)

    def batch_key(self, payload: ListMember[RecordT]) -> Hashable:
        return (payload.list_id, payload.operation)

    def payload_notes(self, payload: ListMember[RecordT]) -> list[str]:
        """One note per identifier left out, naming its field and the rule it broke."""
        return [
            f"{IDENTIFIER_FIELDS.get(name, name)}: left out of the list upload: {rule}"
            for name, rule in payload.skipped.items()
        ]

    def payload_record(self, payload: ListMember[RecordT]) -> Any:
        record: dict[str, Any] = {
            self.record_list_as: payload.list_id,
            "operation": payload.operation,
            "key": payload.key,
            self.record_user_as: payload.record,
        }
        if payload.skipped:
            record["skipped"] = dict(payload.skipped)
        return record
