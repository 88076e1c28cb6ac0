"""Fixtures for the server tests: a tiny synthetic model and a real uvicorn server on a
free loopback port, run in a thread of the test process."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from engine.model import load_model
from engine.server import EngineState, GenerationWorker, LoadedModel, ServerConfig
from engine.service import bind_socket
from engine.synth import write_synthetic_model
from engine.synth_spec import CHATML_TEMPLATE, SynthSpec
from engine.tokenizer import Tokenizer

TINY_CTX = 256


@dataclass
class RunningServer:
    url: str
    state: EngineState
    loaded: LoadedModel | None


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "tiny.gguf"
    spec = SynthSpec(n_layers=2, n_embd=64, n_head=4, n_head_kv=2, n_ff=128, chat_template=CHATML_TEMPLATE)
    return write_synthetic_model(path, spec, rng_seed=7)


@pytest.fixture(scope="session")
def tiny_parts(tiny_model_path):
    """(model, tokenizer) shared by the servers of this session (one generation at a time)."""
    model = load_model(tiny_model_path, n_ctx=TINY_CTX)
    yield model, Tokenizer.from_gguf(tiny_model_path)
    model.close()


def _start_uvicorn(state: EngineState):
    import uvicorn

    from engine.server import create_app

    sock = bind_socket("127.0.0.1", 0)
    config = uvicorn.Config(create_app(state), log_config=None, access_log=False, lifespan="off",
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    host, port = sock.getsockname()[:2]  # (host, port[, flowinfo, scope_id])
    return server, thread, sock, f"http://{host}:{port}"


@contextmanager
def serving(parts=None, api_key: str = "", max_waiting: int = 8, generate_fn=None, **config):
    """A server over ``parts`` ((model, tokenizer)); None = one that is still loading.
    ``generate_fn`` replaces the worker's engine.generate (e.g. a slowed-down wrapper of it)."""
    state = EngineState(ServerConfig(model_name="tiny", api_key=api_key, max_waiting=max_waiting, **config))
    loaded = None
    if parts is not None:
        model, tokenizer = parts
        extra = {} if generate_fn is None else {"generate_fn": generate_fn}
        loaded = LoadedModel(model, tokenizer, GenerationWorker(model, tokenizer, max_waiting, **extra))
        state.attach(loaded)
    server, thread, sock, url = _start_uvicorn(state)
    try:
        yield RunningServer(url, state, loaded)
    finally:
        if loaded is not None:
            loaded.worker.stop()
        server.should_exit = True
        thread.join(5)
        sock.close()


@pytest.fixture
def tiny_server(tiny_parts):
    with serving(tiny_parts) as running:
        yield running
