"""Journey mode of the event tester, driven with ``App.run_test()`` and Pilot: the example
journey file (examples/journeys), its eligible and ineligible users, sending to the real
in-process sandbox (loopback HTTP), and bad input shown inline as one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Select, Static

from tester_tui.app import DestkitTester
from tester_tui.screens.help import HelpScreen
from tester_tui.screens.journey import GENERATED, OTHER_FILE, JourneyScreen
from tester_tui.screens.save import SavePathScreen
from tester_tui.widgets.journey_payloads import JourneyPayloads
from tester_tui.widgets.journey_tree import JourneyTree
from tests.tui.conftest import make_app, notifications, ready, screen_text, until

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "journeys" / "first_purchase.yaml"
USERS = EXAMPLE.parent / "users"
SIZE = (120, 40)

SANDBOX_ONLY = """\
space: {id: spa_tui_journeys, name: TUI journeys}
journeys:
  - name: Welcome
    status: active
    entry: {event: Signed Up}
    steps:
      - type: send_to_destinations
        name: Welcomed
        destinations:
          - {name: Sandbox, events: [track, identify]}
      - type: send_to_journey
        name: To Follow-up
        journey: Follow-up
  - name: Follow-up
    status: idle
    steps:
      - type: send_to_destinations
        name: Followed up
        destinations:
          - {name: Sandbox, events: [track]}
