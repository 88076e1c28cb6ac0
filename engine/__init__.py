"""QuantLaunch engine: GGUF inspection, planning, kernels, inference and the HTTP service.

Never imports Qt. The launcher (``app``) may import only the GPU-free modules of this
package (model inspection, devices, planner, profiles, protocol).
"""

__version__ = "0.1.0"
