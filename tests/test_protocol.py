"""engine.protocol: every event kind round-trips; malformed lines are refused by name."""

from __future__ import annotations

import json

import pytest

from engine import protocol
from engine.diagnostics import Remedy, error

DIAG = error("QL-E-PORT", "Port taken", "Another program listens there.", Remedy("change_port", "Next", {"port": 2}))
EXAMPLES = {
    "hello": {"engine": "0.1.0", "backend": "cpu", "pid": 42},
    "plan": {"plan": {"ok": True, "devices": []}},
    "diagnostic": {"diagnostic": DIAG.to_dict()},
    "progress": {"stage": "load", "done": 5, "total": 10},
    "ready": {"url": "http://127.0.0.1:5001", "model": "m", "devices": [{"index": 0}]},
    "log": {"level": "warning", "message": "hi"},
    "error": {"diagnostic": DIAG.to_dict()},
    "stopped": {"reason": "signal", "exit_code": 0},
}


def test_examples_cover_every_kind():
    assert set(EXAMPLES) == set(protocol.EVENT_FIELDS)


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_round_trip(kind):
    line = protocol.encode(kind, **EXAMPLES[kind])
    assert line.endswith("\n") and "\n" not in line[:-1]
    raw = json.loads(line)
    assert raw["v"] == protocol.PROTOCOL_VERSION and raw["event"] == kind
    event = protocol.decode(line.encode())
    assert event.kind == kind and event.fields == EXAMPLES[kind]


def test_unknown_kind_decodes_to_none_but_cannot_be_encoded():
    assert protocol.decode(json.dumps({"v": protocol.PROTOCOL_VERSION, "event": "future", "x": 1})) is None
    with pytest.raises(protocol.ProtocolError, match="future"):
        protocol.encode("future")


@pytest.mark.parametrize("line,why", [
    ("not json", "not a JSON"),
    ("[1, 2]", "not a protocol event"),
    ('{"event": "hello"}', "not a protocol event"),
    ('{"v": 99, "event": "hello"}', "version 99"),
    ('{"v": 1, "event": "progress", "stage": "load", "done": 1}', "total"),
    ('{"v": 1, "event": "progress", "stage": "load", "done": true, "total": 2}', "done"),
    ('{"v": 1, "event": "error", "diagnostic": {"code": "X"}}', "severity"),
])
def test_malformed_lines_are_refused(line, why):
    with pytest.raises(protocol.ProtocolError, match=why):
        protocol.decode(line)


def test_encode_checks_field_types():
    with pytest.raises(protocol.ProtocolError, match="pid"):
        protocol.encode("hello", engine="x", backend="cpu", pid="7")
    assert protocol.is_event_line('  {"v": 1}') and not protocol.is_event_line("INFO: started")
