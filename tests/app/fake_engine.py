"""TEST DOUBLE (fixture only): a stand-in engine that prints protocol events.

Used to exercise the launcher's process supervision and crash classification without a
model. Usage: ``python fake_engine.py MODE`` with the profile JSON on stdin.
"""

from __future__ import annotations

import json
import signal
import sys
import time

from engine import protocol
from engine.diagnostics import error


def emit(kind: str, **fields) -> None:
    sys.stdout.write(protocol.encode(kind, **fields))
    sys.stdout.flush()


def serve_until_terminated(ignore_term: bool) -> int:
    emit("hello", engine="fake", backend="cpu", pid=0)
    for done in range(1, 4):
        emit("progress", stage="loading", done=done, total=3)
    emit("ready", url="http://127.0.0.1:1", model="fake", devices=[])
    if ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, lambda *_: (emit("stopped", reason="terminated", exit_code=0), sys.exit(0)))
    while True:
        time.sleep(0.05)


def main(mode: str) -> int:
    profile_text = sys.stdin.read()
    print(f"fake engine got {len(profile_text)} bytes of profile", file=sys.stderr)
    if mode in ("ready", "ignore-term"):
        return serve_until_terminated(ignore_term=mode == "ignore-term")
    if mode == "assert":
        emit("hello", engine="fake", backend="cuda", pid=0)
        print("/src/ggml-cuda/dmmv.cu:804: GGML_ASSERT: false", file=sys.stderr)
        return 134
    if mode == "error-event":
        diag = error("QL-E-VRAM", "Model does not fit", "Needs 9 GiB, the GPU has 4 GiB.")
        emit("error", diagnostic=diag.to_dict())
        return 1
    if mode == "wrong-protocol":  # an engine from another release: every event has "v": 999
        for kind, fields in (("hello", {"engine": "future", "backend": "cpu", "pid": 0}),
                             ("progress", {"stage": "loading", "done": 1, "total": 1})):
            sys.stdout.write(json.dumps({"v": 999, "event": kind, **fields}) + "\n")
            sys.stdout.flush()
        return 0
    if mode == "clean-exit":
        emit("stopped", reason="done", exit_code=0)
        return 0
    print(f"unknown mode {mode}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
