"""The dependency direction of DESIGN.md §2: app never loads cupy or the engine runtime;
engine never imports PySide6 or app."""

from __future__ import annotations

import ast
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import app

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN_FOR_APP = ("cupy", "engine.model", "engine.backends", "engine.kernels", "engine.generate",
                     "engine.server", "engine.sampling", "engine.tokenizer")
FORBIDDEN_FOR_ENGINE = ("PySide6", "app", "shiboken6")


def _app_module_names() -> list[str]:
    return ["app." + info.name for info in pkgutil.iter_modules(app.__path__)]


def test_app_modules_do_not_load_engine_runtime():
    probe = (
        "import importlib, json, sys\n"
        f"for name in {_app_module_names()!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.splitlines()[-1])
    bad = [m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN_FOR_APP)]
    assert bad == []
    assert set(_app_module_names()) <= set(loaded)  # every app module really was imported


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module" and node.args:
            if isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                names.add(node.args[0].value)
    return names


def test_engine_never_imports_qt_or_app():
    offenders = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        for name in _imported_roots(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_FOR_ENGINE):
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_the_scanner_sees_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import PySide6.QtCore\nfrom app.main import main\nimport os\n")
    assert {"PySide6.QtCore", "app.main", "os"} <= _imported_roots(sample)
