"""Quantization front door: QDQ ONNX models for the seven precisions of ARITHMETIC.md.

``quantize(model, dtype, calib, out)`` writes fp32 (a copy), fp16 / bf16 (2-byte weights behind a
Cast) or an ONNX Runtime ``quantize_static`` QDQ model (int8, int16x8, int16, int4).
"""

from wncc.quant.quantize import DTYPES, METHODS, quantize

__all__ = ["DTYPES", "METHODS", "quantize"]
