"""``quantlaunch-engine serve`` as a subprocess: its stdout parsed with engine.protocol
(hello -> plan -> progress -> ready -> stopped), stopped by a signal, and its refusals
(port taken, plan errors, missing file) as error events with a non-zero exit."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from queue import Empty, Queue

import httpx
import pytest

from engine import protocol
from engine.profiles import profile_to_dict
from engine.settings import LaunchSettings, Profile, ServerSettings

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60


class EngineProcess:
    def __init__(self, *args: str, stdin_text: str | None = None):
        self.proc = subprocess.Popen([sys.executable, "-m", "engine", "serve", *args], cwd=ROOT, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: Queue[str | None] = Queue()
        self.events: list[protocol.Event] = []
        threading.Thread(target=self._pump, daemon=True).start()
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()  # keep stderr drained
        self.proc.stdin.write(stdin_text or "")
        self.proc.stdin.close()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def next_event(self, timeout: float = START_TIMEOUT) -> protocol.Event | None:
        """The next event (every stdout line must be one); None at the end of output."""
        line = self.lines.get(timeout=timeout)
        if line is None:
            return None
        event = protocol.decode(line)  # raises on anything that is not a protocol line
        assert event is not None, line
        self.events.append(event)
        return event

    def until(self, kind: str) -> protocol.Event:
        while (event := self.next_event()) is not None:
            if event.kind == kind:
                return event
        raise AssertionError(f"no {kind!r} event; got {[e.kind for e in self.events]}")

    def finish(self) -> int:
        while self.next_event() is not None:
            pass
        return self.proc.wait(timeout=30)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            while self.lines.get_nowait() is not None:
                pass
        except Empty:
            pass


@pytest.fixture
def engine_process():
    started = []

    def start(*args, stdin_text=None):
        started.append(EngineProcess(*args, stdin_text=stdin_text))
        return started[-1]

    yield start
    for process in started:
        process.kill()


def kinds(events) -> list[str]:
    return [e.kind for e in events]


def test_serve_lifecycle_with_flags(engine_process, tiny_model_path):
    engine = engine_process("--model", str(tiny_model_path), "--cpu", "--port", "0", "--context", "128")
    ready = engine.until("ready")
    order = kinds(engine.events)
    assert order[0] == "hello" and order[1] == "plan"
    assert order.index("plan") < order.index("progress") < order.index("ready")
    loads = [e for e in engine.events if e.kind == "progress" and e["stage"] == "load"]
    assert loads[-1]["done"] == loads[-1]["total"] == tiny_model_path.stat().st_size - _header_bytes(tiny_model_path)
    assert ready["model"] == "synthetic" and ready["devices"] == []
    assert httpx.get(f"{ready['url']}/health", timeout=10).status_code == 200
    answer = httpx.post(f"{ready['url']}/api/v1/generate", json={"prompt": "hi", "max_length": 3}, timeout=30)
    assert answer.status_code == 200
    engine.proc.send_signal(signal.SIGTERM)
    assert engine.finish() == 0
    assert engine.events[-1].kind == "stopped" and engine.events[-1]["exit_code"] == 0


def _header_bytes(path: Path) -> int:
    """File size minus tensor data: the loader reports tensor bytes only."""
    from engine.model_file import inspect_model

    info = inspect_model(path)
    return path.stat().st_size - info.total_tensor_bytes


def test_serve_from_profile_on_stdin_and_sigint(engine_process, tiny_model_path):
    profile = replace(Profile(name="t", model_path=str(tiny_model_path)),
                      launch=LaunchSettings(force_cpu=True, context_size=128),
                      server=ServerSettings(port=5001, api_key="k1"))
    # a flag given explicitly overrides the profile (port 0: any free port)
    engine = engine_process("--profile", "-", "--port", "0", stdin_text=json.dumps(profile_to_dict(profile)))
    ready = engine.until("ready")
    assert ready["url"].startswith("http://127.0.0.1:")
    assert httpx.get(f"{ready['url']}/v1/models", timeout=10).status_code == 401
    assert httpx.get(f"{ready['url']}/v1/models", headers={"Authorization": "Bearer k1"}, timeout=10).status_code == 200
    engine.proc.send_signal(signal.SIGINT)
    assert engine.finish() == 0
    assert engine.events[-1].kind == "stopped"


def test_port_in_use_is_a_diagnostic(engine_process, tiny_model_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        engine = engine_process("--model", str(tiny_model_path), "--cpu", "--port", str(port))
        code = engine.finish()
    assert code != 0
    last = engine.events[-1]
    assert last.kind == "error" and last["diagnostic"]["code"] == "QL-E-PORT"
    assert last["diagnostic"]["remedies"][0]["action"] == "change_port"
    assert "ready" not in kinds(engine.events)


@pytest.mark.parametrize("args,code", [
    (["--context", "0"], "QL-E-SETTING"),
    (["--model", "/no/such/model.gguf"], "QL-E-FILE"),
])
def test_refusals_are_error_events(engine_process, tiny_model_path, args, code):
    base = ["--model", str(tiny_model_path), "--cpu", "--port", "0"]
    engine = engine_process(*base, *args)
    assert engine.finish() == 1
    assert kinds(engine.events)[0] == "hello"
    error = engine.events[-1]
    assert error.kind == "error" and error["diagnostic"]["severity"] == "error"
    assert error["diagnostic"]["code"].startswith(code)


def test_corrupt_profile_is_an_error_event(engine_process):
    engine = engine_process("--profile", "-", stdin_text="{not json")
    assert engine.finish() == 1
    assert kinds(engine.events) == ["hello", "error"]
    assert engine.events[-1]["diagnostic"]["code"].startswith("QL-E-PROFILE")


def test_simulated_rig_shows_the_plan_and_runs_on_the_cpu(engine_process, tiny_model_path):
    engine = engine_process("--model", str(tiny_model_path), "--rig", "p100", "--port", "0", "--context", "128")
    ready = engine.until("ready")
    plan = next(e for e in engine.events if e.kind == "plan")["plan"]
    assert plan["simulated"] is True and plan["backend"] == "cuda"
    assert any(d["path"] == "dmmv" for d in plan["devices"])  # P100 is cc 6.0: dmmv by default
    assert any(e.kind == "log" and "simulated" in e["message"] for e in engine.events)
    assert ready["devices"] == []
    engine.proc.send_signal(signal.SIGTERM)
    assert engine.finish() == 0


def test_a_file_that_is_not_gguf_is_an_error_event(engine_process, tmp_path):
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"GGUF" + bytes(range(256)) * 4)
    engine = engine_process("--model", str(junk), "--cpu", "--port", "0")
    assert engine.finish() == 1
    assert engine.events[-1].kind == "error"
    assert engine.events[-1]["diagnostic"]["code"].startswith("QL-E-")


@pytest.mark.slow
def test_sigterm_while_loading_stops_cleanly(engine_process):
    from engine.demo import demo_model_path

    if demo_model_path() is None:
        pytest.skip("demo model package not installed")
    engine = engine_process("--model", "demo", "--cpu", "--port", "0", "--context", "256")
    engine.until("progress")  # loading has begun (the demo model takes seconds to load)
    engine.proc.send_signal(signal.SIGTERM)
    assert engine.finish() == 0
    assert engine.events[-1].kind == "stopped"
    assert "ready" not in kinds(engine.events)
