"""QuantLaunch launcher: a PySide6 window that plans, launches and supervises the engine.

Imports only PySide6, platformdirs and the engine's GPU-free modules (protocol,
diagnostics, settings, model_info, model_file, devices, plan, profiles, demo); never cupy
or the engine runtime. ``tests/test_dependency_direction.py`` enforces this.
"""

__version__ = "0.1.0"
