"""run_service: hello -> plan (+ diagnostics) -> bind -> load (progress) -> warm up -> ready
-> wait for a stop signal -> stopped. Every failure becomes an ``error`` event."""

from __future__ import annotations

import logging
import os
import threading
import traceback
from typing import Any

from engine import __version__
from engine.diagnostics import DiagnosticError, error
from engine.plan.types import Plan
from engine.service import (
    EventSink,
    ProgressReporter,
    ServeRequest,
    StopRequested,
    backend_for_plan,
    bind_socket,
    hello_backend,
)

LOG = logging.getLogger("quantlaunch.service")
GRACEFUL_SHUTDOWN_S = 3


def run_service(request: ServeRequest, sink: EventSink, stop: threading.Event) -> int:
    """The whole serve run; returns the exit code (0 after a clean stop)."""
    sink.emit("hello", engine=__version__, backend=hello_backend(request.launch), pid=os.getpid())
    try:
        reason = _serve(request, sink, stop)
    except StopRequested:
        reason = "stopped while loading"
    except DiagnosticError as exc:
        sink.emit("error", diagnostic=exc.diagnostic.to_dict())
        return 1
    except Exception as exc:  # the last line of defence: an event, never a bare traceback
        LOG.error("engine failed:\n%s", traceback.format_exc())
        diag = error("QL-E-INTERNAL", "The engine failed", f"{type(exc).__name__}: {exc}",
                     exception=type(exc).__name__, traceback=traceback.format_exc()[-4000:])  # last 4000 chars
        sink.emit("error", diagnostic=diag.to_dict())
        return 1
    sink.emit("stopped", reason=reason, exit_code=0)
    return 0


def _launch_settings(request: ServeRequest, inventory):
    if not request.kernel_pairs:
        return request.launch
    from engine.commands.plan import device_kernels_from_pairs

    kernels = dict(request.launch.device_kernels)
    kernels.update(device_kernels_from_pairs(list(request.kernel_pairs), inventory))
    return request.launch.with_changes(device_kernels=tuple(kernels.items()))


def make_plan(request: ServeRequest, sink: EventSink) -> tuple[Plan, Any, Any]:
    """(plan, inventory, model info); emits plan + diagnostics; raises on an error diagnostic."""
    from engine.demo import resolve_model_path
    from engine.devices.rigs import read_inventory
    from engine.model_file import inspect_model
    from engine.plan.planner import plan

    inventory = read_inventory(request.rig)
    settings = _launch_settings(request, inventory)
    info = inspect_model(resolve_model_path(request.model or "demo"))
    result = plan(inventory, settings, info)
    sink.emit("plan", plan={**result.to_dict(), "inventory": inventory.to_dict()})
    for diag in result.diagnostics:
        sink.emit("diagnostic", diagnostic=diag.to_dict())
    errors = [d for d in result.diagnostics if d.is_error]
    if errors:
        raise DiagnosticError(errors[0])
    return result, inventory, info


def _start_http(state, sock):
    import uvicorn

    from engine.server import create_app

    config = uvicorn.Config(create_app(state), log_config=None, access_log=False, lifespan="off",
                            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="http", daemon=True)
    thread.start()
    return server, thread


def _load(info, spec, n_ctx: int, sink: EventSink, stop: threading.Event):
    from engine.model import model_from_info
    from engine.tokenizer import Tokenizer

    reporter = ProgressReporter(sink, stop)
    tokenizer = Tokenizer.from_gguf(info)
    for note in tokenizer.warnings:
        sink.emit("diagnostic", diagnostic=note.to_dict())
    model = model_from_info(info, spec, n_ctx=n_ctx, on_progress=reporter)
    reporter("warmup", 0, 1)
    model.forward([tokenizer.bos_id if tokenizer.bos_id is not None else 0], 0)  # compiles kernels (CUDA)
    model.reset()
    reporter("warmup", 1, 1)
    return model, tokenizer


def url_for(sock) -> str:
    host, port = sock.getsockname()[:2]  # (host, port[, flowinfo, scope_id])
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def ready_devices(result: Plan, simulated: bool) -> list[dict]:
    if simulated or result.backend != "cuda":
        return []
    return [{"index": d.index, "uuid": d.uuid, "name": d.name, "path": d.path, "layers": list(d.layers)}
            for d in result.used_devices]


def _wait(stop: threading.Event, thread: threading.Thread) -> str:
    while not stop.wait(0.2):
        if not thread.is_alive():
            return "the HTTP server exited"
    return "signal"


def _serve(request: ServeRequest, sink: EventSink, stop: threading.Event) -> str:
    from engine.server import EngineState, GenerationWorker, LoadedModel, ServerConfig

    result, inventory, info = make_plan(request, sink)
    spec = backend_for_plan(result, inventory.simulated)
    if inventory.simulated and result.backend == "cuda":
        sink.emit("log", level="warning",
                  message=f"simulated rig '{inventory.rig_name}': the plan is shown, the model runs on the CPU")
    sock = bind_socket(request.server.host, request.server.port)
    config = ServerConfig(info.name, request.server.api_key, request.sampler, request.max_waiting)
    state = EngineState(config)
    server, thread = _start_http(state, sock)
    model = worker = None
    try:
        model, tokenizer = _load(info, spec, request.launch.context_size, sink, stop)
        worker = GenerationWorker(model, tokenizer, request.max_waiting)
        state.attach(LoadedModel(model, tokenizer, worker))
        sink.emit("ready", url=url_for(sock), model=info.name, devices=ready_devices(result, inventory.simulated))
        return _wait(stop, thread)
    finally:
        state.detach()
        if worker is not None:
            worker.stop()
        server.should_exit = True
        thread.join(GRACEFUL_SHUTDOWN_S + 2)
        if model is not None:
            model.close()
        sock.close()
