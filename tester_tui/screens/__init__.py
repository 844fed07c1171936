"""Screens of the event tester: help, history, save, journey."""
