"""The planner: kernel path per device, layer split, memory fit and diagnostics. GPU-free."""

from engine.plan.catalogue import SUPPORTED_ARCHITECTURES
from engine.plan.memory import MemoryPolicy
from engine.plan.planner import kernel_path, plan
from engine.plan.types import DevicePlan, MemoryEstimate, Plan

__all__ = ["SUPPORTED_ARCHITECTURES", "DevicePlan", "MemoryEstimate", "MemoryPolicy", "Plan", "kernel_path", "plan"]
