"""The serve runtime: plan, bind, load with progress events, serve, stop cleanly.

Every step reports on stdout through :class:`EventSink` (protocol lines only; anything
else printed goes to stderr). The HTTP server runs in a thread from the moment the port is
bound, so /health answers 503 while the weights load; SIGTERM/SIGINT set a stop flag that
the main thread watches (during loading too), and the run ends with a ``stopped`` event.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import socket
import sys
import threading
from dataclasses import dataclass, field
from typing import TextIO

from engine import protocol
from engine.backends.spec import BackendSpec, DeviceAssignment
from engine.diagnostics import DiagnosticError, Remedy, error
from engine.plan.types import Plan
from engine.settings import LaunchSettings, SamplerDefaults, ServerSettings

LOG = logging.getLogger("quantlaunch.service")


class StopRequested(Exception):
    """A signal asked the engine to stop (raised where it interrupts loading)."""


class EventSink:
    """Writes protocol events to the real stdout (thread-safe), one line each."""

    def __init__(self, stream: TextIO):
        self._stream = stream
        self._lock = threading.Lock()

    def emit(self, kind: str, **fields) -> None:
        line = protocol.encode(kind, **fields)
        with self._lock:
            self._stream.write(line)
            self._stream.flush()


class ProgressReporter:
    """Turns the loader's byte counts into ``progress`` events (at most ~100 per stage)."""

    def __init__(self, sink: EventSink, stop: threading.Event):
        self._sink, self._stop = sink, stop
        self._last: tuple[str, int] = ("", -1)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self._stop.is_set():
            raise StopRequested()
        step = (stage, (100 * done // total) if total else 100)
        if step != self._last:
            self._last = step
            self._sink.emit("progress", stage=stage, done=int(done), total=int(total))


@dataclass(frozen=True)
class ServeRequest:
    model: str  # a GGUF path, "" or "demo"
    launch: LaunchSettings = field(default_factory=LaunchSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    sampler: SamplerDefaults = field(default_factory=SamplerDefaults)
    rig: str | None = None
    kernel_pairs: tuple[str, ...] = ()  # --kernel DEV=PATH, resolved against the inventory
    max_waiting: int = 8


def backend_for_plan(result: Plan, simulated: bool) -> BackendSpec:
    """GPU assignments from the plan (device index = CUDA ordinal in PCI order); the CPU
    backend when nothing is on a GPU or the devices are simulated."""
    used = result.used_devices
    if simulated or result.backend != "cuda" or not used:
        return BackendSpec.cpu()
    return BackendSpec("cuda", tuple(DeviceAssignment(d.index, d.path, d.layers) for d in used))


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket, or QL-E-PORT (remedy: change_port) when the address is taken."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family = infos[0][0] if infos else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.set_inheritable(True)
        return sock
    except OSError as exc:
        raise DiagnosticError(error(
            "QL-E-PORT", f"Cannot listen on {host}:{port}",
            f"The address is not available ({exc.strerror or exc}); another program (or another engine) "
            "probably uses this port. Choose another port.",
            Remedy("change_port", "Use another port", {"port": port + 1}),
            host=host, port=port, errno=exc.errno or 0,
        )) from None


def hello_backend(settings: LaunchSettings) -> str:
    if settings.force_cpu or importlib.util.find_spec("cupy") is None:
        return "cpu"
    return "cuda"


def install_stop_handlers(stop: threading.Event) -> dict:
    """SIGTERM/SIGINT set ``stop``; returns the previous handlers."""
    previous = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, lambda *_: stop.set())
    return previous


def ensure_pci_order() -> None:
    """CUDA ordinals in PCI bus order, like NVML's indices (before CuPy starts)."""
    os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")


def protect_stdout() -> EventSink:
    """A sink on the real stdout; ``sys.stdout`` then points at stderr so stray prints can't
    corrupt the protocol stream."""
    sink = EventSink(sys.stdout)
    sys.stdout = sys.stderr
    return sink
