"""wncc: compile WaveNet vocoders (ONNX) to standalone, verified C."""

__version__ = "0.1.0"
