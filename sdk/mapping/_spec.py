"""Default mappings of the Segment spec that several connectors share, stated once.

A page or screen call becomes a "view" event in most vendors' APIs: its name follows the naming
of the vendors' own Segment integrations (``Viewed <name> Page`` / ``Viewed <name> Screen``, or
``Loaded a Page`` / ``Loaded a Screen`` without a name), and its properties are the page context,
then the call's name and category, then its own properties.
"""

from __future__ import annotations

from sdk.mapping._forms import first_of, if_equals, literal, merge, obj, template

__all__ = [
    "ORDER_EVENTS",
    "VIEW_NAME",
    "VIEW_NAME_DOC",
    "VIEW_PROPERTIES",
    "VIEW_PROPERTIES_DOC",
]

#: The Segment ecommerce spec's events that carry a whole order (its ``products``).
ORDER_EVENTS = ("Order Completed", "Product Purchased")

#: The view event's name for a page or a screen call.
VIEW_NAME = if_equals(
    "$.type",
    "page",
    first_of(template("Viewed {{name}} Page"), literal("Loaded a Page")),
    first_of(template("Viewed {{name}} Screen"), literal("Loaded a Screen")),
)
VIEW_NAME_DOC = "Viewed <name> Page/Screen; Loaded a Page/Screen without a name."

#: The view event's properties: ``context.page``, then ``name`` and ``category``, then the call's.
VIEW_PROPERTIES = merge(
    "$.context.page", obj({"name": "$.name", "category": "$.category"}), "$.properties"
)
VIEW_PROPERTIES_DOC = (
    "context.page (url, path, title, referrer, search), name, category and the call's properties."
)
