"""Profile <-> JSON document, with every field validated (the message names the field).

Document shape (schema_version 1)::

    {"schema_version": 1, "name": "...", "model_path": "...",
     "launch": {"selected": null | [{"uuid", "name", "index"}], "excluded": [...],
                "exclude_legacy": false, "kernel": "auto", "device_kernels": {"GPU-…": "dmmv"},
                "context_size": 4096, "gpu_layers": null, "force_cpu": false,
                "tensor_split": []},  # optional: share per selected GPU; [] = by free memory
     "server": {"host": "127.0.0.1", "port": 5001, "api_key": ""},
     "sampler": {"max_length": 200, "temperature": 0.7, ...}}

Missing sections or fields take their defaults; unknown keys are ignored.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from engine.settings import (
    KERNEL_CHOICES,
    DeviceRef,
    LaunchSettings,
    Profile,
    SamplerDefaults,
    ServerSettings,
    tensor_split_problem,
)

SCHEMA_VERSION = 1
MAX_CONTEXT = 1 << 21
MAX_GPU_LAYERS = 100_000
MAX_DEVICE_INDEX = 1023


class FieldError(ValueError):
    """One invalid field: ``field`` is its dotted path, e.g. "launch.context_size"."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


def _ref_to_dict(ref: DeviceRef) -> dict[str, Any]:
    return {"uuid": ref.uuid, "name": ref.name, "index": ref.index}


def profile_to_dict(profile: Profile) -> dict[str, Any]:
    launch = profile.launch
    return {
        "schema_version": SCHEMA_VERSION,
        "name": profile.name,
        "model_path": profile.model_path,
        "launch": {
            "selected": None if launch.selected is None else [_ref_to_dict(r) for r in launch.selected],
            "excluded": [_ref_to_dict(r) for r in launch.excluded],
            "exclude_legacy": launch.exclude_legacy,
            "kernel": launch.kernel,
            "device_kernels": dict(launch.device_kernels),
            "context_size": launch.context_size,
            "gpu_layers": launch.gpu_layers,
            "force_cpu": launch.force_cpu,
            "tensor_split": list(launch.tensor_split),
        },
        "server": asdict(profile.server),
        "sampler": asdict(profile.sampler),
    }


def _int(where: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(where, f"must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise FieldError(where, f"must be from {low} to {high}, got {value}")
    return value


def _float(where: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(where, f"must be a number, got {value!r}")
    if not low <= value <= high:
        raise FieldError(where, f"must be from {low} to {high}, got {value}")
    return float(value)


def _str(where: str, value: Any, allow_empty: bool = True) -> str:
    if not isinstance(value, str) or (not allow_empty and not value):
        raise FieldError(where, f"must be {'text' if allow_empty else 'non-empty text'}, got {value!r}")
    return value


def _bool(where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise FieldError(where, f"must be true or false, got {value!r}")
    return value


def _section(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise FieldError(key, f"must be an object, got {type(value).__name__}")
    return value


def _ref(where: str, value: Any) -> DeviceRef:
    if not isinstance(value, dict):
        raise FieldError(where, f"must be an object with uuid/name/index, got {value!r}")
    ref = DeviceRef(
        uuid=_str(f"{where}.uuid", value.get("uuid", "")),
        name=_str(f"{where}.name", value.get("name", "")),
        index=_int(f"{where}.index", value.get("index", -1), -1, MAX_DEVICE_INDEX),
    )
    if not (ref.uuid or ref.name or ref.index >= 0):
        raise FieldError(where, "needs a uuid, a name or an index")
    return ref


def _refs(where: str, value: Any) -> tuple[DeviceRef, ...]:
    if not isinstance(value, list):
        raise FieldError(where, f"must be a list of devices, got {value!r}")
    return tuple(_ref(f"{where}[{i}]", item) for i, item in enumerate(value))


def _choice(where: str, value: Any) -> str:
    if value not in KERNEL_CHOICES:
        raise FieldError(where, f"must be one of {', '.join(KERNEL_CHOICES)}, got {value!r}")
    return value


def _device_kernels(where: str, value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise FieldError(where, f"must be an object mapping a GPU UUID to a kernel, got {value!r}")
    return tuple((_str(where, uuid, False), _choice(f"{where}.{uuid}", path)) for uuid, path in sorted(value.items()))


def _tensor_split(where: str, value: Any) -> tuple[float, ...]:
    if not isinstance(value, list):
        raise FieldError(where, f"must be a list of numbers (one share per selected GPU), got {value!r}")
    problem = tensor_split_problem(tuple(value))
    if problem:
        raise FieldError(where, problem)
    return tuple(float(share) for share in value)


def _launch(data: dict[str, Any]) -> LaunchSettings:
    d, default = _section(data, "launch"), LaunchSettings()
    selected = d.get("selected")
    layers = d.get("gpu_layers")
    return LaunchSettings(
        selected=None if selected is None else _refs("launch.selected", selected),
        excluded=_refs("launch.excluded", d.get("excluded", [])),
        exclude_legacy=_bool("launch.exclude_legacy", d.get("exclude_legacy", default.exclude_legacy)),
        kernel=_choice("launch.kernel", d.get("kernel", default.kernel)),
        device_kernels=_device_kernels("launch.device_kernels", d.get("device_kernels", {})),
        context_size=_int("launch.context_size", d.get("context_size", default.context_size), 1, MAX_CONTEXT),
        gpu_layers=None if layers is None else _int("launch.gpu_layers", layers, 0, MAX_GPU_LAYERS),
        force_cpu=_bool("launch.force_cpu", d.get("force_cpu", default.force_cpu)),
        tensor_split=_tensor_split("launch.tensor_split", d.get("tensor_split", [])),
    )


def _server(data: dict[str, Any]) -> ServerSettings:
    d, default = _section(data, "server"), ServerSettings()
    return ServerSettings(
        host=_str("server.host", d.get("host", default.host), allow_empty=False),
        port=_int("server.port", d.get("port", default.port), 1, 65535),
        api_key=_str("server.api_key", d.get("api_key", default.api_key)),
    )


_SAMPLER_RANGES = {  # field -> (low, high); int fields stay whole numbers
    "max_length": (1, 1_000_000), "temperature": (0.0, 100.0), "top_k": (0, 1_000_000), "top_p": (0.0, 1.0),
    "min_p": (0.0, 1.0), "typical": (0.0, 1.0), "rep_pen": (0.0, 100.0), "rep_pen_range": (0, 1_000_000),
    "seed": (-1, 2**63 - 1),
}


def _sampler(data: dict[str, Any]) -> SamplerDefaults:
    d, default = _section(data, "sampler"), SamplerDefaults()
    values = {}
    for f in fields(SamplerDefaults):
        low, high = _SAMPLER_RANGES[f.name]
        value = d.get(f.name, getattr(default, f.name))
        check = _int if isinstance(getattr(default, f.name), int) else _float
        values[f.name] = check(f"sampler.{f.name}", value, low, high)
    return SamplerDefaults(**values)


def profile_from_dict(data: Any, name: str | None = None) -> Profile:
    """Validate and build a Profile (FieldError naming the field; the version is checked by the caller)."""
    if not isinstance(data, dict):
        raise FieldError("(document)", "must be a JSON object")
    return Profile(
        name=name if name is not None else _str("name", data.get("name", "default"), allow_empty=False),
        model_path=_str("model_path", data.get("model_path", "")),
        launch=_launch(data),
        server=_server(data),
        sampler=_sampler(data),
    )
