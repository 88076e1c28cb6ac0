"""JSON documents from files and request bodies (stdlib only): the bytes parsed the one way the
engine reads them, and plain words for why a document is not JSON."""

from __future__ import annotations

import json
from typing import Any


def parse_json_bytes(raw: bytes) -> Any:
    """The JSON document in ``raw``; ValueError (not UTF-8, not JSON, a number too long) or
    RecursionError (nested too deeply). A byte-order mark from a Windows editor is fine."""
    return json.loads(raw.decode("utf-8-sig"))


def why_not_json(exc: BaseException) -> str:
    """Plain words for the ValueError or RecursionError that parsing JSON raised."""
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text"
    if isinstance(exc, RecursionError):
        return "it is nested too deeply"
    if isinstance(exc, json.JSONDecodeError):
        return str(exc)
    return "a number in it has too many digits" if "digits" in str(exc) else "it cannot be parsed"
