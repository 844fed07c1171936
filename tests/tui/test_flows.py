"""Every flow of the event tester, driven with ``App.run_test()`` and Pilot against the real
in-process sandbox (loopback HTTP), with fast retries injected."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx
from textual.widgets import Button, Checkbox, Input, Select, TextArea

import connectors.braze
from sdk import Delivery
from sdk.testing._sandbox import Faults
from tester_tui.app import DestkitTester
from tester_tui.screens.help import HelpScreen
from tester_tui.screens.history import HistoryScreen
from tester_tui.screens.save import SavePathScreen
from tests.tui.conftest import (
    USER,
    make_app,
    notifications,
    ready,
    screen_text,
    send_and_wait,
    until,
)

SIZE = (120, 40)
SECRET = "s3cr3t-sandbox-key-do-not-show"


async def test_starts_on_the_sandbox_and_delivers_200_ok() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        assert app.destination is not None and app.destination.slug == "sandbox"
        assert app.sandbox is not None
        endpoint = app.query_one("#setting-endpoint", Input).value
        assert endpoint == app.sandbox.url
        await send_and_wait(app, pilot)
        lifecycle = app.lifecycle
        assert lifecycle is not None and lifecycle.delivered
        assert lifecycle.last_response is not None
        assert lifecycle.last_response.status_line == "200 OK"
        text = screen_text(app)
        assert "200 OK" in text
        assert "delivered" in text
        assert "POST" in text and "/v1/event" in text  # the request tab
        app.lifecycle_view.show_tab("response")
        await pilot.pause()
        assert "body (json)" in screen_text(app)  # the full response
        assert len(app.sandbox.requests) == 1
        sandbox = app.sandbox
    assert app.sandbox is None  # stopped on exit
    del sandbox


async def test_503_503_200_shows_three_attempts_and_the_waits() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        assert app.sandbox is not None
        app.sandbox.set_faults(Faults(sequence=[503, 503, 200]))
        await send_and_wait(app, pilot)
        lifecycle = app.lifecycle
        assert lifecycle is not None and lifecycle.delivered
        statuses = [a.last_response.status for a in lifecycle.attempts if a.last_response]
        assert statuses == [503, 503, 200]
        text = screen_text(app)
        for number in ("#1", "#2", "#3"):
            assert number in text
        assert text.count("503 Service Unavailable") >= 2
        assert "retry in" in text
        assert "200 OK" in text


async def test_401_shows_every_error_detail() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        assert app.sandbox is not None
        app.sandbox.set_faults(Faults(status=401))
        await send_and_wait(app, pilot)
        lifecycle = app.lifecycle
        assert lifecycle is not None and not lifecycle.delivered
        assert lifecycle.error is not None and lifecycle.error.status == 401
        text = screen_text(app)
        assert "401 Unauthorized" in text
        assert "failed: permanent" in text
        assert "InvalidAuthentication" in text
        assert "give up" in text
        assert "status 401" in text and "retryable no" in text
        assert len(lifecycle.attempts) == 1


async def test_invalid_json_is_refused() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        area = app.query_one("#payload", TextArea)
        area.load_text('{"type": "track", "userId": "u1",')
        await pilot.pause()
        assert app.query_one("#send", Button).disabled
        assert app.editor.error is not None and "is not valid JSON" in app.editor.error
        assert "message: is not valid JSON" in screen_text(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.history == []
        assert app.sandbox is not None and app.sandbox.requests == []
        # Fixed by hand: Send comes back.
        area.load_text('{"type": "track", "event": "Fixed", "userId": "u1"}')
        await pilot.pause()
        assert not app.query_one("#send", Button).disabled
        await send_and_wait(app, pilot)
        assert app.lifecycle is not None and app.lifecycle.delivered
        # Valid JSON but not a valid message: the field and the rule.
        await pilot.press("f3")  # back to the payload (a send shows the lifecycle)
        area.load_text('{"type": "track", "event": "x"}')
        await pilot.pause()
        assert app.editor.error == "userId: one of userId or anonymousId is required"
        assert "userId: one of userId or anonymousId is required" in screen_text(app)
        assert app.query_one("#send", Button).disabled


async def test_a_secret_setting_never_appears_on_screen() -> None:
    app = make_app(environ={"DESTKIT_SANDBOX_API_KEY": SECRET})
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        secret_input = app.query_one("#setting-api_key", Input)
        assert secret_input.password and secret_input.value == SECRET
        assert SECRET not in app.export_screenshot()
        await send_and_wait(app, pilot)
        assert app.lifecycle is not None and app.lifecycle.delivered
        for tab in ("request", "response", "event", "record"):
            app.lifecycle_view.show_tab(tab)
            await pilot.pause()
            assert SECRET not in app.export_screenshot(), tab
        assert "Bearer [REDACTED]" in app.lifecycle.to_json()
        # The sandbox did receive the real key: only the screen and the record are masked.
        assert app.sandbox is not None
        assert SECRET in json.dumps(app.sandbox.requests[-1].to_dict())


async def test_route_off_is_filtered_at_destination() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await pilot.press("ctrl+b")
        await until(pilot, lambda: '"Sandbox"' not in app.editor.text)
        assert json.loads(app.editor.text)["integrations"] == {"All": False}
        await send_and_wait(app, pilot)
        lifecycle = app.lifecycle
        assert lifecycle is not None and lifecycle.outcome.value == "filtered"
        text = screen_text(app)
        assert "filtered at destination" in text
        assert "integrations" in text  # the reason
        assert app.sandbox is not None and app.sandbox.requests == []


async def test_history_save_and_curl(tmp_path: Path) -> None:
    app = make_app(environ={"DESTKIT_SANDBOX_API_KEY": SECRET})
    target = tmp_path / "saved.json"
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await pilot.press("ctrl+e")  # nothing to save yet: a warning, no screen
        await pilot.pause()
        assert not isinstance(app.screen, SavePathScreen)
        await send_and_wait(app, pilot)
        assert app.sandbox is not None
        app.sandbox.set_faults(Faults(status=401))
        await send_and_wait(app, pilot)
        assert [lc.delivered for lc in app.history] == [True, False]
        assert app.history[0].event["messageId"] != app.history[1].event["messageId"]

        # History: reopen the first send.
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        assert "200 OK delivered" in screen_text(app)
        await pilot.press("up", "enter")
        await until(pilot, lambda: not isinstance(app.screen, HistoryScreen))
        assert app.lifecycle is app.history[0]
        assert "200 OK" in screen_text(app)

        # Save the reopened lifecycle.
        await pilot.press("ctrl+e")
        await until(pilot, lambda: isinstance(app.screen, SavePathScreen))
        app.screen.query_one("#save-path", Input).value = str(target)
        await pilot.press("enter")
        await until(pilot, target.exists)

        # Copy its request as curl: masked, and unmasked only when asked.
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert app.clipboard.startswith("curl -X POST ")
        assert "Bearer [REDACTED]" in app.clipboard
        assert SECRET not in app.clipboard
        app.action_copy_curl(unmask=True)  # asks first (tests/tui/test_first_user.py)
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: f"Bearer {SECRET}" in app.clipboard)
    record = json.loads(target.read_text())
    assert record["schema"] == "destkit.lifecycle/1"
    assert record["outcome"] == "delivered"
    assert SECRET not in target.read_text()


async def test_check_credentials() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await pilot.press("ctrl+t")
        await until(pilot, lambda: bool(app.history))
        lifecycle = app.history[-1]
        assert lifecycle.action == "test_authentication" and lifecycle.delivered
        assert "/v1/auth" in screen_text(app)


async def test_help_screen_and_command_palette() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = screen_text(app)
        for keys in ("ctrl+s", "ctrl+r", "ctrl+t", "ctrl+e", "ctrl+y", "ctrl+o", "ctrl+p", "f1"):
            assert keys in text, keys
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen))

        titles = [command.title for command in app.get_system_commands(app.screen)]
        for wanted in ("Send", "Creds", "Save", "Curl", "History", "Help", "User"):
            assert any(title.startswith(wanted) for title in titles), wanted
        assert any("UNMASKED" in title for title in titles)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"history")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen))


async def test_narrow_80x24_shows_one_pane_at_a_time() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        assert app.screen.has_class("-narrow")
        panes = {name: app.query_one(f"#pane-{name}") for name in ("setup", "payload", "lifecycle")}
        assert [name for name, pane in panes.items() if pane.display] == ["setup"]
        text = screen_text(app)
        assert "Setup" in text and "Payload" in text and "Lifecycle" in text  # the tabs
        await pilot.press("f3")
        await pilot.pause()
        assert [name for name, pane in panes.items() if pane.display] == ["payload"]
        await send_and_wait(app, pilot)
        assert [name for name, pane in panes.items() if pane.display] == ["lifecycle"]
        assert "200 OK" in screen_text(app)


async def test_wide_layout_shows_three_columns() -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(app, pilot)
        assert app.screen.has_class("-wide")
        regions = [app.query_one(f"#pane-{n}").region for n in ("setup", "payload", "lifecycle")]
        assert all(region.height > 30 for region in regions)
        assert regions[0].right <= regions[1].x and regions[1].right <= regions[2].x


async def test_invalid_setting_is_shown_inline_and_refuses_send() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        app.query_one("#setting-timeout", Input).value = "-3"
        await until(pilot, lambda: app.settings_error is not None)
        assert app.settings_error is not None and app.settings_error.startswith("timeout:")
        assert app.settings_error in screen_text(app)
        assert app.query_one("#send", Button).disabled
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.history == []


async def test_settings_file_and_destination_preselect(tmp_path: Path) -> None:
    settings = tmp_path / "sandbox.yaml"
    settings.write_text("timeout: 7.5\n")
    app = make_app(destination="Sandbox", settings_file=str(settings))
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        assert app.query_one("#setting-timeout", Input).value == "7.5"
        assert app.query_one("#destination", Select).value == "sandbox"


async def test_a_settings_files_actions_apply_to_the_tester_sends(tmp_path: Path) -> None:
    # As for destkit send: a subscription override filters, and the lifecycle says why.
    settings = tmp_path / "sandbox.yaml"
    settings.write_text("actions:\n  send_event:\n    subscribe: 'type = \"identify\"'\n")
    app = make_app(destination="Sandbox", settings_file=str(settings))
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await send_and_wait(app, pilot)
        lifecycle = app.lifecycle
        assert lifecycle is not None and lifecycle.outcome.value == "filtered"
        assert "subscribe" in str(lifecycle.routing)
        assert app.sandbox is not None and app.sandbox.requests == []


async def test_a_broken_action_in_the_settings_file_is_one_line(tmp_path: Path) -> None:
    settings = tmp_path / "sandbox.yaml"
    settings.write_text("actions:\n  no_such_action: {subscribe: 'type = \"track\"'}\n")
    app = make_app(destination="Sandbox", settings_file=str(settings))
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        shown = [m for m in notifications(app) if "no_such_action" in m]
        assert shown and all("\n" not in m for m in shown)


async def test_unknown_destination_says_so_and_falls_back() -> None:
    app = make_app(destination="no-such-thing")
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        assert app.destination is not None and app.destination.slug == "sandbox"
        assert any("no connector named" in m for m in notifications(app))


async def test_every_event_type_builds_a_valid_payload() -> None:
    from sdk.engage._testevents import TestEventType

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        select = app.query_one("#event-type", Select)
        for kind in TestEventType:
            select.value = kind.value
            await pilot.pause()
            if kind.value in ("audience-exited", "list-remove"):
                # Built, and refused before Send: the form names a journey step (add-only).
                await until(pilot, lambda: "add-only" in (app.editor.error or ""))
            else:
                await until(pilot, lambda: app.editor.error is None)
            payload = json.loads(app.editor.text)
            assert payload["userId"] == USER, kind


async def test_step_key_user_id_and_hand_edits() -> None:
    from sdk import Space

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        area = app.query_one("#payload", TextArea)
        app.query_one("#journey", Input).value = "Winback"
        app.query_one("#step", Input).value = "Sent coupon"
        await pilot.pause()
        expected = Space("spa_destkit_test").step("Winback", "Sent coupon").key
        assert expected in screen_text(app)  # the key, live
        await until(pilot, lambda: expected in area.text)

        await pilot.press("ctrl+r")
        await until(pilot, lambda: app.event_form.user_id != USER)
        assert app.event_form.user_id.startswith("test-user-")
        await until(pilot, lambda: app.event_form.user_id in area.text)

        # Hand edits are kept when the form changes, until ctrl+g rebuilds.
        edited = json.loads(area.text)
        edited["event"] = "Edited By Hand"
        area.load_text(json.dumps(edited, indent=2))
        await pilot.pause()
        app.query_one("#journey", Input).value = "Another Journey"
        await pilot.pause()
        assert "Edited By Hand" in area.text
        assert "Edited by hand" in screen_text(app)  # the banner
        await pilot.press("ctrl+g")
        await until(pilot, lambda: "another_journey" in area.text)
        assert "Edited By Hand" not in area.text


def test_run_tester_is_what_the_cli_calls() -> None:
    import inspect

    from tester_tui.app import run_tester

    parameters = inspect.signature(run_tester).parameters
    assert list(parameters) == ["destination", "settings_file", "journey_file"]
    assert DestkitTester.__init__.__kwdefaults__["sandbox"] is True


async def test_a_slow_send_does_not_freeze_the_interface() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        assert app.sandbox is not None
        # Long enough that a loaded machine still sees the request in flight below.
        app.sandbox.set_faults(Faults(latency=3.0))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.lifecycle is not None and bool(app.lifecycle.attempts))
        assert app.sending
        assert "SENDING" in screen_text(app)
        assert app.query_one("#send", Button).disabled
        await pilot.press("f1")  # the interface answers while the request is in flight
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        await until(pilot, lambda: bool(app.history))
        assert app.history[-1].delivered


async def test_the_settings_form_follows_the_settings_model(monkeypatch: object) -> None:
    from typing import Literal

    from pydantic import Field, SecretStr

    from sdk import Destination, DestinationKind, DestinationSettings
    from sdk.connector._registry import _registered

    class AcmeSettings(DestinationSettings):
        api_key: SecretStr = Field(description="Acme REST API key")
        region: Literal["us", "eu"] = "us"
        sandbox_mode: bool = False

    acme = Destination(
        name="Acme Test",
        slug="acme_tui_test",
        kind=DestinationKind.EVENT,
        settings=AcmeSettings,
        actions=[],
        base_url="https://api.acme.test",
    )
    monkeypatch.setitem(_registered, acme.slug, acme)  # type: ignore[attr-defined]
    app = make_app(environ={"DESTKIT_ACME_TUI_TEST_REGION": "eu"})
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        app.query_one("#destination", Select).value = acme.slug
        await until(pilot, lambda: app.settings_form.destination is acme)
        api_key = app.query_one("#setting-api_key", Input)
        assert api_key.password
        assert app.query_one("#setting-region", Select).value == "eu"  # from the environment
        assert app.query_one("#setting-sandbox_mode", Checkbox).value is False
        assert app.settings_error == "api_key: is required"
        assert "api_key: is required" in screen_text(app)
        assert app.query_one("#send", Button).disabled
        assert '"Acme Test": true' in app.editor.text  # the payload follows the destination
        api_key.value = "acme-secret-value"
        await until(pilot, lambda: app.settings_error is None)
        assert "acme-secret-value" not in app.export_screenshot()
        # Back to the sandbox: its settings were kept.
        app.query_one("#destination", Select).value = "sandbox"
        await until(pilot, lambda: app.settings_form.destination is not acme)
        assert app.query_one("#setting-endpoint", Input).value == app.sandbox_url


WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


async def test_unmasked_curl_of_a_signed_webhook_never_puts_the_secret_in_a_header() -> None:
    app = make_app(
        destination="webhook", environ={"DESTKIT_WEBHOOK_SIGNING_SECRET": WEBHOOK_SECRET}
    )
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        assert app.sandbox is not None
        app.query_one("#setting-url", Input).value = f"{app.sandbox.url}/hooks/signed"
        await until(pilot, lambda: app.send_blocker() is None)
        await send_and_wait(app, pilot)
        assert app.lifecycle is not None and app.lifecycle.delivered
        sent = app.sandbox.requests[-1]
        assert "webhook-signature" in {name.lower() for name in sent.headers}
        app.copy_to_clipboard("")
        app.action_copy_curl(unmask=True)
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: bool(app.clipboard))
        text = app.clipboard
        assert WEBHOOK_SECRET not in text
        assert "webhook-signature: [REDACTED]" in text
        assert text.splitlines()[0].startswith("# webhook-signature stays [REDACTED]")
        assert "computed per request" in text.splitlines()[0]
        assert "user-agent: destkit-webhook/1" in text.lower()  # a real header is unmasked


async def test_the_tester_keys_are_off_while_a_dialog_is_open() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await send_and_wait(app, pilot)  # a lifecycle, so save and curl would do something
        history, requests = len(app.history), len(app.sandbox.requests)  # type: ignore[union-attr]
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("ctrl+o", "ctrl+o", "ctrl+e", "ctrl+n", "ctrl+s", "ctrl+t", "ctrl+y")
        await pilot.pause(0.2)
        assert [type(screen) for screen in app.screen_stack[1:]] == [HelpScreen]
        assert len(app.history) == history  # ctrl+s and ctrl+t did not send
        assert len(app.sandbox.requests) == requests  # type: ignore[union-attr]
        assert not any("copied" in message for message in notifications(app))
        await pilot.press("f1")  # the help's own key closes it again
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen))

        await pilot.press("ctrl+o")  # and from the history: no help, no save on top
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await pilot.press("f1", "ctrl+e", "ctrl+s")
        await pilot.pause(0.2)
        assert [type(screen) for screen in app.screen_stack[1:]] == [HistoryScreen]
        assert len(app.history) == history
        await pilot.press("escape")
        await until(pilot, lambda: len(app.screen_stack) == 1)
        await send_and_wait(app, pilot)  # back on the tester: its keys work again


async def test_the_menus_have_no_loading_entry_once_loaded() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        for menu_id in ("#destination", "#event-type"):
            menu = app.query_one(menu_id, Select)
            assert all(value is not Select.NULL for _, value in menu._options), menu_id
            menu.focus()
            await pilot.press("enter")  # open it
            await until(pilot, lambda m=menu: m.expanded)  # type: ignore[misc]
            assert "Loading…" not in screen_text(app)
            await pilot.press("home", "enter")  # the first line of the menu
            await until(pilot, lambda m=menu: not m.expanded)  # type: ignore[misc]
            assert menu.value is not Select.NULL, menu_id
        # What the menus show is what the app uses.
        await until(pilot, lambda: app.destination is not None)
        assert app.destination is not None
        assert app.picker.value == app.destination.slug
        assert app.event_form.event_type == app.query_one("#event-type", Select).value
        await until(pilot, lambda: app.settings_form.destination is app.destination)


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (160, 45)])
async def test_the_pane_keys_move_the_focus_into_the_pane(size: tuple[int, int]) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await ready(app, pilot)
        assert app.focused is app.query_one("#destination")
        await pilot.press("f4")  # nothing sent yet: nothing to focus there, nor a hidden field
        await pilot.pause()
        assert app.focused is None or app.focused.region.area > 0
        await send_and_wait(app, pilot)
        for key, pane in (
            ("f3", "payload"),
            ("f4", "lifecycle"),
            ("f2", "setup"),
            ("f3", "payload"),
        ):
            await pilot.press(key)
            await pilot.pause()
            focused = app.focused
            assert focused is not None, key
            assert app.query_one(f"#pane-{pane}") in focused.ancestors_with_self, (key, focused)
        assert app.focused is app.query_one("#payload")
        await pilot.press("f2")
        await pilot.pause()
        assert app.focused is app.query_one("#destination")


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
async def test_long_setting_names_stay_on_one_line(size: tuple[int, int]) -> None:
    from textual.widgets import Label

    app = make_app(destination="webhook")
    async with app.run_test(size=size) as pilot:
        await ready(app, pilot)
        text = screen_text(app)
        assert "signing_secret " in text and "batch_size " in text
        labels = [
            label for label in app.settings_form.query(Label) if "field-label" in label.classes
        ]
        assert labels and all(label.region.height == 1 for label in labels)
        assert len({label.region.width for label in labels}) == 1  # the inputs line up
        # A name longer than the label column ends in an ellipsis; the tooltip has it whole.
        app.picker.value = "google_ads_customer_match"
        await until(pilot, lambda: app.query("#setting-consent_ad_personalization"))
        label = next(
            label
            for label in app.settings_form.query(Label)
            if str(label.content).startswith("consent_ad_personalization")
        )
        assert label.region.height == 1
        assert str(label.tooltip).startswith("consent_ad_personalization: ")


async def test_the_event_type_menu_opens_inside_the_pane_at_80x24() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        menu = app.query_one("#event-type", Select)
        menu.focus()
        await pilot.press("enter")
        await until(pilot, lambda: menu.expanded)
        await pilot.pause()
        from textual.widgets._select import SelectOverlay

        overlay = menu.query_one(SelectOverlay).region
        pane = app.query_one("#pane-setup").region
        assert pane.y < overlay.y and overlay.bottom < pane.bottom  # inside the border
        assert "alias" in screen_text(app)  # every type is shown (it opened upward)
        footer = screen_text(app).splitlines()[-1]
        assert "esc Dismiss" in footer


async def test_the_attempt_rows_are_padded_like_the_rest_of_the_lifecycle() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await send_and_wait(app, pilot)
        rows = [line for line in screen_text(app).splitlines() if "#1 " in line]
        assert rows and rows[0].startswith("│ #1 "), rows


async def test_saving_over_an_existing_file_asks_first(tmp_path: Path) -> None:
    target = tmp_path / "saved.json"
    target.write_text("keep me\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await send_and_wait(app, pilot)
        app.action_save_lifecycle(str(target))  # a path given: refused, said so
        await pilot.pause()
        assert target.read_text() == "keep me\n"
        assert any("already exists" in message for message in notifications(app))
        await pilot.press("ctrl+e")
        await until(pilot, lambda: isinstance(app.screen, SavePathScreen))
        app.screen.query_one("#save-path", Input).value = str(target)
        await pilot.press("enter")
        await until(pilot, lambda: "already exists" in screen_text(app))
        assert isinstance(app.screen, SavePathScreen) and target.read_text() == "keep me\n"
        await pilot.press("escape")  # cancelled: still kept
        await until(pilot, lambda: not isinstance(app.screen, SavePathScreen))
        assert target.read_text() == "keep me\n"
        await pilot.press("ctrl+e")
        await until(pilot, lambda: isinstance(app.screen, SavePathScreen))
        app.screen.query_one("#save-path", Input).value = str(target)
        await pilot.press("enter")
        await until(pilot, lambda: "already exists" in screen_text(app))
        await pilot.press("enter")  # the same path again: overwrite
        await until(pilot, lambda: target.read_text().startswith("{"))
        assert json.loads(target.read_text())["schema"] == "destkit.lifecycle/1"


async def test_a_delivered_event_with_notes_shows_them_in_the_lifecycle() -> None:
    # A real Braze lifecycle (respx stands in for Braze) whose gender trait was left out.
    with respx.mock(assert_all_called=True) as mock:
        mock.post("https://rest.iad-01.braze.com/users/track").mock(
            return_value=httpx.Response(201, json={"message": "success"})
        )
        with Delivery(connectors.braze.destination, {"api_key": SECRET}) as delivery:
            lifecycle = delivery.send(
                {"type": "identify", "userId": "u1", "traits": {"gender": "robot"}}
            )
    assert lifecycle.delivered and lifecycle.notes
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        assert "Notes" not in screen_text(app)  # nothing to say before a noted event
        app.history.append(lifecycle)
        app.reopen(0)
        await pilot.pause()
        text = screen_text(app)
        assert "Notes" in text
        assert "trait gender: not a gender Braze takes" in text
        assert SECRET not in text
