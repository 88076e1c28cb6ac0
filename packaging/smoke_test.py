"""Smoke test of a built bundle (run by `make bundle` and CI).

1. `quantlaunch --self-test` offscreen: imports, versions, demo model, NVRTC.
   `quantlaunch engine kernels`: the bundled NVRTC compiles kernel modules (and runs one on a GPU).
2. The bundle's own engine writes a tiny synthetic model, then serves it on the CPU backend
   until GET /health answers 200; SIGTERM stops it with a `stopped` event.
3. The .desktop launcher passes desktop-file-validate (where that tool exists).
Exit 0 when everything passed; prints one line per check.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXE = HERE.parent / "dist" / "quantlaunch" / ("quantlaunch.exe" if os.name == "nt" else "quantlaunch")


def check(name: str, ok: bool, detail: str = "") -> bool:
    print(f"[{'ok' if ok else 'FAIL'}] {name}" + (f": {detail}" if detail else ""), flush=True)
    return ok


def self_test(env: dict) -> bool:
    proc = subprocess.run([str(EXE), "--self-test"], env=env, capture_output=True, text=True, timeout=300)
    print(proc.stdout.strip())
    return check("self-test", proc.returncode == 0, proc.stderr.strip()[-500:])


def kernels_compile(env: dict) -> bool:
    """The bundled NVRTC compiles our kernel sources (no GPU needed); on a GPU it also runs one."""
    proc = subprocess.run([str(EXE), "engine", "kernels"], env=env, capture_output=True, text=True, timeout=600)
    print(proc.stdout.strip())
    return check("bundled NVRTC compiles the kernels", proc.returncode == 0, proc.stderr.strip()[-800:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_health(url: str, proc: subprocess.Popen, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return 200
        except urllib.error.HTTPError as exc:
            if exc.code != 503:
                return exc.code
        except OSError:
            pass
        time.sleep(0.5)
    return None


def engine_serves(env: dict, workdir: Path) -> bool:
    model = workdir / "tiny.gguf"
    synth = subprocess.run(
        [str(EXE), "engine", "synth", str(model), "--layers", "2", "--embd", "64", "--heads", "4",
         "--kv-heads", "2", "--ff", "128", "--vocab", "512", "--type", "Q4_0"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    if not check("engine synth", synth.returncode == 0 and model.exists(), synth.stderr.strip()[-500:]):
        return False
    port = free_port()
    proc = subprocess.Popen(
        [str(EXE), "engine", "serve", "--model", str(model), "--cpu", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        status = wait_for_health(f"http://127.0.0.1:{port}/health", proc, timeout=180)
        healthy = check("engine serve /health", status == 200, f"status {status}")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    events = [json.loads(line)["event"] for line in out.splitlines() if line.startswith("{")]
    stopped = check("engine stopped cleanly", "stopped" in events, f"events {events}; stderr {err.strip()[-300:]}")
    return healthy and stopped


def desktop_file_valid() -> bool:
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        print("[skip] desktop-file-validate not installed")
        return True
    proc = subprocess.run([tool, str(HERE / "quantlaunch.desktop")], capture_output=True, text=True)
    return check("desktop file", proc.returncode == 0, (proc.stdout + proc.stderr).strip())


def main() -> int:
    if not check("bundle exists", EXE.exists(), str(EXE)):
        return 1
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    with tempfile.TemporaryDirectory() as tmp:
        env["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")
        env["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
        results = [self_test(env), kernels_compile(env), engine_serves(env, Path(tmp)), desktop_file_valid()]
    size_mb = sum(f.stat().st_size for f in EXE.parent.rglob("*") if f.is_file()) / 2**20
    print(f"bundle size: {size_mb:.0f} MiB")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
