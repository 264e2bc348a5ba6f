"""Textual widgets, one area per module. They know nothing of httpx."""
