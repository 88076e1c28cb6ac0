"""Import KoboldCpp ``.kcpps`` launcher files (JSON) into a QuantLaunch Profile.

Mapped: model / model_param, contextsize, gpulayers (-1 = automatic), port / port_param,
host, usecublas (device choice: a GPU index, or all), tensor_split (GPUs with a non-zero
share are selected, and their shares become the profile's tensor split), usecpu.
Every other key that carries a value is reported as ignored. Nothing in the file is run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.settings import DeviceRef, LaunchSettings, Profile, ServerSettings, tensor_split_problem

KOBOLD_DEFAULT_PORT = 5001
MAPPED_KEYS = frozenset(
    {"model", "model_param", "contextsize", "gpulayers", "port", "port_param", "host", "usecublas", "tensor_split",
     "usecpu", "usevulkan", "useclblast"}
)


@dataclass(frozen=True)
class KcppsImport:
    profile: Profile
    ignored_keys: tuple[str, ...]  # keys with a value that QuantLaunch does not use
    notes: tuple[str, ...]  # how ambiguous values were read


class KcppsFormatError(ValueError):
    """A .kcpps value of the wrong kind; the message names the key."""


def looks_like_kcpps(data: Any) -> bool:
    return isinstance(data, dict) and "schema_version" not in data and bool({"model_param", "contextsize", "usecublas"} & set(data))


def _int(data: dict[str, Any], key: str, default: int) -> int:
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise KcppsFormatError(f"{key} must be a whole number, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise KcppsFormatError(f"{key} must be a whole number, got {value!r}") from None


def _model_path(data: dict[str, Any]) -> str:
    for key in ("model_param", "model"):
        value = data.get(key)
        if isinstance(value, list):  # newer KoboldCpp: a list of paths
            value = next((v for v in value if v), None)
        if isinstance(value, str) and value:
            return value
    return ""


def _port(data: dict[str, Any]) -> int:
    port = _int(data, "port", KOBOLD_DEFAULT_PORT)
    port_param = _int(data, "port_param", KOBOLD_DEFAULT_PORT)
    return port_param if port_param != KOBOLD_DEFAULT_PORT else port  # KoboldCpp's own rule


def _cublas_index(usecublas: Any) -> int | None:
    if not isinstance(usecublas, list):
        return None
    digits = [int(v) for v in usecublas if isinstance(v, str) and v.isdigit()]
    return digits[0] if digits else None


def _split_shares(data: dict[str, Any]) -> list[float] | None:
    """The tensor_split shares per CUDA device index; None when absent or all zero."""
    split = data.get("tensor_split")
    if not isinstance(split, list) or not split:
        return None
    try:
        shares = [float(v) for v in split]
    except (TypeError, ValueError):
        raise KcppsFormatError(f"tensor_split must be a list of numbers, got {split!r}") from None
    problem = tensor_split_problem(tuple(shares))
    if problem and any(shares):
        raise KcppsFormatError(f"tensor_split: {problem} (got {split!r})")
    return shares if any(shares) else None


def _selection(data: dict[str, Any], notes: list[str]) -> tuple[tuple[DeviceRef, ...] | None, tuple[float, ...]]:
    """(selected devices, tensor split): GPUs with a non-zero share, in index order, with their shares."""
    shares = _split_shares(data)
    if shares is not None:
        chosen = [(i, share) for i, share in enumerate(shares) if share > 0]
        return tuple(DeviceRef(uuid="", index=i) for i, _ in chosen), tuple(share for _, share in chosen)
    index = _cublas_index(data.get("usecublas"))
    if index is not None:
        notes.append(f"usecublas chooses GPU {index}: matched by index on this machine.")
        return (DeviceRef(uuid="", index=index),), ()
    return None, ()


def _uses_gpu(data: dict[str, Any], gpu_layers: int) -> bool:
    if data.get("usecpu"):
        return False
    backends = (data.get("usecublas"), data.get("usevulkan"), data.get("useclblast"))
    return any(b is not None and b is not False for b in backends) or gpu_layers != 0


def _ignored(data: dict[str, Any]) -> tuple[str, ...]:
    unused = (k for k, v in data.items() if k not in MAPPED_KEYS and v not in (None, False, "", []))
    return tuple(sorted(unused))


def profile_from_kcpps(data: Any, name: str) -> KcppsImport:
    """Map a parsed .kcpps document to a Profile named ``name`` (KcppsFormatError on bad values)."""
    if not isinstance(data, dict):
        raise KcppsFormatError("a .kcpps file must hold a JSON object")
    notes: list[str] = []
    gpulayers = _int(data, "gpulayers", -1)
    if data.get("usevulkan") is not None or data.get("useclblast") is not None:
        notes.append("Vulkan/CLBlast choices are read as CUDA: QuantLaunch runs NVIDIA GPUs through CUDA.")
    uses_gpu = _uses_gpu(data, gpulayers)
    if not uses_gpu:
        notes.append("No GPU backend is chosen in the file: the profile runs on the CPU.")
    host = data.get("host") if isinstance(data.get("host"), str) and data.get("host") else "127.0.0.1"
    if not data.get("host"):
        notes.append("An empty host means every network interface in KoboldCpp; QuantLaunch keeps 127.0.0.1.")
    selected, split = _selection(data, notes)
    launch = LaunchSettings(
        selected=selected,
        tensor_split=split,
        context_size=_int(data, "contextsize", 4096),
        gpu_layers=None if gpulayers < 0 else gpulayers,
        force_cpu=not uses_gpu,
    )
    profile = Profile(name=name, model_path=_model_path(data), launch=launch,
                      server=ServerSettings(host=host, port=_port(data)))
    return KcppsImport(profile, _ignored(data), tuple(notes))
