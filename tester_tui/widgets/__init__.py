"""Small widgets of the event tester; each owns its compose, CSS and bindings and talks to the
app by posting messages."""
