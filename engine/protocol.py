"""Engine <-> launcher protocol: one JSON object per line on the engine's stdout.

Standard library only: the launcher imports this module and nothing of the engine's
runtime. Every event has ``"v"`` (the protocol version) and ``"event"`` (its kind); the
other fields per kind are listed in :data:`EVENT_FIELDS` (required) and are validated on
both ends. Unknown event kinds decode to ``None`` (newer engines may send more), a line
that is not JSON or has the wrong version raises :class:`ProtocolError` (for the wrong
version, its subclass :class:`ProtocolVersionError`).

Events (DESIGN.md §6):
    hello       engine (version), backend ("cpu" | "cuda"), pid
    plan        plan (the planner's JSON: devices, diagnostics, ...)
    diagnostic  diagnostic (engine.diagnostics.Diagnostic.to_dict())
    progress    stage (str), done (int), total (int)
    ready       url, model, devices (list)
    log         level ("debug" | "info" | "warning" | "error"), message
    error       diagnostic (a Diagnostic dict; the engine exits non-zero after it)
    stopped     reason (str), exit_code (int)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

PROTOCOL_VERSION = 1

EVENT_FIELDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "hello": {"engine": str, "backend": str, "pid": int},
    "plan": {"plan": dict},
    "diagnostic": {"diagnostic": dict},
    "progress": {"stage": str, "done": int, "total": int},
    "ready": {"url": str, "model": str, "devices": list},
    "log": {"level": str, "message": str},
    "error": {"diagnostic": dict},
    "stopped": {"reason": str, "exit_code": int},
}

_DIAGNOSTIC_KEYS = ("code", "severity", "title", "detail")


class ProtocolError(ValueError):
    """A line that is not a valid event of this protocol version."""


class ProtocolVersionError(ProtocolError):
    """A well-formed event line of another protocol version (``version``: the line's "v")."""

    def __init__(self, version: Any):
        super().__init__(f"protocol version {version!r}; this launcher speaks version {PROTOCOL_VERSION}")
        self.version = version


@dataclass(frozen=True)
class Event:
    kind: str
    fields: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.fields[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)


def _check_fields(kind: str, fields: dict[str, Any]) -> None:
    for name, expected in EVENT_FIELDS[kind].items():
        if name not in fields:
            raise ProtocolError(f"event {kind!r} is missing field {name!r}")
        value = fields[name]
        if isinstance(value, bool) or not isinstance(value, expected):
            raise ProtocolError(f"event {kind!r}: field {name!r} has type {type(value).__name__}")
    if kind in ("diagnostic", "error"):
        missing = [k for k in _DIAGNOSTIC_KEYS if k not in fields["diagnostic"]]
        if missing:
            raise ProtocolError(f"event {kind!r}: diagnostic lacks {', '.join(missing)}")


def encode(kind: str, **fields: Any) -> str:
    """One event as a JSON line (with the trailing newline)."""
    if kind not in EVENT_FIELDS:
        raise ProtocolError(f"unknown event kind {kind!r}")
    _check_fields(kind, fields)
    return json.dumps({"v": PROTOCOL_VERSION, "event": kind, **fields}, separators=(",", ":")) + "\n"


def decode(line: str | bytes) -> Event | None:
    """Parse one line. Returns None for an event kind this version does not know."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"not a JSON event line: {line[:80]!r}") from exc
    if not isinstance(obj, dict) or "event" not in obj or "v" not in obj:
        raise ProtocolError(f"not a protocol event: {line[:80]!r}")
    if obj["v"] != PROTOCOL_VERSION:
        raise ProtocolVersionError(obj["v"])
    kind = obj.pop("event")
    obj.pop("v")
    if kind not in EVENT_FIELDS:
        return None
    _check_fields(kind, obj)
    return Event(kind, obj)


def is_event_line(line: str | bytes) -> bool:
    """Cheap pre-check: lines that look like protocol JSON (start with '{')."""
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    return text.lstrip().startswith("{")
