"""Markdown and math rendering for answers."""
