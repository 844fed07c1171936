"""destkit's event tester: a Textual app that sends a test event to a destination and draws its
lifecycle as it happens.

UI only: every piece of domain work (settings, test events, delivery, routing, the lifecycle
record) is a call into ``sdk``. Start it with ``destkit tester`` or
:func:`tester_tui.app.run_tester`.
"""
