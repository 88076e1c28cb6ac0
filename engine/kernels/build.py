"""The one kernel loader: NVRTC compile (through cupy.cuda.nvrtc, no driver needed) with a
disk cache keyed by sources + options + NVRTC version, then RawModule(path=...) on a GPU.

Compiling needs no GPU (CI compiles every module for every supported arch); loading does.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from engine.diagnostics import DiagnosticError, error
from engine.kernels.sources import ModuleSpec, header_files, module_source

SUPPORTED_ARCHS = (52, 61, 70, 75, 80, 86, 89, 90)  # CI compiles for each (CUDA 12 NVRTC)
DP4A_MIN_ARCH = 61


@dataclass(frozen=True)
class CompileTarget:
    arch: int  # compute capability as major*10+minor, e.g. 61, 90
    soft_dp4a: bool = False  # -DQL_SOFT_DP4A (implied below sm_61 by common.cuh)


def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_path("quantlaunch")) / "kernels"


def nvrtc_version() -> tuple[int, int]:
    from cupy.cuda import nvrtc

    return tuple(nvrtc.getVersion())


def compile_options(spec: ModuleSpec, target: CompileTarget) -> tuple[str, ...]:
    options = [f"-arch=sm_{target.arch}", "-std=c++17"]
    if spec.kind == "mmvq" and (spec.soft_dp4a or target.soft_dp4a):
        options.append("-DQL_SOFT_DP4A")
    return tuple(options)


def cache_key(source: str, headers: dict[str, str], options: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for part in (source, *(f"{name}\0{text}" for name, text in sorted(headers.items())), *options):
        digest.update(part.encode())
        digest.update(b"\0\1")
    digest.update(repr(nvrtc_version()).encode())
    return digest.hexdigest()[:32]


def compile_cubin(source: str, headers: dict[str, str], options: tuple[str, ...], name: str) -> bytes:
    """NVRTC source -> CUBIN bytes; a compile error becomes a DiagnosticError with the log."""
    from cupy.cuda import nvrtc

    prog = nvrtc.createProgram(
        source, f"{name}.cu", [text.encode() for text in headers.values()], [n.encode() for n in headers]
    )
    try:
        try:
            nvrtc.compileProgram(prog, list(options))
        except nvrtc.NVRTCError as exc:
            log = nvrtc.getProgramLog(prog)
            raise DiagnosticError(
                error(
                    "QL-E-KERNEL-COMPILE",
                    f"Kernel module {name} did not compile",
                    "NVRTC rejected the kernel sources. This is a bug in QuantLaunch or an NVRTC "
                    "that does not support this GPU's architecture; the log is in the technical details.",
                    options=list(options),
                    log=log[-4000:],
                    error=str(exc),
                )
            ) from None
        return nvrtc.getCUBIN(prog)
    finally:
        nvrtc.destroyProgram(prog)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def module_name(spec: ModuleSpec, target: CompileTarget) -> str:
    soft = "-soft" if "-DQL_SOFT_DP4A" in compile_options(spec, target) else ""
    return f"{spec.family}-{spec.kind}{soft}-sm{target.arch}"


def cached_cubin(spec: ModuleSpec, target: CompileTarget, cache_dir: Path | None = None) -> tuple[Path, bool]:
    """Path of the module's CUBIN, compiling only when no cached one matches; (path, compiled)."""
    source = module_source(spec)
    headers = header_files()
    options = compile_options(spec, target)
    name = module_name(spec, target)
    path = Path(cache_dir or default_cache_dir()) / f"{name}-{cache_key(source, headers, options)}.cubin"
    if path.is_file() and path.stat().st_size > 0:
        return path, False
    _write_atomically(path, compile_cubin(source, headers, options, name))
    return path, True


def check_ptx(spec: ModuleSpec, target: CompileTarget) -> int:
    """Compile one module to PTX for the virtual arch ``compute_<arch>`` (front end and
    code generation, without the SASS assembler); returns the PTX size. Used by CI to prove
    every source compiles for every supported arch at half the cost of full CUBINs."""
    from cupy.cuda import nvrtc

    options = tuple(o.replace("-arch=sm_", "-arch=compute_") for o in compile_options(spec, target))
    name = module_name(spec, target)
    prog = nvrtc.createProgram(module_source(spec), f"{name}.cu",
                               [t.encode() for t in header_files().values()], [n.encode() for n in header_files()])
    try:
        try:
            nvrtc.compileProgram(prog, list(options))
        except nvrtc.NVRTCError as exc:
            raise RuntimeError(f"{name}: {exc}\n{nvrtc.getProgramLog(prog)[-4000:]}") from None
        return len(nvrtc.getPTX(prog))
    finally:
        nvrtc.destroyProgram(prog)


def _check_ptx_job(job: tuple[ModuleSpec, CompileTarget]) -> tuple[str, int]:
    spec, target = job
    return module_name(spec, target), check_ptx(spec, target)


def check_ptx_all(specs: list[ModuleSpec], target: CompileTarget, workers: int | None = None) -> list[tuple[str, int]]:
    """check_ptx for several modules in parallel spawn processes (NVRTC holds the GIL)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    jobs = [(spec, target) for spec in specs]
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(_check_ptx_job, jobs))


def _compile_one(job: tuple[ModuleSpec, CompileTarget, str]) -> tuple[str, bool]:
    spec, target, cache_dir = job
    path, compiled = cached_cubin(spec, target, Path(cache_dir))
    return str(path), compiled


def precompile(specs: list[ModuleSpec], target: CompileTarget, cache_dir: Path | None = None,
               workers: int | None = None) -> list[tuple[str, bool]]:
    """Fill the cache for several modules, in parallel processes (NVRTC holds the GIL). If a
    worker dies (out of memory, say), the modules are compiled here one by one instead: those
    the workers finished come from the cache."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    jobs = [(spec, target, str(cache_dir or default_cache_dir())) for spec in specs]
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    if workers > 1:
        try:
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
                return list(pool.map(_compile_one, jobs))
        except BrokenProcessPool:
            pass
    return [_compile_one(job) for job in jobs]