"""
SANDBOX_USER = {
    "user_id": "user-sandbox-1",
    "as_of": "2026-01-02T00:00:00Z",
    "events": [{"event": "Signed Up", "timestamp": "2026-01-01T00:00:00Z"}],
}


def journey_app(
    tmp_path: Path, text: str = SANDBOX_ONLY, users: dict[str, dict[str, Any]] | None = None
) -> DestkitTester:
    """The tester in journey mode on ``text`` (a journey file), with ``users/*.json`` beside it."""
    journey_file = tmp_path / "journey.yaml"
    journey_file.write_text(text)
    (tmp_path / "users").mkdir()
    for name, user in (users or {"new": SANDBOX_USER}).items():
        (tmp_path / "users" / f"{name}.json").write_text(json.dumps(user))
    return make_app(journey_file=str(journey_file))


async def journey_screen(app: DestkitTester, pilot: Pilot[Any]) -> JourneyScreen:
    """Wait until the tester is loaded and journey mode is open."""
    await ready(app, pilot)
    await until(pilot, lambda: isinstance(app.screen, JourneyScreen))
    screen = app.screen
    assert isinstance(screen, JourneyScreen)
    return screen


async def preview(screen: JourneyScreen, pilot: Pilot[Any]) -> dict[str, Any]:
    """Press f5 and wait for the preview."""
    token = screen._token
    await pilot.press("f5")
    await until(pilot, lambda: screen._token > token and not screen.previewing)
    assert screen.document is not None, screen.preview_error
    return screen.document


def path_shown(screen: JourneyScreen) -> str:
    """The path pane's whole text (it may be taller than the pane)."""
    from rich.console import Console

    console = Console(width=100, color_system=None, record=True)
    console.print(screen.query_one("#journey-path-text", Static).content)
    return console.export_text()


def status(screen: JourneyScreen, widget_id: str) -> str:
    """The text of one of the screen's status lines."""
    return str(screen.query_one(f"#{widget_id}", Static).content)


def tree_labels(node: Any) -> list[str]:
    """Every label of the tree, depth first."""
    found = [str(node.label)]
    for child in node.children:
        found += tree_labels(child)
    return found


async def choose_user(screen: JourneyScreen, pilot: Pilot[Any], value: str) -> None:
    screen.query_one("#user-choice", Select).value = value
    await until(pilot, lambda: screen.user_choice == value)


async def test_opens_on_the_journey_file_with_its_tree_of_journeys_and_steps() -> None:
    app = make_app(journey_file=str(EXAMPLE))
    async with app.run_test(size=SIZE) as pilot:
        screen = await journey_screen(app, pilot)
        assert screen.file is not None and screen.file_error is None
        assert screen.journey_name == "First Purchase"
        # The users/ folder next to the file: its first user is chosen.
        assert screen.user is not None and screen.user.user_id == "user-1001"
        tree = screen.query_one(JourneyTree)
        text = "\n".join(tree_labels(tree.root))
        for wanted in (
            "First Purchase",
            "Loyalty Welcome",
            "1. Opened first email  wait_for_condition",
            "2. Opened Email  send_to_destinations",
            "key j_o_first_purchase__opened_email_hn1wm2",
            "→ Webhook  track, identify · enrich first_name, plan · ID sync email all ≤2",
            "→ Sandbox  track · enrich lifetime_value as ltv",
            "3. Big spender?  true_false_split",
            "1. Send to Loyalty Welcome  send_to_journey",
            "→ journey Loyalty Welcome (draft) at its first step",
            "→ Segment  identify · ID sync email first_added",
        ):
            assert wanted in text, wanted
        screen_shown = screen_text(app)
        assert "Demo Store (spa_demo_store) · 2 journeys" in screen_shown
        assert "f5 Preview" in screen_shown and "^s Send" in screen_shown  # the footer


async def test_eligible_user_enters_the_destination_journey_and_each_destination_has_payloads() -> (
    None
):
    app = make_app(journey_file=str(EXAMPLE))
    async with app.run_test(size=SIZE) as pilot:
        screen = await journey_screen(app, pilot)
        document = await preview(screen, pilot)
        assert document["entered_journeys"] == ["Loyalty Welcome"]
        path = path_shown(screen)
        assert "Enters Loyalty Welcome (and continues in First Purchase)" in path
        assert "eligible: enters Loyalty Welcome (draft) at its first step" in path
        assert "✓ entry: trait loyalty_opt_in equals true" in path
        assert "scheduled entry (every Monday at 09:00 UTC) ignored" in path
        assert "draft journey: send_to_journey may enter users into it" in path
        assert "condition met" in path and "waited" in path and "true" in path
        assert "Enters Loyalty Welcome" in screen_text(app)  # the Path pane is shown

        # Payloads: every connected destination, each with only its own events.
        await pilot.press("f4")
        await pilot.pause()
        payloads = screen.query_one(JourneyPayloads)
        shown = screen_text(app)
        assert "10 events" in shown
        for name, count in (("Webhook", 5), ("Sandbox", 4), ("Segment", 1)):
            assert f"{name} · {count} event" in shown or name in str(
                [e["destination"] for e in payloads.emissions if e]
            ), name
        options = screen.query_one("#jp-emissions", OptionList)
        seen: set[str] = set()
        for index, emission in enumerate(payloads.emissions):
            if emission is None:
                continue
            options.highlighted = index
            await pilot.pause()
            message = json.loads(screen.query_one("#jp-json").text)  # type: ignore[attr-defined]
            destination = emission["destination"]
            assert message["integrations"] == {"All": False, destination: True}
            assert message["userId"] == "user-1001"
            seen.add(destination)
        assert seen == {"Webhook", "Sandbox", "Segment"}
        shown = screen_text(app)
        assert '"messageId":' in shown and '"personas": {' in shown  # the JSON is on screen


async def test_ineligible_user_does_not_enter_and_continues_in_the_source() -> None:
    app = make_app(journey_file=str(EXAMPLE))
    async with app.run_test(size=SIZE) as pilot:
        screen = await journey_screen(app, pilot)
        await choose_user(screen, pilot, str(USERS / "ineligible.json"))
        assert screen.user is not None and screen.user.user_id == "user-2002"
        document = await preview(screen, pilot)
        assert document["entered_journeys"] == []
        path = path_shown(screen)
        assert "Enters no other journey (continues in First Purchase only)" in path
        assert "not eligible: does not enter Loyalty Welcome (draft)" in path
        assert "continues in First Purchase only" in path
        assert "✗ entry: trait loyalty_opt_in equals true  not met" in path
        assert '✗ audience: trait country in ["US", "CA"]  not met' in path
        assert "Cool-down" in path and "First Purchase Completed" in path  # went on
        assert "Segment" not in document["destinations"]  # Loyalty Welcome never ran


async def test_send_to_the_sandbox_delivers_every_event(tmp_path: Path) -> None:
    app = journey_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await journey_screen(app, pilot)
        assert screen.user is not None and screen.user.user_id == "user-sandbox-1"
        document = await preview(screen, pilot)
        assert document["entered_journeys"] == ["Follow-up"]
        assert screen.send_blocker() is None  # the sandbox needs no settings
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not screen.sending and bool(screen.send_view.lifecycles))
        lifecycles = screen.send_view.lifecycles
        assert len(lifecycles) == 3
        assert all(lc.delivered for lc in lifecycles)
        assert {lc.destination for lc in lifecycles} == {"Sandbox"}
        assert app.sandbox is not None and app.sandbox.requests  # real loopback HTTP
        text = screen_text(app)
        assert "200 OK" in text and "delivered" in text
        assert "3 delivered" in text
        assert lifecycles[-1] in app.history  # the tester's history has them too

        # The preview as text, as destkit journey preview prints it (and the deliveries).
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert app.clipboard.startswith("Space    spa_tui_journeys (TUI journeys)")
        assert "Entered  Follow-up (and continued in Welcome)" in app.clipboard
        assert "Summary  Sandbox: 3 delivered" in app.clipboard

        # Check credentials of the destination whose settings are shown (the sandbox).
        await pilot.press("ctrl+t")
        await until(pilot, lambda: not screen.sending and len(screen.send_view.lifecycles) == 1)
        check = screen.send_view.lifecycles[0]
        assert check.action == "test_authentication" and check.delivered
        assert "credentials accepted" in status(screen, "js-status")


async def test_missing_settings_are_named_in_one_line_then_the_example_is_sent() -> None:
    app = make_app(journey_file=str(EXAMPLE))
    async with app.run_test(size=SIZE) as pilot:
        screen = await journey_screen(app, pilot)
        await preview(screen, pilot)
        history = len(app.history)
        await pilot.press("ctrl+s")
        await pilot.pause()
        expected = "missing Webhook.url, Segment.write_key to send this preview"
        assert any(expected in message for message in notifications(app))
        await pilot.press("f6")
        await pilot.pause()
        assert expected in screen_text(app)
        assert len(app.history) == history  # nothing sent, not even the tester's payload
        assert app.sandbox is not None and app.sandbox.requests == []

        # Fill them in the settings form (the sandbox stands in for both services).
        menu = screen.query_one("#js-destination", Select)
        menu.value = "webhook"
        await until(
            pilot, lambda: getattr(screen.send_view.form.destination, "slug", "") == "webhook"
        )
        screen.query_one("#setting-url", Input).value = f"{app.sandbox.url}/hooks/journeys"
        await until(pilot, lambda: app.settings_values.get("webhook", {}).get("url") is not None)
        menu.value = "segment"
        await until(
            pilot, lambda: getattr(screen.send_view.form.destination, "slug", "") == "segment"
        )
        screen.query_one("#setting-write_key", Input).value = "demo-write-key"
        screen.query_one("#setting-endpoint", Input).value = app.sandbox.url
        await until(pilot, lambda: screen.send_blocker() is None)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not screen.sending and len(screen.send_view.lifecycles) == 30)
        outcomes: dict[str, dict[str, int]] = {}
        for lifecycle in screen.send_view.lifecycles:
            per = outcomes.setdefault(lifecycle.destination, {})
            per[lifecycle.outcome.value] = per.get(lifecycle.outcome.value, 0) + 1
        # Every destination receives all 10 events, delivers its own, filters the others'.
        assert outcomes == {
            "Webhook": {"delivered": 5, "filtered": 5},
            "Sandbox": {"delivered": 4, "filtered": 6},
            "Segment": {"delivered": 1, "filtered": 9},
        }
        assert "5 delivered" in screen_text(app)


async def test_a_bad_journey_file_is_one_line_inline(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "space: {id: spa_x}\njourneys:\n  - name: J\n    steps:\n      - type: send_sms\n"
    )
    app = make_app(journey_file=str(broken))
    async with app.run_test(size=SIZE) as pilot:
        screen = await journey_screen(app, pilot)
        assert screen.file is None and screen.file_error is not None
        assert screen.file_error.startswith("journeys[0].steps[0].type: unknown step type")
        assert "\n" not in screen.file_error
        line = status(screen, "journey-status")
        assert line == f"✗ {screen.file_error}"  # one line, under the file's path
        text = screen_text(app)
        assert "✗ journeys[0].steps[0].type:" in text
        assert "Traceback" not in text
        await pilot.press("f5")  # refused, with the same line
        await pilot.pause()
        assert any("unknown step type" in message for message in notifications(app))
        assert screen.document is None

        # Not YAML at all, then a file that is not there: one line each.
        broken.write_text("space: [unclosed\n")
        field = screen.query_one("#journey-file", Input)
        field.value = str(broken)
        field.focus()
        await pilot.press("enter")
        await until(pilot, lambda: "is not valid YAML" in (screen.file_error or ""))
        field.value = str(tmp_path / "nope.yaml")
        await pilot.press("enter")
        await until(pilot, lambda: "cannot read" in (screen.file_error or ""))
        assert status(screen, "journey-status").startswith("✗ journey file: cannot read")

        # Fixed: the example loads and previews.
        field.value = str(EXAMPLE)
        await pilot.press("enter")
        await until(pilot, lambda: screen.file is not None)
        assert screen.file_error is None
        await preview(screen, pilot)


async def test_a_bad_user_file_is_one_line_inline(tmp_path: Path) -> None:
    bad = tmp_path / "bad-user.json"
    bad.write_text('{"traits": {"plan": "pro"}}')
    app = make_app(journey_file=str(EXAMPLE))
    async with app.run_test(size=SIZE) as pilot:
        screen = await journey_screen(app, pilot)
        await choose_user(screen, pilot, OTHER_FILE)
        field = screen.query_one("#user-file", Input)
        field.value = str(bad)
        field.focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen.user_error is not None)
        assert screen.user_error == "user.user_id: one of user_id or anonymous_id is required"
        assert status(screen, "user-status") == f"✗ {screen.user_error}"
        assert "✗ user.user_id:" in screen_text(app)
        bad.write_text("{not json")
        await pilot.press("enter")
        await until(pilot, lambda: "is not valid JSON" in (screen.user_error or ""))
        await pilot.press("f5")
        await pilot.pause()
        assert screen.document is None
        assert any("is not valid JSON" in message for message in notifications(app))


async def test_a_generated_user_with_an_id_that_can_be_edited() -> None:
    app = make_app(journey_file=str(EXAMPLE))
    async with app.run_test(size=SIZE) as pilot:
        screen = await journey_screen(app, pilot)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: screen.user_choice == GENERATED)
        assert screen.user is not None and screen.user.user_id.startswith("test-user-")
        field = screen.query_one("#user-id", Input)
        assert field.display and field.value == screen.user.user_id
        field.value = "my-own-user"
        await until(pilot, lambda: screen.user is not None and screen.user.user_id == "my-own-user")
        document = await preview(screen, pilot)
        assert document["user"]["user_id"] == "my-own-user"
        # A minimal user has no Order Completed event: not eligible for First Purchase.
        assert "Not eligible for First Purchase" in path_shown(screen)
        field.value = " "
        await until(pilot, lambda: screen.user is None)
        assert screen.user_error is not None and screen.user_error.startswith("user.user_id")


async def test_choosing_a_journey_and_focusing_a_step() -> None:
    app = make_app(journey_file=str(EXAMPLE))
    async with app.run_test(size=SIZE) as pilot:
        screen = await journey_screen(app, pilot)
        await preview(screen, pilot)
        screen.set_focus_step(("First Purchase", "steps[1]"))
        await pilot.pause()
        assert "◆ focus" in path_shown(screen)
        assert status(screen, "focus-status") == (
            "Focus: First Purchase / Opened Email (steps[1]); ctrl+s sends this step, "
            "f7 the whole journey"
        )
        payloads = screen.query_one(JourneyPayloads)
        focused = [e for e in payloads.emissions if e is not None]
        assert len(focused) == 5 and {e["step"] for e in focused} == {"Opened Email"}
        # A step of Loyalty Welcome is reached from First Purchase: the journey stays.
        screen.set_focus_step(("Loyalty Welcome", "steps[0]"))
        await pilot.pause()
        assert screen.journey_name == "First Purchase"
        # Choosing Loyalty Welcome itself (its own entry rule) previews it.
        screen.query_one("#journey-choice", Select).value = "Loyalty Welcome"
        await until(pilot, lambda: screen.journey_name == "Loyalty Welcome")
        assert screen.stale
        document = await preview(screen, pilot)
        assert document["journey"]["journey"] == "Loyalty Welcome"
        assert "previewed as if its window opened" in path_shown(screen)


async def test_ctrl_n_asks_for_a_path_and_escape_goes_back_to_the_tester() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(app.screen, SavePathScreen))
        app.screen.query_one("#save-path", Input).value = str(EXAMPLE)
        await pilot.press("enter")
        screen = await journey_screen(app, pilot)
        assert screen.file is not None
        # The tester's own keys are off here: ctrl+s is journey mode's (refused: no preview).
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.history == []
        assert any("preview first" in message for message in notifications(app))
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = screen_text(app)
        assert "journey mode" in text and "f5" in text and "Preview" in text
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, JourneyScreen))
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert any(title.startswith("Preview (f5)") for title in titles)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, JourneyScreen))
        assert not app.journey_mode
        await pilot.press("ctrl+s")  # the tester's send again
        await until(pilot, lambda: bool(app.history))
        assert app.history[-1].delivered


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        ((80, 24), {"setup"}),
        ((120, 40), {"setup", "path"}),
        ((160, 48), {"setup", "path", "payloads"}),
    ],
)
async def test_layout_at_80x24_and_on_wide_terminals(
    size: tuple[int, int], shown: set[str]
) -> None:
    app = make_app(journey_file=str(EXAMPLE))
    async with app.run_test(size=size) as pilot:
        screen = await journey_screen(app, pilot)
        await preview(screen, pilot)
        panes = ("setup", "path", "payloads", "send")
        after = {"path"} if size[0] == 80 else shown  # a preview shows the path
        visible = {name for name in panes if screen.query_one(f"#jpane-{name}").display}
        assert visible == after
        if size[0] == 80:
            for key, name in (("f2", "setup"), ("f4", "payloads"), ("f6", "send")):
                await pilot.press(key)
                await pilot.pause()
                visible = {n for n in panes if screen.query_one(f"#jpane-{n}").display}
                assert visible == {name}
        else:
            regions = [screen.query_one(f"#jpane-{name}").region for name in panes]
            shown_regions = [r for r in regions if r.width]
            assert all(r.height >= size[1] - 6 for r in shown_regions)


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (160, 45)])
async def test_the_pane_keys_move_the_focus_into_the_pane(size: tuple[int, int]) -> None:
    app = make_app(journey_file=str(EXAMPLE))
    async with app.run_test(size=size) as pilot:
        screen = await journey_screen(app, pilot)
        await preview(screen, pilot)
        for key, pane in (("f4", "payloads"), ("f6", "send"), ("f3", "path"), ("f2", "setup")):
            await pilot.press(key)
            await pilot.pause()
            focused = screen.focused
            assert focused is not None, key
            assert screen.query_one(f"#jpane-{pane}") in focused.ancestors_with_self, (
                key,
                focused,
            )
        assert screen.focused is screen.query_one(JourneyTree)
        await pilot.press("f6")
        await pilot.pause()
        assert screen.focused is screen.query_one("#js-destination")


async def test_long_setting_names_stay_on_one_line_in_the_send_pane() -> None:
    from textual.widgets import Label

    app = make_app(journey_file=str(EXAMPLE))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await journey_screen(app, pilot)
        await preview(screen, pilot)
        await pilot.press("f6")
        screen.query_one("#js-destination", Select).value = "webhook"
        await until(pilot, lambda: bool(screen.query("#setting-signing_secret")))
        await pilot.pause()
        assert "signing_secret " in screen_text(app)
        form = screen.send_view.form
        labels = [label for label in form.query(Label) if "field-label" in label.classes]
        assert all(label.region.height == 1 for label in labels if label.region.width)


async def test_with_a_step_focused_ctrl_s_sends_that_step_and_f7_the_whole_journey(
    tmp_path: Path,
) -> None:
    app = journey_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await journey_screen(app, pilot)
        await preview(screen, pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "^s Send all" in footer and "f7" not in footer

        screen.set_focus_step(("Welcome", "steps[0]"))
        await pilot.press("f4")
        await pilot.pause()
        shown = screen_text(app)
        footer = shown.splitlines()[-1]
        assert "^s Send step" in footer and "f7 Send all" in footer
        assert "2 of 3: the focused step's; ctrl+s sends these, f7 all 3" in shown
        assert "ctrl+s sends the focused step's 2 events (Welcomed) to Sandbox" in status(
            screen, "js-status"
        )
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not screen.sending and bool(screen.send_view.lifecycles))
        lifecycles = screen.send_view.lifecycles
        assert [lc.event["type"] for lc in lifecycles] == ["track", "identify"]
        assert all(lc.delivered for lc in lifecycles)

        await pilot.press("f7")  # the whole journey, the step still focused
        await until(pilot, lambda: not screen.sending and len(screen.send_view.lifecycles) == 3)
        assert screen.focus_step == ("Welcome", "steps[0]")

        # A focused step that sends nothing: refused, saying f7 sends the journey.
        screen.set_focus_step(("Welcome", "steps[1]"))
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert any("sends no events in this preview: f7" in m for m in notifications(app))
        assert len(screen.send_view.lifecycles) == 3


async def test_a_focused_step_needs_only_its_own_destinations_settings() -> None:
    app = make_app(journey_file=str(EXAMPLE))
    async with app.run_test(size=SIZE) as pilot:
        screen = await journey_screen(app, pilot)
        await preview(screen, pilot)
        assert "Segment.write_key" in (screen.send_blocker() or "")
        screen.set_focus_step(("First Purchase", "steps[1]"))  # Webhook and Sandbox only
        await pilot.pause()
        blocker = screen.send_blocker() or ""
        assert "missing Webhook.url to send" in blocker and "Segment" not in blocker
        assert "Segment.write_key" in (screen.send_blocker(whole=True) or "")


MISNAMED = """\
space: {id: spa_tui_misnamed}
journeys:
  - name: Welcome
    status: active
    entry: {event: Signed Up}
    steps:
      - type: send_to_destinations
        name: Welcomed
        destinations: [{name: webhook}, {name: NoSuchDest}, {name: Sandbox}]
"""


async def test_the_preview_notes_destination_names_that_send_refuses(tmp_path: Path) -> None:
    app = journey_app(tmp_path, MISNAMED)
    async with app.run_test(size=SIZE) as pilot:
        screen = await journey_screen(app, pilot)
        await preview(screen, pilot)
        path = " ".join(path_shown(screen).split())
        assert (
            "note webhook: 'webhook' must be written as the connector's integrations name "
            "'Webhook', or its events are filtered at destination; --send refuses this preview"
        ) in path
        assert "note NoSuchDest: no connector named 'NoSuchDest' (known: " in path
        assert "must be written as the connector's integrations name" in (
            screen.send_blocker() or ""
        ) or "no connector named" in (screen.send_blocker() or "")


async def test_a_real_time_entry_waits_for_the_entry_event_after_as_of(tmp_path: Path) -> None:
    later = {
        **SANDBOX_USER,
        "events": [{"event": "Signed Up", "timestamp": "2026-01-03T10:00:00Z"}],
    }
    app = journey_app(tmp_path, users={"later": later})
    async with app.run_test(size=SIZE) as pilot:
        screen = await journey_screen(app, pilot)
        document = await preview(screen, pilot)
        assert document["journey"]["eligible"]
        assert document["journey"]["entered_at"] == "2026-01-03T10:00:00Z"
        path = " ".join(path_shown(screen).split())
        assert (
            "enters at the first later event that meets them: Signed Up at 2026-01-03T10:00:00Z"
            in path
        )
        assert "Enters Follow-up" in path


async def test_the_empty_payloads_pane_shows_no_stray_line_number() -> None:
    app = make_app(journey_file=str(EXAMPLE))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await journey_screen(app, pilot)
        await pilot.press("f4")
        await pilot.pause()
        lines = [line.strip("│ ") for line in screen_text(app).splitlines()[4:-2]]
        assert "1" not in lines
        assert "Preview first (f5)" in screen_text(app)
        await preview(screen, pilot)
        await pilot.press("f4")
        await pilot.pause()
        assert '"messageId":' in screen_text(app)  # the JSON is back once there is a payload
        group = next(line for line in screen_text(app).splitlines() if "Webhook · 5 events" in line)
        # The group headers are padded (the border is heavy: the pane has the focus).
        assert group[0] in "│┃" and group[1:].startswith(" Webhook · 5 events")


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
async def test_the_tree_cuts_long_lines_with_an_ellipsis_not_a_scrollbar(
    size: tuple[int, int],
) -> None:
    app = make_app(journey_file=str(EXAMPLE))
    async with app.run_test(size=size) as pilot:
        screen = await journey_screen(app, pilot)
        if size[0] == 80:
            await pilot.press("f2")
            await pilot.pause()
        tree = screen.query_one(JourneyTree)
        assert tree.virtual_size.width <= tree.scrollable_content_region.width
        assert not tree.horizontal_scrollbar.display or tree.show_horizontal_scrollbar is False
        text = screen_text(app)
        assert "→ Webhook  track, identify · enrich" in text and "…" in text


async def test_the_delivery_list_keeps_one_line_per_lifecycle_with_long_names() -> None:
    from tester_tui.widgets.journey_send import delivery_line
    from tests.tui.test_snapshots import delivered_lifecycle

    lifecycles = []
    for _ in range(3):
        lifecycle = delivered_lifecycle()
        lifecycle.destination = "Facebook Custom Audiences"
        lifecycles.append(lifecycle)
    line = delivery_line(1, lifecycles[0])
    assert line.plain.startswith("#1 200 OK delivered · Facebook Custom Audiences")
    app = make_app(journey_file=str(EXAMPLE))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await journey_screen(app, pilot)
        await pilot.press("f6")
        view = screen.send_view
        view.start()
        for lifecycle in lifecycles:
            view.update(lifecycle)
        view.finish(lifecycles)
        await pilot.pause()
        text = screen_text(app)
        assert "Facebook Custom Audiences  3 delivered" in text
        rows = [row for row in text.splitlines() if "delivered · Facebook" in row]
        assert [row[:5] for row in rows] == ["│ #1 ", "│ #2 ", "│ #3 "]  # one line each
