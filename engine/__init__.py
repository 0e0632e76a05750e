"""Ponder's engine: inference, providers, models, prompts. No Qt here (a test enforces it)."""
