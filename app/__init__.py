"""Ponder's desktop front end (PySide6 + qasync) and command-line entry point."""
