"""Engage: step and audience keys, spaces, ``context.personas``, membership events, and the
tester's test events."""

from sdk.engage._keys import (
    JOURNEY_KEY_PREFIX,
    MAX_KEY_LENGTH,
    KeyRegistry,
    audience_key,
    is_journey_key,
    snake_case,
    step_key,
    step_key_suffix,
)
from sdk.engage._personas import (
    AUDIENCE_ENTERED,
    AUDIENCE_EXITED,
    ComputationClass,
    Membership,
    MembershipEvents,
    PersonasContext,
    integrations_for,
    membership_event,
    membership_of,
    membership_values,
    user_identifiers,
)
from sdk.engage._spaces import (
    Audience,
    Computation,
    JourneyStep,
    Space,
)
from sdk.engage._testevents import (
    DEFAULT_AUDIENCE,
    DEFAULT_SPACE_ID,
    TestEventSpec,
    TestEventType,
    build_test_event,
    new_test_user_id,
)

__all__ = [
    "AUDIENCE_ENTERED",
    "AUDIENCE_EXITED",
    "DEFAULT_AUDIENCE",
    "DEFAULT_SPACE_ID",
    "JOURNEY_KEY_PREFIX",
    "MAX_KEY_LENGTH",
    "Audience",
    "Computation",
    "ComputationClass",
    "JourneyStep",
    "KeyRegistry",
    "Membership",
    "MembershipEvents",
    "PersonasContext",
    "Space",
    "TestEventSpec",
    "TestEventType",
    "audience_key",
    "build_test_event",
    "integrations_for",
    "is_journey_key",
    "membership_event",
    "membership_of",
    "membership_values",
    "new_test_user_id",
    "snake_case",
    "step_key",
    "step_key_suffix",
    "user_identifiers",
]
