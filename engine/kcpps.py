"""Import KoboldCpp ``.kcpps`` launcher files (JSON) into a QuantLaunch Profile.

Mapped: model / model_param, contextsize, gpulayers (-1 = automatic), port / port_param,
host, usecublas (device choice: a GPU index, or all), tensor_split (GPUs with a non-zero
share are selected, and their shares become the profile's tensor split), usecpu.
Every other key that carries a value is reported as ignored. Nothing in the file is run.
A mapped value of the wrong type or out of range is a KcppsFormatError naming the key, so an
imported profile always saves and loads back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.profile_codec import MAX_CONTEXT, MAX_DEVICE_INDEX, MAX_GPU_LAYERS
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


def _int(data: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high`` (text and whole floats accepted, as KoboldCpp may write them)."""
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():  # False for NaN and infinities
        value = int(value)
    try:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError
        number = int(value)
    except ValueError:
        raise KcppsFormatError(f"{key} must be a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise KcppsFormatError(f"{key} must be from {low} to {high}, got {number}")
    return number


def _model_path(data: dict[str, Any]) -> str:
    found = []
    for key in ("model_param", "model"):
        value = data.get(key)
        paths = value if isinstance(value, list) else [value]  # newer KoboldCpp: a list of paths
        if any(v is not None and not isinstance(v, str) for v in paths):
            raise KcppsFormatError(f"{key} must be a model file path (text), got {value!r}")
        found.extend(v for v in paths if v)
    return found[0] if found else ""


def _host(data: dict[str, Any]) -> str:
    host = data.get("host")
    if host is not None and not isinstance(host, str):
        raise KcppsFormatError(f"host must be text (an address), got {host!r}")
    return host.strip() if host and host.strip() else "127.0.0.1"


def _port(data: dict[str, Any]) -> int:
    port = _int(data, "port", KOBOLD_DEFAULT_PORT, 1, 65535)
    port_param = _int(data, "port_param", KOBOLD_DEFAULT_PORT, 1, 65535)
    return port_param if port_param != KOBOLD_DEFAULT_PORT else port  # KoboldCpp's own rule


def _cublas_index(usecublas: Any) -> int | None:
    if not isinstance(usecublas, list):
        return None
    digits = [int(v) for v in usecublas if isinstance(v, str) and v.isascii() and v.isdigit()]
    if digits and digits[0] > MAX_DEVICE_INDEX:
        raise KcppsFormatError(f"usecublas chooses GPU {digits[0]}; GPU numbers go from 0 to {MAX_DEVICE_INDEX}")
    return digits[0] if digits else None


def _split_shares(data: dict[str, Any]) -> list[float] | None:
    """The tensor_split shares per CUDA device index; None when absent or all zero."""
    split = data.get("tensor_split")
    if split is None or split == []:
        return None
    if not isinstance(split, list) or any(isinstance(v, bool) for v in split):
        raise KcppsFormatError(f"tensor_split must be a list of numbers (one per GPU), got {split!r}")
    if len(split) > MAX_DEVICE_INDEX + 1:
        raise KcppsFormatError(f"tensor_split has {len(split)} shares; at most {MAX_DEVICE_INDEX + 1} (one per GPU)")
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
    usecpu = data.get("usecpu")
    if usecpu not in (None, True, False):  # 0 and 1 compare equal to False and True
        raise KcppsFormatError(f"usecpu must be true or false, got {usecpu!r}")
    if usecpu:
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
    gpulayers = _int(data, "gpulayers", -1, -1, MAX_GPU_LAYERS)
    if data.get("usevulkan") is not None or data.get("useclblast") is not None:
        notes.append("Vulkan/CLBlast choices are read as CUDA: QuantLaunch runs NVIDIA GPUs through CUDA.")
    uses_gpu = _uses_gpu(data, gpulayers)
    if not uses_gpu:
        notes.append("No GPU backend is chosen in the file: the profile runs on the CPU.")
    host = _host(data)
    if host == "127.0.0.1" and data.get("host") != host:
        notes.append("An empty host means every network interface in KoboldCpp; QuantLaunch keeps 127.0.0.1.")
    selected, split = _selection(data, notes)
    launch = LaunchSettings(
        selected=selected,
        tensor_split=split,
        context_size=_int(data, "contextsize", 4096, 1, MAX_CONTEXT),
        gpu_layers=None if gpulayers < 0 else gpulayers,
        force_cpu=not uses_gpu,
    )
    profile = Profile(name=name, model_path=_model_path(data), launch=launch,
                      server=ServerSettings(host=host, port=_port(data)))
    return KcppsImport(profile, _ignored(data), tuple(notes))
