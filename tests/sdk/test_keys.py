"""Step keys and audience keys: the seeds' shape, stability, uniqueness within a space, and
(property tests) a valid ASCII snake-case trait name whatever the input."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import sdk.engage._keys as keys_module
from sdk import (
    MAX_KEY_LENGTH,
    KeyRegistry,
    Space,
    audience_key,
    is_journey_key,
    snake_case,
    step_key,
)
from sdk.engage._keys import SUFFIX_LENGTH, step_key_suffix

#: A valid trait name in every connector, as sdk/engage/_keys.py documents it: ASCII [a-z0-9_],
#: starting with a letter, never ending with ``_``.
TRAIT_NAME = re.compile(r"^[a-z][a-z0-9_]*[a-z0-9]$")
STEP_KEY = re.compile(r"^j_o_([a-z0-9]+(?:_[a-z0-9]+)*)__([a-z0-9]+(?:_[a-z0-9]+)*)_([a-z0-9]{6})$")

#: Two real step ids whose derived suffixes collide (found by search; checked below).
COLLIDING_IDS = ("step-4394", "step-89465")

AWKWARD_NAMES = [
    "",
    " ",
    "🎉🎉🎉",
    "!!!???",
    "___",
    "Ünïcödé Stép",
    "Ça va? Déjà-vu!",
    "Straße & Œuvre",
    "123 Go",
    "9",
    "firstPurchase",
    "HTTPServer Error",
    "漢字のみ",
    "Привет мир",
    "tab\tand\nnewline",
    "a" * 10_000,
    "Ê" * 500 + "🎉" * 500,
    "x__y",
    "_leading and trailing_",
]

names = st.one_of(st.text(), st.sampled_from(AWKWARD_NAMES), st.text(min_size=200, max_size=2000))
step_ids = st.text(min_size=1)


# ---------------------------------------------------------------- the seeds' shape


def test_the_seed_example_shape() -> None:
    key = step_key("First Purchase", "Opened Email", "spa_1/first-purchase/opened-email")
    assert re.fullmatch(r"j_o_first_purchase__opened_email_[a-z0-9]{6}", key), key


def test_a_space_step_gets_the_seed_shape() -> None:
    step = Space("spa_demo").step("First Purchase", "Opened Email", step_id="stp_1")
    assert re.fullmatch(r"j_o_first_purchase__opened_email_[a-z0-9]{6}", step.key), step.key
    assert step.key == step_key("First Purchase", "Opened Email", "stp_1")


def test_keys_are_pinned_across_processes_and_versions() -> None:
    # Destinations store these names: a key must never change for the same step (no hash(),
    # no randomness, no dependency on the interpreter's hash seed).
    assert step_key("First Purchase", "Opened Email", "s1") == (
        "j_o_first_purchase__opened_email_sckfl3"
    )
    assert step_key_suffix("s1") == "sckfl3"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Opened Émail!", "opened_email"),
        ("firstPurchase", "first_purchase"),
        ("First   Purchase", "first_purchase"),
        ("Straße", "strasse"),
        ("Œuvre", "oeuvre"),
        ("--a--b--", "a_b"),
        ("🎉", ""),
        ("123 Go", "123_go"),
    ],
)
def test_snake_case(name: str, expected: str) -> None:
    assert snake_case(name) == expected


def test_names_empty_after_cleaning_fall_back_to_journey_and_step() -> None:
    key = step_key("🎉", "!!!", "stp_x")
    assert re.fullmatch(r"j_o_journey__step_[a-z0-9]{6}", key), key


# ---------------------------------------------------------------- stability and distinctness


def test_same_step_id_gives_the_same_key() -> None:
    assert step_key("J", "S", "stp_1") == step_key("J", "S", "stp_1")
    assert Space("spa_a").step("J", "S", step_id="stp_1").key == step_key("J", "S", "stp_1")


def test_different_step_ids_give_different_keys() -> None:
    keys = {step_key("Journey", "Step", f"stp_{n}") for n in range(500)}
    assert len(keys) == 500


def test_suffix_is_six_lowercase_alphanumerics_derived_from_the_id() -> None:
    assert SUFFIX_LENGTH == 6
    suffix = step_key_suffix("stp_1")
    assert re.fullmatch(r"[a-z0-9]{6}", suffix)
    assert step_key("J", "S", "stp_1").endswith("_" + suffix)
    assert step_key_suffix("stp_1", attempt=1) != suffix


# ---------------------------------------------------------------- property tests


@given(journey=names, step=names, step_id=step_ids)
@example(journey="", step="", step_id="x")
@example(journey="🎉", step="!!!", step_id="x")
@example(journey="1st Journey", step="2nd step", step_id="x")
@example(journey="Ünïcödé" * 100, step="Ça va?" * 100, step_id="x")
def test_every_step_key_is_a_valid_ascii_trait_name(journey: str, step: str, step_id: str) -> None:
    key = step_key(journey, step, step_id)
    assert key.isascii()
    assert TRAIT_NAME.fullmatch(key), key
    assert len(key) <= MAX_KEY_LENGTH
    match = STEP_KEY.fullmatch(key)
    assert match, key
    # The journey/step separator is unambiguous: ``__`` appears exactly once.
    assert key.count("__") == 1
    assert match.group(3) == step_key_suffix(step_id)
    assert step_key(journey, step, step_id) == key  # deterministic


@given(name=names)
def test_snake_case_is_ascii_idempotent_and_clean(name: str) -> None:
    cleaned = snake_case(name)
    assert cleaned.isascii()
    assert re.fullmatch(r"([a-z0-9]+(_[a-z0-9]+)*)?", cleaned), cleaned
    assert snake_case(cleaned) == cleaned


@given(name=names, limit=st.integers(min_value=1, max_value=80))
def test_snake_case_respects_max_length(name: str, limit: int) -> None:
    cleaned = snake_case(name, max_length=limit)
    assert len(cleaned) <= limit
    assert not cleaned.endswith("_")


@given(
    steps=st.lists(st.tuples(names, names), min_size=1, max_size=30),
)
def test_keys_in_a_registry_are_unique_and_stable(steps: list[tuple[str, str]]) -> None:
    registry = KeyRegistry("spa_prop")
    keys = [registry.key_for(journey, step, f"stp_{n}") for n, (journey, step) in enumerate(steps)]
    assert len(set(keys)) == len(keys)
    again = [registry.key_for(journey, step, f"stp_{n}") for n, (journey, step) in enumerate(steps)]
    assert again == keys
    assert len(registry) == len(keys)
    for key in keys:
        assert TRAIT_NAME.fullmatch(key) and len(key) <= MAX_KEY_LENGTH


@given(name=names)
@example(name="")
@example(name="🎉")
@example(name="2024 Buyers")
def test_every_audience_key_is_a_valid_trait_name_without_prefix(name: str) -> None:
    key = audience_key(name)
    assert key.isascii()
    assert TRAIT_NAME.fullmatch(key) or re.fullmatch(r"[a-z]", key), key
    assert len(key) <= MAX_KEY_LENGTH
    assert audience_key(name) == key


# ---------------------------------------------------------------- the registry


def test_the_colliding_ids_really_collide() -> None:
    first, second = COLLIDING_IDS
    assert step_key_suffix(first) == step_key_suffix(second)
    assert step_key("Welcome", "Email", first) == step_key("Welcome", "Email", second)


def test_a_real_collision_is_resolved_never_shared() -> None:
    first, second = COLLIDING_IDS
    registry = KeyRegistry("spa_c")
    key_one = registry.key_for("Welcome", "Email", first)
    key_two = registry.key_for("Welcome", "Email", second)
    assert key_one == step_key("Welcome", "Email", first)
    assert key_two != key_one
    assert key_two == step_key("Welcome", "Email", second, attempt=1)
    assert registry.key_for("Welcome", "Email", first) == key_one
    assert registry.key_for("Welcome", "Email", second) == key_two


def test_names_that_clean_to_the_same_thing_get_distinct_keys() -> None:
    space = Space("spa_same")
    one = space.step("Welcome!", "Opened Email", step_id="stp_a")
    two = space.step("welcome", "opened-email", step_id="stp_b")
    three = space.step("WELCOME", "Opened  Émail", step_id="stp_c")
    prefix = "j_o_welcome__opened_email_"
    assert all(step.key.startswith(prefix) for step in (one, two, three))
    assert len({one.key, two.key, three.key}) == 3


def test_forced_collisions_are_resolved_in_registration_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every step id derives the same first suffix: only ``attempt`` tells them apart.
    monkeypatch.setattr(
        keys_module, "step_key_suffix", lambda step_id, *, attempt=0: f"{attempt:06d}"
    )
    registry = KeyRegistry("spa_forced")
    keys = [registry.key_for("J", "S", f"stp_{n}") for n in range(5)]
    assert keys == [f"j_o_j__s_{n:06d}" for n in range(5)]
    assert registry.key_for("J", "S", "stp_3") == "j_o_j__s_000003"


def test_the_same_step_keeps_its_key_even_if_renamed() -> None:
    registry = KeyRegistry("spa_r")
    key = registry.key_for("Journey", "Old name", "stp_1")
    assert registry.key_for("Journey", "New name", "stp_1") == key
    assert len(registry) == 1
    assert key in registry
    assert "j_o_other" not in registry


def test_claim_refuses_a_key_owned_by_someone_else() -> None:
    registry = KeyRegistry("spa_claim")
    assert registry.claim("vip_users", "aud_1") == "vip_users"
    assert registry.claim("vip_users", "aud_1") == "vip_users"  # same owner: fine
    with pytest.raises(ValueError, match="already used in space spa_claim by aud_1"):
        registry.claim("vip_users", "aud_2")


def test_two_audiences_with_the_same_key_are_refused_in_a_space() -> None:
    space = Space("spa_aud")
    space.audience("VIP Users", audience_id="aud_1")
    with pytest.raises(ValueError, match="vip_users"):
        space.audience("vip-users", audience_id="aud_2")


def test_different_spaces_are_independent() -> None:
    first, second = COLLIDING_IDS
    one, two = KeyRegistry("spa_1"), KeyRegistry("spa_2")
    assert one.key_for("Welcome", "Email", first) == two.key_for("Welcome", "Email", second)


# ---------------------------------------------------------------- audience keys


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("VIP Users", "vip_users"),
        ("High-Value Customers (EU)", "high_value_customers_eu"),
        ("Clientes Açaí", "clientes_acai"),
        ("2024 Buyers", "a_2024_buyers"),
        ("🎉", "audience"),
    ],
)
def test_audience_key_is_the_snake_cased_name(name: str, expected: str) -> None:
    assert audience_key(name) == expected
    assert not is_journey_key(audience_key(name))


def test_is_journey_key() -> None:
    assert is_journey_key(step_key("J", "S", "x"))
    assert not is_journey_key("vip_users")


def test_an_audience_key_never_looks_like_a_journey_key() -> None:
    assert not is_journey_key(audience_key("J O Fans"))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("æble", "aeble"),
        ("Æble", "aeble"),
        ("Øresund", "oresund"),
        ("søster", "soster"),
        ("œuvre", "oeuvre"),
        ("Œuvre", "oeuvre"),
        ("Łódź", "lodz"),
        ("łosoś", "losos"),
        ("Straße", "strasse"),
        ("STRAẞE", "strasse"),
        ("Đakovo", "dakovo"),
        ("điện", "dien"),
        ("Þór", "thor"),
        ("þing", "thing"),
        ("Ðaði", "dadi"),
        ("ılık", "ilik"),
        ("fooÆbar", "foo_aebar"),
    ],
)
def test_letters_unicode_does_not_decompose_are_folded(name: str, expected: str) -> None:
    assert snake_case(name) == expected


@pytest.mark.parametrize("letter", sorted(keys_module._FOLD_LETTERS))
def test_each_folded_letter_inside_a_word(letter: str) -> None:
    # Inside a word, a capital starts a new word (camelCase) and a small letter does not.
    folded = keys_module._FOLD_LETTERS[letter]
    expected = ("a_" if folded[0].isupper() else "a") + folded.lower() + "b"
    assert snake_case(f"a{letter}b") == expected


def test_long_audience_names_are_cut_to_leave_room_for_the_prefix() -> None:
    assert audience_key("x" * 100) == "x" * 62
    assert audience_key("1" + "x" * 100) == "a_1" + "x" * 61
    assert len(audience_key("J O " + "x" * 100)) == MAX_KEY_LENGTH


def test_a_folded_name_keeps_every_letter_in_a_step_key() -> None:
    key = step_key("Łódź Œuvre", "Æble Ø", "step-1")
    assert key.startswith("j_o_lodz_oeuvre__aeble_o_")
