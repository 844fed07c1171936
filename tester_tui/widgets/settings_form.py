"""The destination's settings, as a form generated from its settings model (``sdk.setting_fields``).

Secrets are ``Input(password=True)``; a choice is a ``Select``; a ``bool`` a ``Checkbox``. Every
change is validated with ``sdk.load_settings`` and the one-line error shown under the form; the
values and the verdict go up in :class:`SettingsForm.Changed`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Select, Static

from tester_tui.safe_text import safe
from tester_tui.widgets.field_row import FieldRow, label_width

if TYPE_CHECKING:
    from sdk import Destination, DestinationSettings, SettingField

__all__ = ["SettingsForm"]


def _display_default(field: SettingField) -> str:
    if field.secret:
        return "default: (hidden)" if field.default is not None else ""
    if field.default is None:
        return ""
    return f"default: {field.default}"


def _structured(field: SettingField) -> bool:
    return any(word in field.type for word in ("dict", "list", "tuple", "Mapping", "Sequence"))


class SettingsForm(Vertical):
    """One destination's settings; :meth:`load` switches destination."""

    DEFAULT_CSS = """
    SettingsForm {
        height: auto;
        #settings-error { color: $error; height: auto; }
        #settings-error.-ok { color: $success; }
        #check-credentials { margin-top: 0; }
        #creds-status { height: auto; color: $text-muted; }
        #creds-status.-ok { color: $success; }
        #creds-status.-error { color: $error; }
    }
    """

    class Changed(Message):
        """The settings changed: the raw ``values`` and the validation ``error`` (or None)."""

        def __init__(self, slug: str, values: dict[str, Any], error: str | None) -> None:
            super().__init__()
            self.slug = slug
            self.values = values
            self.error = error

    def __init__(self, *, checks: dict[str, tuple[str, bool]] | None = None, **kwargs: Any) -> None:
        """``checks``: the last credentials check per destination slug (``(text, ok)``),
        shared with the other settings forms of the app so a result outlives the form."""
        super().__init__(**kwargs)
        self.checks: dict[str, tuple[str, bool]] = {} if checks is None else checks
        self.destination: Destination[Any] | None = None
        self._initial: dict[str, Any] = {}
        self._fields: list[SettingField] = []
        self.error: str | None = None

    async def load(self, destination: Destination[Any], values: dict[str, Any]) -> None:
        """Show ``destination``'s settings, pre-filled with ``values``."""
        from sdk import setting_fields

        self.destination = destination
        self._initial = dict(values)
        self._fields = setting_fields(destination.settings)
        await self.recompose()
        self._draw_check()
        self._emit()

    def compose(self) -> ComposeResult:
        if self.destination is None:
            yield Static("Loading destinations…", classes="muted")
            return
        titles = [field.name + ("*" if field.required else "") for field in self._fields]
        width = label_width(titles)  # one column for the form, so the inputs line up
        for field, title in zip(self._fields, titles, strict=True):
            tooltip = field.description or None
            if field.secret:
                tooltip = f"{tooltip or ''} (secret: masked on screen and in records)".strip()
            yield FieldRow(title, self._input_for(field), tooltip=tooltip, width=width)
        yield Static(id="settings-error")
        yield Button("Check credentials  ^t", id="check-credentials", compact=True)
        yield Static(id="creds-status")

    def on_mount(self) -> None:
        self._draw_check()

    def set_check(self, slug: str, text: str, ok: bool) -> None:
        """Keep the result of ``slug``'s credentials check and show it beside its settings."""
        self.checks[slug] = (text, ok)
        self._draw_check()

    def _draw_check(self) -> None:
        found = self.query("#creds-status")
        if not found or self.destination is None:
            return
        status = found.first(Static)
        check = self.checks.get(self.destination.slug)
        if check is None:
            status.update(Text("credentials: not checked yet (ctrl+t)"))
        else:
            text, ok = check
            status.update(Text(("✓ " if ok else "✗ ") + safe(text)))
        status.set_class(check is not None and check[1], "-ok")
        status.set_class(check is not None and not check[1], "-error")

    def _input_for(self, field: SettingField) -> Widget:
        widget_id = f"setting-{field.name}"
        initial = self._initial.get(field.name)
        if field.type == "bool":
            value = bool(field.default) if initial is None else _as_bool(initial)
            return Checkbox("", value=value, id=widget_id, compact=True)
        if field.choices:
            default = str(initial if initial is not None else field.default or "")
            return Select(
                [(choice, choice) for choice in field.choices],
                value=default if default in field.choices else Select.NULL,
                allow_blank=not field.required,
                id=widget_id,
                compact=True,
            )
        if initial is None:
            text = ""
        elif isinstance(initial, (dict, list)):
            text = json.dumps(initial)
        else:
            text = str(initial)
        return Input(
            value=text,
            placeholder=_display_default(field) or field.description[:60],
            password=field.secret,
            id=widget_id,
            compact=True,
        )

    def values(self) -> dict[str, Any]:
        """The form's values, as ``load_settings`` takes them (empty inputs left out)."""
        values: dict[str, Any] = {}
        for field in self._fields:
            widgets = self.query(f"#setting-{field.name}")
            if not widgets:
                continue
            widget = widgets.first()
            if isinstance(widget, Checkbox):
                values[field.name] = widget.value
            elif isinstance(widget, Select):
                if widget.value is not Select.NULL:
                    values[field.name] = widget.value
            elif isinstance(widget, Input):
                text = widget.value
                if not text.strip():
                    continue
                if _structured(field):
                    try:
                        values[field.name] = json.loads(text)
                        continue
                    except ValueError:
                        pass
                values[field.name] = text
        return values

    def settings(self) -> DestinationSettings:
        """The validated settings; raises ``sdk.InvalidSettings`` (one line) when they are not."""
        from sdk import load_settings

        assert self.destination is not None
        # The form is the single source: the environment was read when it was filled in.
        return load_settings(
            self.destination.settings, self.values(), slug=self.destination.slug, environ={}
        )

    def set_value(self, name: str, value: str, *, only_if_empty: bool = True) -> None:
        """Fill one text setting (the sandbox's endpoint once it is running)."""
        widgets = self.query(f"#setting-{name}")
        if widgets and isinstance(widgets.first(), Input):
            widget = widgets.first(Input)
            if not (only_if_empty and widget.value):
                widget.value = value

    def _emit(self) -> None:
        if self.destination is None:
            return
        from sdk import InvalidSettings

        error: str | None = None
        try:
            self.settings()
        except InvalidSettings as exc:
            error = exc.message
        self.error = error
        label = self.query("#settings-error")
        if label:
            status = label.first(Static)
            status.update(f"✗ {error}" if error else "✓ settings are valid")
            status.set_class(error is None, "-ok")
        self.post_message(self.Changed(self.destination.slug, self.values(), error))

    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(Select.Changed)
    def _changed(self, event: Message) -> None:
        event.stop()
        self._emit()


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)
