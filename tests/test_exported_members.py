"""``sdk.__all__`` is the public face: every name exists, imports, is documented, and the list is
unique and sorted the way ``ruff`` sorts ``__all__`` (constants, then classes, then the rest)."""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import pytest

import sdk

PUBLIC = list(sdk.__all__)


def _isort_style(name: str) -> tuple[int, list[Any]]:
    """ruff's RUF022 order: SCREAMING_SNAKE_CASE, then CamelCase, then anything else; within a
    group, a natural sort (digit runs compare as numbers)."""
    if name.isupper():
        group = 0
    elif name[:1].isupper():
        group = 1
    else:
        group = 2
    natural = [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
    return group, natural


def test_all_is_unique() -> None:
    duplicates = sorted({name for name in PUBLIC if PUBLIC.count(name) > 1})
    assert duplicates == []


def test_all_is_sorted() -> None:
    assert sorted(PUBLIC, key=_isort_style) == PUBLIC


def test_all_is_not_trivially_small() -> None:
    for name in ("Track", "parse_batch", "step_key", "route", "Space", "membership_event"):
        assert name in PUBLIC


@pytest.mark.parametrize("name", PUBLIC)
def test_every_name_exists_and_imports(name: str) -> None:
    assert hasattr(sdk, name), f"sdk.__all__ names {name!r} but sdk has no such attribute"
    namespace: dict[str, Any] = {}
    exec(f"from sdk import {name}", namespace)  # the way users import it
    assert namespace[name] is getattr(sdk, name)


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, Any] = {}
    exec("from sdk import *", namespace)
    assert sorted(set(namespace) - {"__builtins__"}) == sorted(PUBLIC)


def _own_doc(obj: Any, name: str) -> str:
    if inspect.isclass(obj):
        doc = obj.__dict__.get("__doc__") or ""
        if doc.startswith(f"{name}("):  # the signature dataclasses make up: not documentation
            return ""
        return doc
    return obj.__doc__ or ""


DOCUMENTED = [
    name
    for name in PUBLIC
    if inspect.isclass(getattr(sdk, name)) or inspect.isfunction(getattr(sdk, name))
]


def test_most_of_the_public_face_is_classes_and_functions() -> None:
    assert len(DOCUMENTED) > len(PUBLIC) // 2


@pytest.mark.parametrize("name", DOCUMENTED)
def test_public_classes_and_functions_have_docstrings(name: str) -> None:
    obj = getattr(sdk, name)
    assert _own_doc(obj, name).strip(), f"sdk.{name} has no docstring"


@pytest.mark.parametrize("name", [n for n in DOCUMENTED if inspect.isclass(getattr(sdk, n))])
def test_public_methods_of_public_classes_have_docstrings(name: str) -> None:
    cls = getattr(sdk, name)
    missing = []
    for attr, value in vars(cls).items():
        if attr.startswith("_"):
            continue
        function = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
        if inspect.isfunction(function) and not (function.__doc__ or "").strip():
            missing.append(attr)
    assert missing == [], f"sdk.{name}: undocumented public methods {missing}"


def test_private_modules_agree_with_the_public_face() -> None:
    # Names re-exported from a private module are the very objects that module defines.
    for module_name in (
        "sdk.spec._messages",
        "sdk.spec._batch",
        "sdk.engage._keys",
        "sdk.engage._personas",
        "sdk.routing._integrations",
        "sdk.engage._spaces",
    ):
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            if name in PUBLIC:
                assert getattr(sdk, name) is getattr(module, name), f"{module_name}.{name}"
