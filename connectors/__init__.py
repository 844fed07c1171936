"""Built-in destination connectors: one package per destination, each exposing ``destination``."""
