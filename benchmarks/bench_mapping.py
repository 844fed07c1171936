"""Mapping fields resolved per second: compiled ``sdk.mapping`` against a hand-written dict walk.

Rows, all in the same run, in one thread (``--cpu N`` also pins the process to one CPU):

- ``sdk compiled mapping``: a 16-field object mapping typical of a connector (paths one to four
  levels deep with array indexing, a template, ``first_of``, ``lower``/``upper``,
  ``if_exists``, ``if_equals``, a literal, an ``each`` over the products, a ``merge``) compiled
  once with ``compile_node``, then resolved against each event's wire dict. The target row
  (500,000 fields/s).
- ``hand-written dict walk``: the same 16 fields written by hand as a Python function
  (``.get`` chains, ``isinstance`` checks, a list comprehension): what ``map()`` code costs,
  the best a generic resolver can hope to approach.
- ``sdk resolve+validate``: ``FieldMappings.resolve`` of a pydantic payload model with the same
  16 fields: the mapping plus pydantic validation, what an action with declared fields pays.
- ``jmespath`` / ``glom`` (when installed): the same fields as compiled jmespath expressions or
  a glom spec (``pip install jmespath glom``); skipped otherwise.

Events are distinct dicts built before timing (some fields missing in some events, so the
fallback branches run). Each row: a warm-up, then the best of ``--repeats`` timed passes over
``--events`` events with ``time.perf_counter``; the passes of all rows are interleaved so a
change in machine load hits every row alike. Fields/s counts the 16 top-level fields.

Run: ``python benchmarks/bench_mapping.py [--events 20000] [--repeats 5] [--cpu N] [--json]
[--profile]``. Prints a Markdown table with each row's ratio to the hand-written walk.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import sys
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from sdk.mapping import FieldMappings, compile_node, mapped, node_from_json

SPEC: dict[str, Any] = {
    "user_id": "$.userId",
    "device_id": "$.anonymousId",
    "event_type": "$.event",
    "insert_id": "$.messageId",
    "time": "$.timestamp",
    "email": {"lower": "$.context.traits.email"},
    "name": "{{context.traits.first_name}} {{context.traits.last_name}}",
    "revenue": {"first_of": ["$.properties.revenue", "$.properties.total", 0]},
    "currency": {"upper": {"first_of": ["$.properties.currency", "usd"]}},
    "city": "$.context.location.city",
    "first_sku": "$.properties.products[0].sku",
    "coupon": {"if_exists": "$.properties.coupon", "then": "$.properties.coupon", "else": "none"},
    "is_refund": {"if_equals": "$.event", "value": "Order Refunded", "then": True, "else": False},
    "source": {"literal": "destkit"},
    "products": {
        "each": "$.properties.products",
        "map": {"id": "@.sku", "price": "@.price", "qty": "@.quantity"},
    },
    "extra": {"merge": ["$.properties.attributes", {"object": {"app": "$.context.app.name"}}]},
}
FIELDS = len(SPEC)


def hand_written(doc: dict[str, Any]) -> dict[str, Any]:
    """The same fields, written as a connector's ``map()`` would."""
    out: dict[str, Any] = {}
    context = doc.get("context") or {}
    traits = context.get("traits") or {}
    properties = doc.get("properties") or {}
    for key, name in (
        ("user_id", "userId"),
        ("device_id", "anonymousId"),
        ("event_type", "event"),
        ("insert_id", "messageId"),
        ("time", "timestamp"),
    ):
        if doc.get(name) is not None:
            out[key] = doc[name]
    email = traits.get("email")
    if email is not None:
        out["email"] = email.lower() if isinstance(email, str) else email
    first, last = traits.get("first_name"), traits.get("last_name")
    if first is not None or last is not None:
        out["name"] = f"{'' if first is None else first} {'' if last is None else last}"
    revenue = properties.get("revenue")
    out["revenue"] = revenue if revenue is not None else properties.get("total") or 0
    currency = properties.get("currency") or "usd"
    out["currency"] = currency.upper() if isinstance(currency, str) else currency
    location = context.get("location")
    if isinstance(location, dict) and location.get("city") is not None:
        out["city"] = location["city"]
    products = properties.get("products")
    first_product = products[0] if isinstance(products, list) and products else None
    if isinstance(first_product, dict) and first_product.get("sku") is not None:
        out["first_sku"] = first_product["sku"]
    out["coupon"] = properties["coupon"] if properties.get("coupon") is not None else "none"
    out["is_refund"] = doc.get("event") == "Order Refunded"
    out["source"] = "destkit"
    if isinstance(products, list):
        out["products"] = [
            {k: p[s] for k, s in (("id", "sku"), ("price", "price"), ("qty", "quantity")) if s in p}
            for p in products
            if isinstance(p, dict)
        ]
    extra = dict(properties.get("attributes") or {})
    app = context.get("app")
    if isinstance(app, dict) and app.get("name") is not None:
        extra["app"] = app["name"]
    out["extra"] = extra
    return out


