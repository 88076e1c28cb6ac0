"""Which global loads does each kernel issue before its griddepcontrol.wait? (sm_90 SASS)

With programmatic dependent launch a kernel may run its start while the kernel before it still
writes; only immutable data (weights, lookup tables) may be loaded before the wait. ptxas may
move an ld.global.nc (a `const __restrict__` load it takes as read-only) above the wait: it did
with the layer ops' step position (fifteenth 2026-12-07 session, fixed by ql_step_pos). This
compiles the layer-ops module and every mat-vec module (mmvq, dmmv) for sm_90 with the NVRTC
given, disassembles each with nvdisasm, and prints, per module, the kinds of global load found
before the first ACQBULK (griddepcontrol.wait) and how many kernels have them; for the layer ops,
each kernel that has any. Expected: LDGSTS (weights, cp.async), LDG.E in the IQ modules (their
lookup tables) and LDG.E.STRONG.SYS in the split attention (its prefetch guess), nothing else.

    python bench/experiments/2026-12-07-fifteenth-prewait-audit.py LIBNVRTC NVDISASM
(LIBNVRTC: e.g. .venv/.../nvidia/cuda_nvrtc/lib/libnvrtc.so.12; NVDISASM: from the
nvidia-cuda-nvdisasm wheel. No GPU needed.) tests/kernels/test_pdl_prewait_sass.py checks the
same on every test run, with CuPy's NVRTC and the one-column and two-column kernels.
"""

from __future__ import annotations

import ctypes
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "kernels")]  # the repository, sass_loads.py

from sass_loads import loads_before_wait  # noqa: E402

from engine.backends.cuda import layer_module_source  # noqa: E402
from engine.kernels.build import CompileTarget, compile_options  # noqa: E402
from engine.kernels.sources import FAMILY_HEADERS, ModuleSpec, header_files, module_source  # noqa: E402

ARCH = 90


def compile_cubin(lib: ctypes.CDLL, source: str, headers: dict[str, str], options: list[str]) -> bytes:
    """NVRTC through its C API: a library other than CuPy's (e.g. NVRTC 13 beside CuPy's 12)."""
    prog, names = ctypes.c_void_p(), list(headers)
    texts = (ctypes.c_char_p * max(1, len(names)))(*[headers[n].encode() for n in names])
    keys = (ctypes.c_char_p * max(1, len(names)))(*[n.encode() for n in names])
    if lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), b"m.cu", len(names), texts, keys):
        raise RuntimeError("nvrtcCreateProgram failed")
    opts = (ctypes.c_char_p * len(options))(*[o.encode() for o in options])
    if lib.nvrtcCompileProgram(prog, len(options), opts):
        raise RuntimeError(f"compile failed: {options}")
    size = ctypes.c_size_t()
    lib.nvrtcGetCUBINSize(prog, ctypes.byref(size))
    buf = ctypes.create_string_buffer(size.value)
    lib.nvrtcGetCUBIN(prog, buf)
    lib.nvrtcDestroyProgram(ctypes.byref(prog))
    return buf.raw


def main() -> None:
    lib, nvdisasm = ctypes.CDLL(sys.argv[1]), sys.argv[2]
    layer = loads_before_wait(nvdisasm, compile_cubin(lib, layer_module_source(), {}, ["-std=c++17", f"-arch=sm_{ARCH}"]))
    for name, ops in layer.items():
        if ops:
            print(f"layer ops: {name}: {', '.join(ops)}")
    modules = {"layer ops": layer}
    for family in FAMILY_HEADERS:
        for kind in ("mmvq", "dmmv"):
            try:
                spec = ModuleSpec(family, kind)
            except ValueError:
                continue
            source, options = module_source(spec), list(compile_options(spec, CompileTarget(ARCH)))
            modules[f"{family} {kind}"] = loads_before_wait(nvdisasm, compile_cubin(lib, source, header_files(), options))
    for module, kernels in modules.items():
        kinds = Counter("no wait" if ops is None else (", ".join(ops) or "none") for ops in kernels.values())
        print(f"{module}: " + "; ".join(f"{n} kernels: {k}" for k, n in sorted(kinds.items())))


if __name__ == "__main__":
    main()
