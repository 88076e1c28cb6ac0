"""CUDA kernels: .cu/.cuh sources, the NVRTC loader with its disk cache, and the Python API.

``engine.kernels.api`` is the contract the runtime codes against (KernelSet, QuantWeight,
upload_weight). Importing this package does not import CuPy.
"""