class Payload(BaseModel):
    """The same 16 fields as a payload model with default mappings."""

    user_id: str | None = mapped(SPEC["user_id"])
    device_id: str | None = mapped(SPEC["device_id"])
    event_type: str = mapped(SPEC["event_type"], required=True)
    insert_id: str = mapped(SPEC["insert_id"], required=True)
    time: str = mapped(SPEC["time"], required=True)
    email: str | None = mapped(SPEC["email"])
    name: str | None = mapped(SPEC["name"])
    revenue: float = mapped(SPEC["revenue"], default=0)
    currency: str = mapped(SPEC["currency"], default="USD")
    city: str | None = mapped(SPEC["city"])
    first_sku: str | None = mapped(SPEC["first_sku"])
    coupon: str = mapped(SPEC["coupon"], default="none")
    is_refund: bool = mapped(SPEC["is_refund"], default=False)
    source: str = mapped(SPEC["source"], default="destkit")
    products: list[dict[str, Any]] = mapped(SPEC["products"], default_factory=list)
    extra: dict[str, Any] = mapped(SPEC["extra"], default_factory=dict)


def make_events(count: int) -> list[dict[str, Any]]:
    events = []
    for i in range(count):
        products = [
            {"sku": f"sku-{i}-{n}", "price": 9.5 + n, "quantity": 1 + n % 3} for n in range(3)
        ]
        properties: dict[str, Any] = {"products": products, "attributes": {"tier": i % 4}}
        if i % 2:
            properties["revenue"] = 10.0 + i % 100
        else:
            properties["total"] = 12.0
        if i % 3 == 0:
            properties["coupon"] = "WINTER"
            properties["currency"] = "eur"
        events.append(
            {
                "type": "track",
                "event": "Order Refunded" if i % 5 == 0 else "Order Completed",
                "userId": f"user-{i}",
                "anonymousId": f"anon-{i}",
                "messageId": f"msg-{i}",
                "timestamp": "2026-12-01T10:00:00.000Z",
                "properties": properties,
                "context": {
                    "traits": {"email": f"User{i}@Example.com", "first_name": "Ada"}
                    | ({"last_name": "Lovelace"} if i % 2 else {}),
                    "location": {"city": "Paris"} if i % 4 else {},
                    "app": {"name": "shop"},
                },
            }
        )
    return events


def peers() -> dict[str, Callable[[dict[str, Any]], Any]]:
    out: dict[str, Callable[[dict[str, Any]], Any]] = {}
    try:
        import jmespath
    except ImportError:
        return out
    simple = {
        k: jmespath.compile(v[2:])
        for k, v in SPEC.items()
        if isinstance(v, str) and v.startswith("$.")
    }

    def with_jmespath(doc: dict[str, Any]) -> Any:  # only the plain paths: a lower bound
        return {k: e.search(doc) for k, e in simple.items()}

    out[f"jmespath ({len(simple)} plain paths only)"] = with_jmespath
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cpu", type=int, help="pin the process to this CPU")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile", action="store_true", help="profile the sdk row")
    args = parser.parse_args(argv)
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    events = make_events(args.events)
    compiled = compile_node(node_from_json({"object": SPEC}, "bench"), ["track"], "bench")
    fields = FieldMappings(Payload, ["track"])
    if compiled(events[1], None) != hand_written(events[1]):  # the rows do the same work
        print("the compiled mapping and the hand-written walk disagree", file=sys.stderr)
        return 1
    rows: dict[str, Callable[[dict[str, Any]], Any]] = {
        "sdk compiled mapping": lambda doc: compiled(doc, None),
        "hand-written dict walk": hand_written,
        "sdk resolve+validate (pydantic model)": fields.resolve,
        **peers(),
    }
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(lambda: [compiled(doc, None) for doc in events])
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(8)
        print(out.getvalue())
    best = {name: float("inf") for name in rows}
    for run in rows.values():  # warm-up
        for doc in events[:1000]:
            run(doc)
    for _ in range(args.repeats):
        for name, run in rows.items():
            start = time.perf_counter()
            for doc in events:
                run(doc)
            best[name] = min(best[name], time.perf_counter() - start)
    rates = {name: FIELDS * args.events / seconds for name, seconds in best.items()}
    reference = rates["hand-written dict walk"]
    if args.json:
        print(json.dumps({"fields_per_s": rates, "events": args.events}, indent=2))
        return 0
    print(
        f"Python {platform.python_version()}, {args.events} events x {FIELDS} fields, "
        f"best of {args.repeats}\n"
    )
    print("| path | fields/s | events/s | x hand-written |")
    print("|---|---:|---:|---:|")
    for name, rate in rates.items():
        print(f"| {name} | {rate:,.0f} | {rate / FIELDS:,.0f} | {rate / reference:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
