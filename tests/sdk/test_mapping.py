"""The mapping language: every directive resolves as documented, in its Python and JSON forms,
and everything wrong is one line at compile time naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from sdk import InvalidEvent, InvalidMapping, InvalidSettings
from sdk.mapping import (
    MAPPING_NOTES,
    MISSING,
    FieldMappings,
    LooseNumber,
    LooseText,
    compile_node,
    each,
    first_of,
    if_equals,
    if_exists,
    literal,
    lower,
    mapped,
    merge,
    node_from_json,
    node_to_json,
    obj,
    path,
    template,
    upper,
)

TRACK: dict[str, Any] = {
    "type": "track",
    "event": "Order Completed",
    "userId": "user-1",
    "messageId": "m-1",
    "properties": {
        "revenue": 42.5,
        "currency": "EUR",
        "products": [
            {"product_id": "p1", "price": 10, "name": "Pen"},
            {"product_id": "p2", "price": 32.5},
        ],
        "weird key": "yes",
    },
    "context": {"traits": {"email": "Ada@Example.com", "first_name": "Ada"}},
}


def resolve(
    spec: Any, document: dict[str, Any] = TRACK, types: tuple[str, ...] = ("track",)
) -> Any:
    return compile_node(node_from_json(spec, "field"), types, "field")(document, None)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("$.properties.revenue", 42.5),
        ("$.properties.products[1].price", 32.5),
        ("$.properties.products[-1].product_id", "p2"),
        ('$.properties["weird key"]', "yes"),
        ("$.properties.products[5].price", MISSING),
        ("$.properties.revenue.value", MISSING),
        ("$.event", "Order Completed"),
        ("{{context.traits.first_name}} bought {{event}}", "Ada bought Order Completed"),
        ("{{context.traits.last_name}}", MISSING),
        ({"literal": "$5"}, "$5"),
        (7, 7),
        ({"first_of": ["$.properties.total", "$.properties.revenue"]}, 42.5),
        ({"first_of": ["$.properties.total", 0]}, 0),
        (
            {"if_exists": "$.properties.currency", "then": "$.properties.currency", "else": "USD"},
            "EUR",
        ),
        ({"if_exists": "$.properties.nope", "then": 1, "else": 2}, 2),
        ({"if_equals": "$.properties.currency", "value": "EUR", "then": "euro"}, "euro"),
        ({"if_equals": "$.properties.currency", "value": "USD", "then": "dollar"}, MISSING),
        ({"lower": "$.context.traits.email"}, "ada@example.com"),
        ({"upper": "$.properties.currency"}, "EUR"),
        ({"upper": "$.properties.revenue"}, 42.5),
        (
            {"each": "$.properties.products", "map": {"id": "@.product_id", "name": "@.name"}},
            [{"id": "p1", "name": "Pen"}, {"id": "p2"}],
        ),
        ({"each": "$.properties.products", "item": "@.price"}, [10, 32.5]),
        ({"each": "$.properties.revenue", "item": "@"}, MISSING),
        (
            {"merge": [{"object": {"a": 1, "b": 2}}, {"object": {"b": "$.properties.currency"}}]},
            {"a": 1, "b": "EUR"},
        ),
        ({"object": {"email": "$.context.traits.email", "none": "$.properties.nope"}}, None),
    ],
)
def test_directives_resolve(spec: Any, expected: Any) -> None:
    if expected is None:  # objects leave out keys without a value
        assert resolve(spec) == {"email": "Ada@Example.com"}
        return
    assert resolve(spec) == expected


def test_python_builders_match_the_json_form() -> None:
    built = obj(
        {
            "total": first_of(path("$.properties.total"), path("$.properties.revenue")),
            "who": template("{{context.traits.first_name}}"),
            "email": lower("$.context.traits.email"),
            "cur": upper(if_exists("$.properties.currency", "$.properties.currency", "usd")),
            "euro": if_equals("$.properties.currency", "EUR", literal(True), False),
            "items": each("$.properties.products", {"id": "@.product_id"}),
            "all": merge({"object": {"x": 1}}, obj({"y": 2})),
        }
    )
    as_json = node_to_json(built)
    assert node_from_json(as_json, "field") == built  # the JSON form round-trips
    assert compile_node(built, ["track"], "f")(TRACK, None) == {
        "total": 42.5,
        "who": "Ada",
        "email": "ada@example.com",
        "cur": "EUR",
        "euro": True,
        "items": [{"id": "p1"}, {"id": "p2"}],
        "all": {"x": 1, "y": 2},
    }


@pytest.mark.parametrize(
    ("spec", "types", "message"),
    [
        ({"paht": "$.x"}, ("track",), "field: unknown directive paht"),
        ({"path": "$.a", "upper": "$.b"}, ("track",), "field: one directive per object"),
        (
            {"if_exists": "$.event", "than": 1},
            ("track",),
            "field: if_exists takes no option 'than'",
        ),
        ({"if_exists": "$.event"}, ("track",), "field: if_exists needs then"),
        ("$.traits.email", ("track",), "field: path $.traits.email can never match a track event"),
        ("$.event.name", ("track",), "field: path $.event.name can never match: event is text"),
        ("$.properties..x", ("track",), "field: path '$.properties..x' is malformed"),
        ("{{ }}", ("track",), "field: template '{{ }}' has an empty"),
        ({"first_of": []}, ("track",), "field: first_of takes a non-empty list"),
        (["$.event"], ("track",), "field: a list is not a mapping"),
        ({"each": "$.properties.products"}, ("track",), "field: each takes one of map"),
        (
            "{{traits.name}}",
            ("track", "page"),
            "field: path $.traits.name can never match a page or track",
        ),
    ],
)
def test_a_broken_mapping_is_one_line_naming_the_field(
    spec: Any, types: tuple[str, ...], message: str
) -> None:
    with pytest.raises(InvalidMapping) as caught:
        resolve(spec, types=types)
    assert isinstance(caught.value, InvalidSettings)  # the CLI's exit 2
    assert str(caught.value).startswith(message), str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_path_valid_for_one_of_the_types_compiles() -> None:
    assert resolve("$.traits.plan", {"traits": {"plan": "pro"}}, ("track", "identify")) == "pro"


class OrderFields(BaseModel):
    order_id: str = mapped("$.messageId", required=True)
    revenue: float | None = mapped("$.properties.revenue")
    currency: str = mapped({"upper": "$.properties.currency"}, default="USD")
    email: str | None = mapped({"lower": "$.context.traits.email"})


def test_fields_resolve_and_validate() -> None:
    fields = FieldMappings(OrderFields, ["track"]).resolve(TRACK)
    assert fields == OrderFields(
        order_id="m-1", revenue=42.5, currency="EUR", email="ada@example.com"
    )


def test_an_override_replaces_one_field_and_keeps_the_others() -> None:
    fields = FieldMappings(
        OrderFields, ["track"], {"revenue": "$.properties.products[0].price"}
    ).resolve(TRACK)
    assert (fields.revenue, fields.currency, fields.order_id) == (10, "EUR", "m-1")


def test_an_override_of_an_unknown_field_is_refused() -> None:
    with pytest.raises(InvalidMapping, match=r"^mapping\.revnue: is not a field \(fields: "):
        FieldMappings(OrderFields, ["track"], {"revnue": "$.properties.revenue"})


def test_a_value_the_model_refuses_names_the_field_and_its_mapping() -> None:
    document = {**TRACK, "properties": {"revenue": "lots"}}
    with pytest.raises(InvalidEvent) as caught:
        FieldMappings(OrderFields, ["track"]).resolve(document)
    assert str(caught.value).startswith("revenue: ")
    assert "(mapped from $.properties.revenue)" in str(caught.value)
    assert "lots" not in str(caught.value)  # the value itself is not echoed


def test_the_default_mapping_is_in_the_json_schema() -> None:
    schema = OrderFields.model_json_schema()
    assert schema["properties"]["currency"]["default_mapping"] == {"upper": "$.properties.currency"}


class ContextFields(BaseModel):
    os_name: LooseText = mapped("$.context.os.name")
    ip: LooseText = mapped("$.context.ip")
    width: LooseNumber = mapped("$.context.screen.width")
    height: LooseNumber = mapped("$.context.screen.height")
    locale: LooseText = mapped("$.context.locale")
    app: LooseText = mapped(first_of("$.context.app.name", "$.context.app.namespace"))


def _resolve_noting(document: dict[str, Any]) -> tuple[ContextFields, list[str]]:
    notes: list[str] = []
    token = MAPPING_NOTES.set(notes)
    try:
        return FieldMappings(ContextFields, ["track"]).resolve(document), notes
    finally:
        MAPPING_NOTES.reset(token)


def test_a_loose_field_leaves_out_a_value_of_the_wrong_type_with_a_note() -> None:
    context = {
        "os": {"name": 11},
        "ip": "   ",
        "screen": {"width": "1440px", "height": True},
        "locale": "en-US",
        "app": {"namespace": {"id": 1}},
    }
    fields, notes = _resolve_noting({**TRACK, "context": context})
    assert fields == ContextFields(locale="en-US")
    assert notes == [
        "os_name left out: $.context.os.name is a number, not text",
        "ip left out: $.context.ip is blank",
        "width left out: $.context.screen.width is text, not a number",
        "height left out: $.context.screen.height is a boolean, not a number",
        "app left out: $.context.app.namespace is an object, not text",  # the option that gave it
    ]
    assert "1440px" not in " ".join(notes)  # the value itself is never echoed


def test_absent_values_and_values_of_the_right_type_are_not_noted() -> None:
    context = {"os": {"name": "iOS"}, "screen": {"width": 390}, "locale": None}
    fields, notes = _resolve_noting({**TRACK, "context": context})
    assert (fields.os_name, fields.width, fields.locale, fields.ip) == ("iOS", 390, None, None)
    assert notes == []
