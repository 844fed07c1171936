"""Identifier normalisation and hashing, checked against the vendors' documented examples.

Sources of the examples:
- Meta, Custom Audiences: https://developers.facebook.com/docs/marketing-api/custom-audiences-targeting/
  ("mary@example.com" hashes to f1904cf1...), Meta Business Help Centre "How to format a
  customer list" (phone examples 1-234-567-8910, +44 844 412 4653), and the Hashing and
  Normalizing table of https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences
- Google Ads API: E.164 examples +12125650000 and +442070313000 (Google Ads API team,
  https://groups.google.com/g/adwords-api/c/GLqSCji7Hx0) and the Customer Match CSV template
  (1-800-888-8888, zoë, pérez, WC2H 8LG).
- TikTok customer file formats (https://ads.tiktok.com/help/article/list-of-supported-ids-and-formats-for-a-customer-file):
  "janedoe@gmail.com" and the digits-only phone 37493828222 with their published hashes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sdk._errors import InputError, InvalidIdentifier
from sdk.connector import (
    IdentifierKind,
    is_sha256_hex,
    normalize,
    normalize_and_hash,
    normalize_birth_day,
    normalize_birth_month,
    normalize_birth_year,
    normalize_city,
    normalize_country,
    normalize_date_of_birth,
    normalize_email,
    normalize_external_id,
    normalize_first_initial,
    normalize_gender,
    normalize_mobile_ad_id,
    normalize_name,
    normalize_phone,
    normalize_state,
    normalize_zip,
    phone_digits_only,
    sha256_hex,
)

HEX64 = re.compile(r"[0-9a-f]{64}")


def refused(call: Callable[[], object], field: str, *raw: str) -> InvalidIdentifier:
    """Assert ``call`` raises InvalidIdentifier naming ``field`` and echoing none of ``raw``."""
    with pytest.raises(InvalidIdentifier) as caught:
        call()
    error = caught.value
    message = str(error)
    assert isinstance(error, InputError)
    assert error.field == field
    assert message.startswith(f"{field}: ")
    assert "\n" not in message
    for value in raw:
        for form in {value, value.strip(), value.strip().lower()}:
            if form:
                assert form not in message
    return error


# --------------------------------------------------------------------------- hashing


def test_meta_documented_email_hash() -> None:
    # Meta: hash("sha256", "mary@example.com") returns f1904cf1...
    expected = "f1904cf1a9d73a55fa5de0ac823c4403ded71afd4c3248d00bdcd0866552bb79"
    assert sha256_hex("mary@example.com") == expected
    assert normalize_and_hash(IdentifierKind.EMAIL, "  Mary@Example.COM ") == expected


def test_tiktok_documented_hashes_of_normalised_values() -> None:
    assert (
        normalize_and_hash("email", " JaneDoe@Gmail.com")
        == "d6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69"
    )
    # The digits-only phone form (Meta's PHONE) of +374 93 828222.
    assert (
        normalize_and_hash("phone", "+374 93 828222", digits_only=True)
        == "65b7e6dcf6f4310f8d7cbfbd78289a753062fb054d6664fb9aaac5df66a422d4"
    )


def test_trimmed_and_lowercased_emails_hash_the_same() -> None:
    assert normalize_and_hash("email", "  John.Doe@Example.COM ") == normalize_and_hash(
        "email", "john.doe@example.com"
    )
    assert normalize_and_hash("email", "john.doe@example.com") == sha256_hex("john.doe@example.com")


def test_sha256_hex_is_lowercase_hex_of_utf8() -> None:
    assert sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert HEX64.fullmatch(sha256_hex("zoë"))
    assert sha256_hex("zoë") != sha256_hex("zoe")


def test_already_hashed_values_pass_through() -> None:
    digest = sha256_hex("mary@example.com")
    assert is_sha256_hex(digest)
    assert is_sha256_hex(digest.upper())
    assert sha256_hex(digest) == digest
    assert sha256_hex(digest.upper()) == digest
    assert normalize_and_hash("email", f"  {digest} ") == digest
    assert normalize_and_hash("phone", digest.upper()) == digest


@pytest.mark.parametrize("value", ["", "abc", "g" * 64, "a" * 63, "a" * 65, " " + "a" * 64])
def test_is_sha256_hex_rejects_non_digests(value: str) -> None:
    assert not is_sha256_hex(value)


# --------------------------------------------------------------------------- email


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  John.Doe@Example.COM ", "john.doe@example.com"),
        ("username@hotmail.co.uk", "username@hotmail.co.uk"),
        ("Your.Name@gmail.com", "your.name@gmail.com"),
        ("first+tag@sub.example.org", "first+tag@sub.example.org"),
        ("\tÉlodie@Exemple.fr\n", "élodie@exemple.fr"),
    ],
)
def test_normalize_email(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("J.O.H.N.Doe@gmail.com", "johndoe@gmail.com"),
        ("j.doe@GoogleMail.com", "jdoe@googlemail.com"),
        ("j.doe@example.com", "j.doe@example.com"),  # other domains keep their dots
    ],
)
def test_gmail_dot_rule_is_opt_in(raw: str, expected: str) -> None:
    assert normalize_email(raw, gmail=True) == expected
    assert normalize_email(raw) == raw.lower()
    assert normalize("email", raw, gmail=True) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "john.doe(at)example.com",
        "john.doe@example",
        "john doe@example.com",
        "john@doe@example.com",
        "@example.com",
        "john.doe@.example.com",
        "john.doe@example..com",
        "john.doe@example.com.",
    ],
)
def test_bad_emails_are_refused_without_echo(raw: str) -> None:
    refused(lambda: normalize_email(raw), "email", raw, raw.split("@")[0])


def test_gmail_address_of_only_dots_is_refused() -> None:
    refused(lambda: normalize_email("...@gmail.com", gmail=True), "email", "...@gmail.com")


@pytest.mark.parametrize("raw", ["", "   ", "\n\t"])
@pytest.mark.parametrize("kind", list(IdentifierKind))
def test_blank_identifiers_are_refused(kind: IdentifierKind, raw: str) -> None:
    refused(lambda: normalize(kind, raw), kind.value)


def test_non_strings_are_refused() -> None:
    refused(lambda: normalize_email(None), "email")  # type: ignore[arg-type]
    refused(lambda: normalize_phone(4155552671), "phone")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- phone


@pytest.mark.parametrize(
    ("raw", "default", "expected"),
    [
        # Google Ads API team's E.164 examples.
        ("+1 212 565 0000", None, "+12125650000"),
        ("+44 20 7031 3000", None, "+442070313000"),
        ("+12125650000", None, "+12125650000"),
        # Meta help centre examples, with the country code written in.
        ("+44 844 412 4653", None, "+448444124653"),
        ("1-234-567-8910", "1", "+12345678910"),
        # Google Customer Match template rows.
        ("1-800-888-8888", "1", "+18008888888"),
        ("1(800)888-8888", "+1", "+18008888888"),
        ("(415) 555.2671", "1", "+14155552671"),
        # 00 is the international prefix.
        ("0044 20 7946 0958", None, "+442079460958"),
        ("00 49 30 123456", "1", "+4930123456"),
        # A national number takes the default code, its trunk 0 dropped...
        ("020 7946 0958", "44", "+442079460958"),
        ("(0)30 123456", "+49", "+4930123456"),
        # ... but Italy keeps the leading 0 of landlines.
        ("06 6988 4857", "39", "+390669884857"),
        # "+44 (0)20 ..." writes the trunk 0 that E.164 leaves out.
        ("+44 (0) 20 7946 0958", None, "+442079460958"),
        # Full-width digits and plus sign.
        ("＋８１ ３-１２３４-５６７８", None, "+81312345678"),
    ],
)
def test_normalize_phone_gives_e164(raw: str, default: str | None, expected: str) -> None:
    assert normalize_phone(raw, default) == expected
    assert normalize_phone(expected) == expected
    assert normalize("phone", raw, default_country_code=default) == expected


@pytest.mark.parametrize(
    ("raw", "default", "expected"),
    [
        ("+44 844 412 4653", None, "448444124653"),
        ("1-234-567-8910", "1", "12345678910"),
        ("+44 7123 456789", None, "447123456789"),  # "447123456789 and not +447123456789"
    ],
)
def test_phone_digits_only_is_metas_form(raw: str, default: str | None, expected: str) -> None:
    assert phone_digits_only(raw, default) == expected
    assert normalize("phone", raw, default_country_code=default, digits_only=True) == expected
    assert normalize_and_hash("phone", raw, default_country_code=default, digits_only=True) == (
        sha256_hex(expected)
    )


@pytest.mark.parametrize(
    "raw",
    [
        "+44 20/7946-0958",
        "+44 20\u20137946\u20140958",
        "+44 [20] 7946\u00b70958",
        "+44.20.7946.0958",
    ],
)
def test_metas_symbols_are_removed(raw: str) -> None:
    assert phone_digits_only(raw) == "442079460958"


def test_google_phone_hash_is_of_e164() -> None:
    assert normalize_and_hash("phone", "+1 (212) 565-0000") == sha256_hex("+12125650000")


@pytest.mark.parametrize(
    ("raw", "default"),
    [
        ("+1 415 CALL NOW", None),  # letters
        ("+1 415 555 2671 ext 5", None),
        ("415-555-2671", None),  # no country code and no default
        ("+1 555 12", None),  # too short
        ("+1234567890123456", None),  # 16 digits
        ("+0 415 555 2671", None),  # country codes do not start with 0
        ("+1-415-555+2671", None),
    ],
)
def test_bad_phones_are_refused_without_echo(raw: str, default: str | None) -> None:
    digits = re.sub(r"\D", "", raw)
    refused(lambda: normalize_phone(raw, default), "phone", raw, digits)


@pytest.mark.parametrize("default", ["", "0", "1234", "+", "44a", "+0"])
def test_bad_default_country_code_is_refused(default: str) -> None:
    refused(lambda: normalize_phone("020 7946 0958", default), "default_country_code", "79460958")


# --------------------------------------------------------------------------- mobile ad id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AECE52E7-03EE-455A-B3C4-E57283966239", "aece52e7-03ee-455a-b3c4-e57283966239"),
        (" 4b61639e-47cc-4056-a16a-c8217e029462 ", "4b61639e-47cc-4056-a16a-c8217e029462"),
    ],
)
def test_normalize_mobile_ad_id(raw: str, expected: str) -> None:
    assert normalize_mobile_ad_id(raw) == expected
    # Meta sends MADID unhashed.
    assert normalize_and_hash(IdentifierKind.MOBILE_AD_ID, raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "aece52e703ee455ab3c4e57283966239",  # hyphens are kept, so they are required
        "aece52e7-03ee-455a-b3c4-e5728396623",
        "zzzz52e7-03ee-455a-b3c4-e57283966239",
        "00000000-0000-0000-0000-000000000000",
    ],
)
def test_bad_mobile_ad_ids_are_refused(raw: str) -> None:
    refused(lambda: normalize_mobile_ad_id(raw), "mobile_ad_id", raw)


# --------------------------------------------------------------------------- names, person


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  John ", "john"),
        ("Mary-Ann", "maryann"),
        ("O'Neil", "oneil"),
        ("Zoë", "zoë"),
        ("PÉREZ", "pérez"),
        ("Pe\u0301rez", "pérez"),  # decomposed é composes: same hash as the composed one
        ("Dr. J. R. R.", "drjrr"),
        ("Jean Luc", "jeanluc"),
        ("Ñúñez", "ñúñez"),
        ("Иван", "иван"),
        ("山田", "山田"),
    ],
)
def test_normalize_name_keeps_utf8_letters(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected
    assert normalize("first_name", raw) == expected
    assert normalize("last_name", raw) == expected


def test_composed_and_decomposed_names_hash_the_same() -> None:
    assert normalize_and_hash("last_name", "Pe\u0301rez") == normalize_and_hash(
        "last_name", "Pérez"
    )


@pytest.mark.parametrize(
    ("kind", "field"), [("first_name", "first_name"), ("last_name", "last_name")]
)
def test_names_without_letters_are_refused(kind: str, field: str) -> None:
    refused(lambda: normalize(kind, "-- 1234567 --"), field, "1234567")


def test_first_initial() -> None:
    assert normalize_first_initial(" Élodie") == "é"
    assert normalize("first_initial", "john") == "j"
    refused(lambda: normalize_first_initial("§§§"), "first_initial", "§§§")


@pytest.mark.parametrize(
    ("raw", "expected"), [("m", "m"), (" M ", "m"), ("Male", "m"), ("f", "f"), ("FEMALE", "f")]
)
def test_normalize_gender(raw: str, expected: str) -> None:
    assert normalize_gender(raw) == expected


@pytest.mark.parametrize("raw", ["unknown-gender-value", "mf", "x"])
def test_bad_genders_are_refused(raw: str) -> None:
    refused(lambda: normalize_gender(raw), "gender", raw if len(raw) > 1 else "")


def test_birth_date_pieces() -> None:
    assert normalize_birth_year(" 1984 ") == "1984"
    assert normalize_birth_month("7") == "07"
    assert normalize_birth_month("12") == "12"
    assert normalize_birth_day("2") == "02"
    assert normalize_birth_day("31") == "31"
    assert normalize_date_of_birth("1984-07-02") == ("1984", "07", "02")
    assert normalize_date_of_birth("1984-7-2T10:00:00Z") == ("1984", "07", "02")
    assert normalize("birth_month", "03") == "03"
    assert normalize_and_hash("birth_year", "1984") == sha256_hex("1984")


@pytest.mark.parametrize(
    ("call", "field", "raw"),
    [
        (normalize_birth_year, "birth_year", "84"),
        (normalize_birth_year, "birth_year", "1899"),
        (normalize_birth_year, "birth_year", "3024"),
        (normalize_birth_month, "birth_month", "13"),
        (normalize_birth_month, "birth_month", "00"),
        (normalize_birth_day, "birth_day", "32"),
        (normalize_birth_day, "birth_day", "two"),
        (normalize_date_of_birth, "date_of_birth", "1984-02-30"),
        (normalize_date_of_birth, "date_of_birth", "07/02/1984"),
        (normalize_date_of_birth, "date_of_birth", "1850-01-01"),
    ],
)
def test_bad_birth_dates_are_refused(call: Callable[[str], Any], field: str, raw: str) -> None:
    refused(lambda: call(raw), field, raw)


# --------------------------------------------------------------------------- location


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("New York", "newyork"),
        ("St. Louis", "stlouis"),
        ("München", "münchen"),
        ("  PARIS ", "paris"),
    ],
)
def test_normalize_city(raw: str, expected: str) -> None:
    assert normalize_city(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CA", "ca"),
        ("California", "ca"),
        ("new york", "ny"),
        ("District of Columbia", "dc"),
        ("US-TX", "tx"),
        ("Île-de-France", "îledefrance"),
        ("Bayern", "bayern"),
    ],
)
def test_normalize_state(raw: str, expected: str) -> None:
    assert normalize_state(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"), [("US", "us"), (" us ", "us"), ("U.S.", "us"), ("UK", "gb"), ("Gb", "gb")]
)
def test_normalize_country(raw: str, expected: str) -> None:
    assert normalize_country(raw) == expected


@pytest.mark.parametrize("raw", ["USA", "United States", "u", "1a"])
def test_bad_countries_are_refused(raw: str) -> None:
    refused(lambda: normalize_country(raw), "country", raw if len(raw) > 2 else "")


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("94303", None, "94303"),
        ("94303-5300", None, "94303"),  # Meta: only the first 5 digits in the U.S.
        ("943035300", "US", "94303"),
        ("WC2H 8LG", None, "wc2h8lg"),
        ("SW1A 1AA", "gb", "sw1a1"),  # Meta: area/district/sector in the UK
        ("M1 1AE", "GB", "m11"),
        ("101300", "cn", "101300"),
        ("00-950", "pl", "00-950"),
        ("K1A 0B1", "ca", "k1a0b1"),
    ],
)
def test_normalize_zip(raw: str, country: str | None, expected: str) -> None:
    assert normalize_zip(raw, country=country) == expected
    assert normalize("zip", raw, country=country) == expected


@pytest.mark.parametrize(("raw", "country"), [("94-303", "us"), ("ZIP#1234", None), ("---", None)])
def test_bad_zips_are_refused(raw: str, country: str | None) -> None:
    refused(lambda: normalize_zip(raw, country=country), "zip", raw)


def test_google_sends_zip_and_country_in_clear() -> None:
    assert normalize_and_hash("zip", "94303-5300", hashed=False) == "94303"
    assert normalize_and_hash("country", "US", hashed=False) == "us"
    assert normalize_and_hash("country", "US") == sha256_hex("us")  # Meta hashes COUNTRY


# --------------------------------------------------------------------------- declarative table


def test_hashed_by_default_follows_meta() -> None:
    unhashed = {k for k in IdentifierKind if not k.hashed_by_default}
    assert unhashed == {IdentifierKind.MOBILE_AD_ID, IdentifierKind.EXTERNAL_ID}


def test_meta_keys() -> None:
    assert {k.value: k.meta_key for k in IdentifierKind} == {
        "email": "EMAIL",
        "phone": "PHONE",
        "mobile_ad_id": "MADID",
        "external_id": "EXTERN_ID",
        "first_name": "FN",
        "last_name": "LN",
        "first_initial": "FI",
        "zip": "ZIP",
        "city": "CT",
        "state": "ST",
        "country": "COUNTRY",
        "gender": "GEN",
        "birth_year": "DOBY",
        "birth_month": "DOBM",
        "birth_day": "DOBD",
    }


def test_external_ids_are_trimmed_only_and_not_hashed() -> None:
    assert normalize_external_id("  CRM-00042 ") == "CRM-00042"
    assert normalize_and_hash(IdentifierKind.EXTERNAL_ID, "  CRM-00042 ") == "CRM-00042"
    assert normalize_and_hash("external_id", " CRM-00042", hashed=True) == sha256_hex("CRM-00042")


def test_unknown_kind_is_refused() -> None:
    refused(lambda: normalize("ssn", "123-45-6789"), "kind", "123-45-6789")
    refused(lambda: normalize_and_hash("ssn", "123-45-6789"), "kind", "123-45-6789")


def test_unknown_option_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        normalize("email", "a@b.co", country="us")


# --------------------------------------------------------------------------- properties

_OPTIONS: dict[IdentifierKind, dict[str, Any]] = {
    IdentifierKind.PHONE: {"default_country_code": "44"},
    IdentifierKind.ZIP: {"country": "gb"},
}
_ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from("0123456789+-.() @aeM"),
    ),
    max_size=40,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(list(IdentifierKind)), value=_ANY_TEXT, options=st.booleans())
def test_normalising_is_idempotent(kind: IdentifierKind, value: str, options: bool) -> None:
    extra = _OPTIONS.get(kind, {}) if options else {}
    try:
        once = normalize(kind, value, **extra)
    except InvalidIdentifier:
        return
    assert normalize(kind, once, **extra) == once


@given(
    local=st.from_regex(r"[A-Za-z0-9._+\-]{1,20}", fullmatch=True),
    domain=st.from_regex(r"[A-Za-z0-9\-]{1,12}\.[A-Za-z]{2,6}", fullmatch=True),
    pad=st.sampled_from(["", " ", "\t", " \n "]),
    gmail=st.booleans(),
)
def test_email_normalising_is_idempotent_and_hash_stable(
    local: str, domain: str, pad: str, gmail: bool
) -> None:
    raw = f"{pad}{local}@{domain}{pad}"
    try:
        once = normalize_email(raw, gmail=gmail)
    except InvalidIdentifier:
        return
    assert normalize_email(once, gmail=gmail) == once
    assert once == once.strip().lower() or gmail
    assert normalize_and_hash("email", raw, gmail=gmail) == sha256_hex(once)


@given(
    digits=st.from_regex(r"[1-9][0-9]{7,14}", fullmatch=True),
    separators=st.lists(st.sampled_from([" ", "-", ".", "(", ")"]), max_size=4),
)
def test_e164_phones_are_stable(digits: str, separators: list[str]) -> None:
    raw = "+" + "".join(separators) + digits
    e164 = normalize_phone(raw)
    assert e164 == "+" + digits
    assert normalize_phone(e164) == e164
    assert phone_digits_only(raw) == digits


@given(value=st.text(max_size=60))
def test_hashes_are_64_lowercase_hex(value: str) -> None:
    assert HEX64.fullmatch(sha256_hex(value))


@given(
    kind=st.sampled_from([k for k in IdentifierKind if k.hashed_by_default]),
    value=st.text(min_size=1, max_size=40),
)
def test_normalize_and_hash_gives_64_lowercase_hex(kind: IdentifierKind, value: str) -> None:
    try:
        digest = normalize_and_hash(kind, value, **_OPTIONS.get(kind, {}))
    except InvalidIdentifier:
        return
    assert HEX64.fullmatch(digest)


@given(
    digest=st.from_regex(r"[0-9a-fA-F]{64}", fullmatch=True),
    kind=st.sampled_from(list(IdentifierKind)),
)
def test_already_hashed_values_are_never_hashed_again(digest: str, kind: IdentifierKind) -> None:
    assert sha256_hex(digest) == digest.lower()
    if kind.hashed_by_default:
        assert normalize_and_hash(kind, digest) == digest.lower()
        assert normalize_and_hash(kind, digest.lower()) == digest.lower()


@given(kind=st.sampled_from(list(IdentifierKind)), value=st.text(max_size=30))
def test_errors_never_echo_the_value(kind: IdentifierKind, value: str) -> None:
    marked = f"{value}§Zq9§"  # no rule text contains this marker
    try:
        normalize(kind, marked)
    except InvalidIdentifier as error:
        assert "§" not in str(error)
        assert "Zq9" not in str(error)
        assert str(error).startswith(f"{kind.value}: ") or str(error).startswith(
            "default_country_code: "
        )


# -- invisible characters (issue 13) and the user's own country (issue 18) ---------------------

INVISIBLE = ["\ufeff", "\u200b", "\u200d", "\u200f", "\u200e", "\x00", "\u2060"]


@pytest.mark.parametrize("char", INVISIBLE)
def test_invisible_characters_at_the_ends_are_stripped_like_white_space(char: str) -> None:
    clean = sha256_hex("ada@example.com")
    assert normalize_and_hash("email", f"{char} Ada@Example.com{char}") == clean
    assert normalize("phone", f"{char}+1 415 555 0100 {char}") == "+14155550100"
    assert normalize("external_id", f"{char}u-1{char}") == "u-1"


@pytest.mark.parametrize("char", INVISIBLE)
@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("email", "ada{}@example.com"),
        ("phone", "+1 415{}555 0100"),
        ("mobile_ad_id", "6d92078a-8246-4ba4-ae5b-76104861e7dc{}x"),
        ("external_id", "u{}1"),
    ],
)
def test_an_invisible_character_inside_an_identifier_refuses_it(
    char: str, kind: str, value: str
) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalize_and_hash(kind, value.format(char))
    assert caught.value.field == kind
    assert f"U+{ord(char):04X}" in caught.value.rule
    assert "invisible" in caught.value.rule


@pytest.mark.parametrize("char", INVISIBLE)
def test_names_keep_letters_only_so_invisible_characters_never_reach_the_hash(char: str) -> None:
    assert normalize("first_name", f"A{char}da") == "ada"
    assert normalize("city", f"New{char} York") == "newyork"


def test_only_invisible_characters_is_empty() -> None:
    with pytest.raises(InvalidIdentifier, match="is empty"):
        normalize("email", "\ufeff\u200b \x00")


@pytest.mark.parametrize(
    ("country", "phone", "expected"),
    [
        ("gb", "020 7946 0000", "+442079460000"),
        ("GB", "07700 900123", "+447700900123"),
        ("uk", "07700 900123", "+447700900123"),
        ("DE", "030 1234567", "+49301234567"),
        ("it", "06 1234 5678", "+390612345678"),  # Italy keeps its leading 0
        ("US", "1 (415) 555-0100", "+14155550100"),
        ("fr", "+33 1 23 45 67 89", "+33123456789"),  # already international: country unused
    ],
)
def test_a_national_phone_takes_the_users_own_country_first(
    country: str, phone: str, expected: str
) -> None:
    assert normalize_phone(phone, "1", country=country) == expected
    assert phone_digits_only(phone, "1", country=country) == expected[1:]


def test_an_unknown_country_falls_back_to_the_default_and_then_refuses() -> None:
    assert normalize_phone("(415) 555-0100", "1", country="Atlantis") == "+14155550100"
    with pytest.raises(InvalidIdentifier, match="country is unknown"):
        normalize_phone("(415) 555-0100", country="Atlantis")


def test_every_country_code_maps_to_a_calling_code() -> None:
    from sdk.connector import calling_code_for_country

    assert calling_code_for_country("CA") == "1"
    assert calling_code_for_country("kz") == "7"
    assert calling_code_for_country("U.S.") == "1"
    assert calling_code_for_country(None) is None
    assert calling_code_for_country("France") is None


_INVISIBLE_CHARS = st.sampled_from([*INVISIBLE, "\u2066", "\u202e", "\x07", "\xad"])


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
# A control character that is white space (CR) inside, once the ends are stripped: found by
# this test, it used to be hashed.
@example(kind="external_id", left="\x1b", right="0\r0", char="\ufeff")
@given(
    kind=st.sampled_from(["email", "phone", "external_id", "mobile_ad_id"]),
    left=st.text(min_size=1, max_size=20).filter(lambda t: t.strip() != ""),
    right=st.text(min_size=1, max_size=20).filter(lambda t: t.strip() != ""),
    char=_INVISIBLE_CHARS,
)
def test_an_invisible_character_inside_is_never_hashed(
    kind: str, left: str, right: str, char: str
) -> None:
    value = f"{left.strip()}{char}{right.strip()}"
    try:
        result = normalize_and_hash(kind, value)
    except InvalidIdentifier as exc:
        assert exc.field == kind
        return
    # Accepted only when nothing invisible survives into what is hashed or sent.
    assert char not in result
    assert not any(unicodedata.category(c) in ("Cf", "Cc") for c in result)
