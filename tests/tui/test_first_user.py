"""What a new user tripped on in the event tester (issue 11), each seen on screen, driven with
``App.run_test()`` and Pilot against the real in-process sandbox (loopback HTTP)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import Input, OptionList, Select, Static

from tester_tui.screens.confirm import ConfirmScreen
from tester_tui.screens.help import HelpScreen
from tester_tui.screens.jump import JumpScreen
from tester_tui.screens.save import SavePathScreen
from tester_tui.widgets.journey_tree import JourneyTree
from tests.tui.conftest import make_app, notifications, ready, screen_text, send_and_wait, until
from tests.tui.test_journey_mode import EXAMPLE, journey_app, journey_screen, preview

SIZE = (120, 40)
SECRET = "s3cr3t-palette-key-do-not-copy"


async def test_the_palette_offers_the_masked_curl_first_and_unmasked_asks_to_confirm() -> None:
    app = make_app(environ={"DESTKIT_SANDBOX_API_KEY": SECRET})
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await send_and_wait(app, pilot)
        app.copy_to_clipboard("")
        titles = [command.title for command in app.get_system_commands(app.screen)]
        curl = [title for title in titles if "curl" in title.lower()]
        assert "UNMASKED" not in curl[0] and "UNMASKED" in curl[-1]
        # ctrl+p: the entry highlighted first is not the unmasked copy.
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.pause(0.3)
        commands = app.screen.query_one(CommandList)
        assert commands.highlighted == 0
        assert "UNMASKED" not in str(commands.get_option_at_index(0).prompt)
        # "curl", enter: the first match is the masked copy.
        await pilot.press(*"curl")
        await pilot.pause(0.3)
        assert "UNMASKED" not in str(commands.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, CommandPalette))
        await pilot.pause()
        assert app.clipboard.startswith("curl ")
        assert SECRET not in app.clipboard
        # The unmasked copy asks first; "no" copies nothing.
        app.copy_to_clipboard("")
        app.action_copy_curl(unmask=True)
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "UNMASKED" in screen_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert app.clipboard == ""
        app.action_copy_curl(unmask=True)
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: SECRET in app.clipboard)


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (160, 40)])
async def test_journey_mode_opens_with_the_focus_in_the_step_tree(size: tuple[int, int]) -> None:
    app = make_app(journey_file=str(EXAMPLE))
    async with app.run_test(size=size) as pilot:
        screen = await journey_screen(app, pilot)
        await pilot.pause()
        assert isinstance(app.focused, JourneyTree)
        before = screen.journey_name
        await pilot.press("down")
        await pilot.pause()
        assert screen.journey_name == before and not screen.stale


async def test_after_f7_the_detail_follows_the_highlighted_delivery(tmp_path: Path) -> None:
    app = journey_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await journey_screen(app, pilot)
        await preview(screen, pilot)
        screen.set_focus_step(("Welcome", "steps[0]"))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not screen.sending and bool(screen.send_view.lifecycles))
        await pilot.press("f7")
        await until(pilot, lambda: not screen.sending and len(screen.send_view.lifecycles) == 3)
        await pilot.pause()
        view = screen.send_view
        options = view.query_one("#js-lifecycles", OptionList)

        def agrees() -> bool:
            index = options.highlighted
            shown = view.query_one("#js-lifecycle").lifecycle  # type: ignore[attr-defined]
            return index is not None and shown is view.lifecycles[index]

        assert agrees()
        # The runtime reports lifecycles faster than the list's highlight messages arrive.
        lifecycles = list(view.lifecycles)
        options.focus()
        await pilot.pause()
        view.start()
        for lifecycle in lifecycles:
            view.update(lifecycle)
        view.finish(lifecycles)
        await pilot.pause()
        await pilot.pause()
        assert options.highlighted == 2 and agrees()
        options.focus()
        for key in ("up", "up", "down", "home", "end"):
            await pilot.press(key)
            await pilot.pause()
            assert agrees(), key


async def test_saving_a_lifecycle_offers_a_full_path_and_reports_it(tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await send_and_wait(app, pilot)
        await pilot.press("ctrl+e")
        await until(pilot, lambda: isinstance(app.screen, SavePathScreen))
        offered = app.screen.query_one("#save-path", Input).value
        assert Path(offered).is_absolute()
        # A folder is enough: the file gets its default name inside it.
        folder = tmp_path / "records"
        folder.mkdir()
        app.screen.query_one("#save-path", Input).value = str(folder)
        await pilot.press("enter")
        await until(pilot, lambda: any(folder.iterdir()))
        saved = next(folder.iterdir())
        assert saved.name == f"lifecycle-{app.lifecycle.id}.json"  # type: ignore[union-attr]
        assert any(str(saved) in message for message in notifications(app))
        # The next save starts in the folder chosen last.
        await pilot.press("ctrl+e")
        await until(pilot, lambda: isinstance(app.screen, SavePathScreen))
        assert Path(app.screen.query_one("#save-path", Input).value).parent == folder


async def test_the_last_credential_check_is_shown_beside_the_settings() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await pilot.press("ctrl+t")
        await until(pilot, lambda: bool(app.history))
        await pilot.pause()
        status = str(app.query_one("#creds-status", Static).content)
        assert "credentials accepted" in status
        assert "Sandbox" in status
        app.clear_notifications()
        await pilot.pause()
        assert "credentials accepted" in screen_text(app)


async def test_clearing_the_user_id_keeps_form_payload_and_validation_in_agreement() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        old = app.event_form.user_id
        assert old in app.editor.text
        app.query_one("#user-id", Input).value = ""
        await pilot.pause()
        await pilot.pause()
        status = str(app.query_one("#payload-status", Static).content)
        assert "✓ valid" not in status
        assert "userId" in status or "user" in status.lower()
        assert old not in app.editor.text
        assert app.send_blocker() is not None
        app.query_one("#user-id", Input).value = "test-user-again"
        await pilot.pause()
        await pilot.pause()
        assert "test-user-again" in app.editor.text
        assert "✓ valid" in str(app.query_one("#payload-status", Static).content)
        assert app.send_blocker() is None


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_names_host_and_port_with_a_short_retry_shown() -> None:
    port = _closed_port()
    app = make_app(retry=None)  # the tester's own interactive policy
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        shown = screen_text(app)
        assert "retry: up to 3 attempts" in shown  # the policy is on screen before sending
        app.query_one("#setting-endpoint", Input).value = f"http://127.0.0.1:{port}"
        await until(pilot, lambda: app.send_blocker() is None)
        await send_and_wait(app, pilot)
        lifecycle = app.lifecycle
        assert lifecycle is not None and not lifecycle.delivered
        assert len(lifecycle.attempts) == 3
        text = screen_text(app)
        assert f"connection refused by 127.0.0.1:{port}" in text
        attempts = app.query_one("#lc-attempts", OptionList)
        assert attempts.option_count == 3
        # Every attempt is readable: the list is tall enough for all of them, no scrolling.
        assert attempts.max_scroll_y == 0
        for number in ("#1", "#2", "#3"):
            assert number in text


async def test_after_f7_on_the_example_the_detail_follows_the_highlight() -> None:
    app = make_app(journey_file=str(EXAMPLE))
    async with app.run_test(size=SIZE) as pilot:
        screen = await journey_screen(app, pilot)
        await preview(screen, pilot)
        assert app.sandbox is not None
        app.settings_values["webhook"] = {"url": f"{app.sandbox.url}/hooks/journeys"}
        app.settings_values["segment"] = {"write_key": "k", "endpoint": app.sandbox.url}
        await until(pilot, lambda: screen.send_blocker() is None)
        screen.set_focus_step(("First Purchase", "steps[1]"))
        await pilot.pause()
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not screen.sending and bool(screen.send_view.lifecycles))
        await pilot.press("f7")
        await until(pilot, lambda: not screen.sending and len(screen.send_view.lifecycles) == 30)
        await pilot.pause()
        view = screen.send_view
        options = view.query_one("#js-lifecycles", OptionList)
        shown = view.query_one("#js-lifecycle").lifecycle  # type: ignore[attr-defined]
        assert options.highlighted is not None
        assert shown is view.lifecycles[options.highlighted]


async def test_an_exit_on_a_journey_step_is_invalid_before_send_with_the_reason() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        app.query_one("#event-type", Select).value = "audience-exited"
        await pilot.pause()
        await pilot.pause()
        reason = str(app.query_one("#type-error", Static).content)
        assert "add-only" in reason and app.query_one("#type-error").display
        assert "✓ valid" not in str(app.query_one("#payload-status", Static).content)
        assert "add-only" in str(app.query_one("#payload-status", Static).content)
        blocker = app.send_blocker()
        assert blocker is not None and "add-only" in blocker
        assert app.query_one("#send").disabled
        before = len(app.history)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert len(app.history) == before  # refused before any request
        # An audience (no journey) may exit.
        app.query_one("#journey", Input).value = ""
        app.query_one("#step", Input).value = ""
        await until(pilot, lambda: app.send_blocker() is None)
        assert not app.query_one("#type-error").display
        await send_and_wait(app, pilot)
        assert app.lifecycle is not None and app.lifecycle.delivered


async def test_the_routing_line_agrees_with_a_refused_outcome() -> None:
    import sdk
    from sdk.engage import TestEventSpec, TestEventType, build_test_event
    from tester_tui.lifecycle_render import Palette, routing_text

    spec = TestEventSpec(
        event_type=TestEventType.AUDIENCE_EXITED,
        user_id="u-1",
        destination="Sandbox",
        journey="First Purchase",
        step="Opened Email",
    )
    destination = sdk.get_destination("sandbox")
    async with sdk.AsyncDelivery(destination, {"endpoint": "http://127.0.0.1:9"}) as delivery:
        lifecycle = await delivery.send(build_test_event(spec).to_wire())
    assert lifecycle.error is not None and lifecycle.error.cls == "ListRemovalRefused"
    line = routing_text(lifecycle, Palette()).plain
    assert "routed, then failed" in line
    assert "delivered" not in line.split("·")[0]


async def test_the_destination_picker_filters_as_you_type() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        app.query_one("#destination", Select).focus()
        await pilot.pause()
        await pilot.press(*"ampl")
        await pilot.pause()
        assert app.query_one("#destination-filter", Input).value == "ampl"
        matches = app.query_one("#destination-matches", OptionList)
        assert matches.display and matches.option_count >= 1
        labels = [str(matches.get_option_at_index(i).prompt) for i in range(matches.option_count)]
        assert all("ampl" in label.lower() for label in labels), labels
        assert app.destination is not None and app.destination.slug == "sandbox"  # not yet
        await pilot.press("enter")
        await until(pilot, lambda: getattr(app.destination, "slug", "") == "amplitude")
        assert not matches.display  # the filter is cleared once chosen
        assert app.query_one("#destination-filter", Input).value == ""


async def test_the_open_destination_menu_leaves_no_label_fragments() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        menu = app.query_one("#destination", Select)
        menu.focus()
        await pilot.press("enter")
        await until(pilot, lambda: menu.expanded)
        await pilot.pause()
        for line in screen_text(app).splitlines():
            assert "destiAmplitude" not in line and "event desti" not in line, line


async def test_at_80x24_the_help_close_hint_shows_and_toasts_wait_behind_dialogs() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await ready(app, pilot)
        app.notify("toast-42", timeout=30)
        await pilot.pause()
        await until(pilot, lambda: "toast-42" in screen_text(app))
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause(0.2)
        shown = screen_text(app)
        assert "escape, q or f1 closes" in shown
        assert "toast-42" not in shown
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.pause(0.2)
        assert "toast-42" in screen_text(app)  # back once the dialog is gone


async def test_at_80x24_the_journey_footer_shows_f1_with_or_without_a_focused_step() -> None:
    app = make_app(journey_file=str(EXAMPLE))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await journey_screen(app, pilot)
        assert screen_text(app).splitlines()[-1].lstrip().startswith("f1 Help")
        await preview(screen, pilot)
        screen.set_focus_step(("First Purchase", "steps[1]"))
        await pilot.pause()
        footer = screen_text(app).splitlines()[-1]
        assert footer.lstrip().startswith("f1 Help"), footer


async def test_the_footer_keeps_its_keys_and_order_as_the_focus_moves() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        footers = set()
        for widget_id in ("#destination", "#user-id", "#payload", "#route"):
            app.query_one(widget_id).focus()
            await pilot.pause()
            # The app's keys, in order, start the footer whatever has the focus.
            footers.add(screen_text(app).splitlines()[-1].split(" f1 Help", 1)[-1][:60])
        assert len(footers) == 1, footers


async def test_jump_mode_moves_the_focus_between_panes() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, JumpScreen))
        assert "Lifecycle" in screen_text(app)
        await pilot.press("p")
        await until(pilot, lambda: not isinstance(app.screen, JumpScreen))
        await until(pilot, lambda: app.focused is app.query_one("#payload"))
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, JumpScreen))
        await pilot.press("s")
        await until(pilot, lambda: app.focused is app.query_one("#destination"))
