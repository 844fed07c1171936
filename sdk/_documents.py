"""One reader for every JSON or YAML document destkit reads from outside.

``--payload``, ``--settings-file``, journey files, ``--user`` profiles, message files and map
settings given as text all go through :func:`read_document` (a file) or :func:`parse_document`
(text), with the same limits and one wording of errors:

- a file must be a regular file (a FIFO, a device such as ``/dev/zero``, a directory are refused
  before reading, so nothing blocks) of at most :data:`MAX_DOCUMENT_BYTES`;
- UTF-8 text;
- at most :data:`MAX_DEPTH` levels of nesting;
- numbers of at most :data:`MAX_NUMBER_CHARS` characters, finite (no ``NaN``/``Infinity``);
- strings that are text (no lone surrogate such as ``"\\ud800"``);
- YAML: at most :data:`MAX_YAML_ALIASES` aliases and :data:`MAX_YAML_NODES` values once every
  alias is expanded ("billion laughs"), checked on the node graph, before anything walks the
  document or builds Python objects from it.

A problem is one line: ``error_class(what, "<file> <rule>")``.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import yaml

from sdk._errors import InputError
from sdk._terminal import terminal_safe

__all__ = [
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_NUMBER_CHARS",
    "MAX_YAML_ALIASES",
    "MAX_YAML_NODES",
    "DocumentProblem",
    "check_value",
    "parse_document",
    "read_document",
]

#: The largest document read from a file (1 MiB); a message is at most 32 KB as sent.
MAX_DOCUMENT_BYTES = 1024 * 1024
#: Levels of nesting (objects and lists) a document may have.
MAX_DEPTH = 64
#: Characters in one number (a 4,300-digit integer is Python's own conversion limit).
MAX_NUMBER_CHARS = 100
_TOO_DEEP = f"nests too deeply (over {MAX_DEPTH} levels)"
#: Aliases (``*name``) a YAML document may use.
MAX_YAML_ALIASES = 100
#: Values (scalars, lists, mappings) a YAML document may hold with every alias expanded.
MAX_YAML_NODES = 100_000

Format = Literal["json", "yaml", "auto"]


class DocumentProblem(ValueError):
    """What is wrong with a document: ``where`` (a path in it, or ``""``) and the rule."""

    def __init__(self, where: str, rule: str) -> None:
        self.where = where
        self.rule = rule
        super().__init__(f"{where} {rule}" if where else rule)

    def sentence(self, name: str) -> str:
        """The problem as the rest of a line about the document called ``name``."""
        if self.where:
            return f"{name} at {self.where} {self.rule}"
        return f"{name} {self.rule}"


class _Unreadable(DocumentProblem):
    """The file cannot be opened or read (missing, no permission...)."""

    def sentence(self, name: str) -> str:
        return f"cannot read {name}: {self.rule}"


# -- reading bytes -----------------------------------------------------------------------------


def _read_bytes(file: Path, limit: int) -> bytes:
    """At most ``limit`` bytes of a regular file; never blocks on a FIFO or a device."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(file, flags)
    except OSError as exc:
        raise _Unreadable("", f"{exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "a FIFO or device"
            raise _Unreadable("", f"it is {kind}, not a regular file")
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(65536, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise DocumentProblem("", f"is larger than {limit // 1024} KB (the limit for a file)")
        return b"".join(chunks)
    except OSError as exc:
        raise _Unreadable("", f"{exc.strerror or exc}") from None
    finally:
        os.close(fd)


# -- checking values ---------------------------------------------------------------------------


def _join(where: str, key: object) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{where}[{key}]"
    text = escape_key(key)
    return f"{where}.{text}" if where else text


def escape_key(key: object) -> str:
    """A mapping key as a path part: short, no control character, no lone surrogate."""
    text = str(key)
    if len(text) > 60:
        text = text[:57] + "..."
    return terminal_safe(text)


def _is_text(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_NUMBER_LIMIT = 10**MAX_NUMBER_CHARS


def check_value(
    value: Any,
    where: str = "",
    depth: int = 0,
    *,
    max_depth: int | None = MAX_DEPTH,
    long_numbers: bool = False,
) -> None:
    """Refuse what JSON cannot carry or what is too big, naming where it is in the value:
    a non-finite float, a number over :data:`MAX_NUMBER_CHARS` characters, a string or key with
    a lone surrogate, nesting over ``max_depth`` levels (``None``: no limit). With
    ``long_numbers`` an integer of any length JSON can write is let through.
    Raises :class:`DocumentProblem`."""
    if isinstance(value, str):
        if not _is_text(value):
            raise DocumentProblem(where, "holds a lone surrogate (such as \\ud800): not text")
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise DocumentProblem(where, "is NaN or Infinity, which JSON cannot carry")
    elif isinstance(value, int):
        if not long_numbers and not -_NUMBER_LIMIT < value < _NUMBER_LIMIT:
            raise DocumentProblem(where, f"is a number longer than {MAX_NUMBER_CHARS} digits")
    elif isinstance(value, dict):
        if max_depth is not None and depth >= max_depth:
            raise DocumentProblem(where, f"nests too deeply (over {max_depth} levels)")
        for key, item in value.items():
            if isinstance(key, str) and not _is_text(key):
                raise DocumentProblem(
                    where, "has a key with a lone surrogate (such as \\ud800), which is not text"
                )
            check_value(
                item, _join(where, key), depth + 1, max_depth=max_depth, long_numbers=long_numbers
            )
    elif isinstance(value, (list, tuple)):
        if max_depth is not None and depth >= max_depth:
            raise DocumentProblem(where, f"nests too deeply (over {max_depth} levels)")
        for index, item in enumerate(value):
            check_value(
                item, _join(where, index), depth + 1, max_depth=max_depth, long_numbers=long_numbers
            )


# -- JSON --------------------------------------------------------------------------------------


def _number(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        if len(text) > MAX_NUMBER_CHARS:
            raise DocumentProblem("", f"holds a number longer than {MAX_NUMBER_CHARS} characters")
        return convert(text)

    return parse


def _no_constant(name: str) -> Any:
    raise DocumentProblem("", f"holds {name}, which JSON cannot carry")


_parse_int = _number(int)
_parse_float = _number(float)


def _loads_json(text: str) -> Any:
    try:
        return json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_no_constant,
        )
    except json.JSONDecodeError as exc:
        raise DocumentProblem(
            "", f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except RecursionError:
        raise DocumentProblem("", _TOO_DEEP) from None


# -- YAML --------------------------------------------------------------------------------------


class _BoundedLoader(yaml.SafeLoader):
    """A safe loader that counts aliases and nodes while it composes, so that a document
    cannot grow without end before it is refused."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0
        self.nodes = 0
        self.depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        # The composer recurses once a level: refuse deep nesting here, long before Python's
        # recursion limit (and cheaply: unwinding a RecursionError from a deep stack is slow).
        if self.depth >= MAX_DEPTH:
            raise DocumentProblem("", f"nests too deeply (over {MAX_DEPTH} levels)")
        self.depth += 1
        try:
            return self._compose_counted(parent, index)
        finally:
            self.depth -= 1

    def _compose_counted(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_YAML_ALIASES:
                raise DocumentProblem(
                    "", f"uses more than {MAX_YAML_ALIASES} YAML aliases (the limit)"
                )
        else:
            self.nodes += 1
            if self.nodes > MAX_YAML_NODES:
                raise DocumentProblem("", f"holds more than {MAX_YAML_NODES} values (the limit)")
        return super().compose_node(parent, index)

    def construct_yaml_int(self, node: Any) -> Any:
        if len(str(node.value)) > MAX_NUMBER_CHARS:
            raise DocumentProblem(
                _line(node), f"holds a number longer than {MAX_NUMBER_CHARS} characters"
            )
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node: Any) -> Any:
        if len(str(node.value)) > MAX_NUMBER_CHARS:
            raise DocumentProblem(
                _line(node), f"holds a number longer than {MAX_NUMBER_CHARS} characters"
            )
        return super().construct_yaml_float(node)


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)
_BoundedLoader.add_constructor("tag:yaml.org,2002:float", _BoundedLoader.construct_yaml_float)


def _line(node: Any) -> str:
    mark = getattr(node, "start_mark", None)
    return f"line {mark.line + 1}" if mark is not None else ""


def _expanded_size(root: yaml.Node) -> None:
    """Refuse a node graph whose aliases expand past :data:`MAX_YAML_NODES` values, nest past
    :data:`MAX_DEPTH`, or refer to themselves; shared nodes are measured once."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        known = sizes.get(key)
        if known is not None:
            return known
        if isinstance(node, yaml.ScalarNode):
            return 1
        if depth >= MAX_DEPTH:
            raise DocumentProblem(_line(node), f"nests too deeply (over {MAX_DEPTH} levels)")
        if key in open_nodes:
            raise DocumentProblem(_line(node), "refers to itself through a YAML alias")
        open_nodes.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += size(item, depth + 1)
        elif isinstance(node, yaml.MappingNode):
            for name, item in node.value:
                total += size(name, depth + 1) + size(item, depth + 1)
        if total > MAX_YAML_NODES:
            raise DocumentProblem(
                "",
                f"expands to more than {MAX_YAML_NODES} values through YAML aliases (the limit)",
            )
        open_nodes.discard(key)
        sizes[key] = total
        return total

    size(root, 0)


def _loads_yaml(text: str) -> Any:
    loader: _BoundedLoader | None = None
    try:
        loader = _BoundedLoader(text)  # its reader refuses control characters at once
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or "syntax error"
        raise DocumentProblem("", f"is not valid YAML ({problem}{where})") from None
    except RecursionError:
        raise DocumentProblem("", _TOO_DEEP) from None
    except (ValueError, OverflowError, TypeError) as exc:
        if isinstance(exc, DocumentProblem):
            raise
        # A scalar the YAML types refuse (a timestamp with month 13...).
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DocumentProblem("", f"is not valid YAML (a value: {first})") from None
    finally:
        if loader is not None:
            loader.dispose()


# -- the readers -------------------------------------------------------------------------------


def parse_document(text: str | bytes, fmt: Literal["json", "yaml"] = "json") -> Any:
    """Parse and check a JSON or YAML document given as text; :class:`DocumentProblem` says
    what is wrong (the caller words it for its field)."""
    if isinstance(text, (bytes, bytearray)):
        if len(text) > MAX_DOCUMENT_BYTES:
            raise DocumentProblem("", f"is larger than {MAX_DOCUMENT_BYTES // 1024} KB")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise DocumentProblem("", "is not UTF-8 text") from None
    elif len(text) > MAX_DOCUMENT_BYTES:
        raise DocumentProblem("", f"is larger than {MAX_DOCUMENT_BYTES // 1024} KB")
    value = _loads_json(text) if fmt == "json" else _loads_yaml(text)
    try:
        check_value(value)
    except RecursionError:
        raise DocumentProblem("", _TOO_DEEP) from None
    return value


def _format_of(file: Path) -> Literal["json", "yaml"]:
    return "json" if file.suffix.lower() == ".json" else "yaml"


def read_document(
    path: str | Path,
    what: str,
    error_class: type[InputError],
    fmt: Format = "auto",
) -> Any:
    """Read, parse and check the JSON or YAML file at ``path`` (``auto``: ``.json`` is JSON,
    anything else YAML). A problem is ``error_class(what, "<path> <rule>")``: one line."""
    file = Path(path)
    try:
        data = _read_bytes(file, MAX_DOCUMENT_BYTES)
        kind: Literal["json", "yaml"] = fmt if fmt != "auto" else _format_of(file)
        return parse_document(data, kind)
    except DocumentProblem as problem:
        raise error_class(what, problem.sentence(str(file))) from None
