"""Which server-supplied URLs we are willing to hand to a browser."""

from __future__ import annotations

from urllib.parse import urlsplit

ALLOWED_SCHEMES = ("http", "https")


def refusal(url: str | None) -> str | None:
    """Why ``url`` must not be opened, or ``None`` when it is a plain http(s) link."""
    if not url:
        return "no URL yet (the file is not ready)"
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return "the URL contains spaces or control characters"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "the URL is malformed"
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        scheme = parts.scheme or "no scheme"
        return f"only http and https links are opened, not {scheme[:20]}:"
    if not parts.netloc:
        return "the URL has no host"
    return None
