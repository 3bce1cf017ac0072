"""fp16 / bf16 converter: 2-byte weights in the file, float32 arithmetic in the graph.

Every float32 initializer that is a weight (Conv / ConvTranspose weight and bias, Gather data,
MatMul / Gemm operands) is stored as FLOAT16 or BFLOAT16 (numpy / ml_dtypes conversions round to
nearest even) under the name ``<name>_fp16`` / ``<name>_bf16``, and one ``Cast(to=FLOAT)`` node
at the top of the graph produces the original name, so every consumer is untouched. Other
initializers (Resize scales, scalar Mul constants) stay float32. ONNX Runtime's CPU provider runs
Cast from both FLOAT16 and BFLOAT16.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from wncc.errors import WnccError

# op type -> input positions that hold weights
WEIGHT_INPUTS = {"Conv": (1, 2), "ConvTranspose": (1, 2), "Gather": (0,), "MatMul": (0, 1),
                 "Gemm": (0, 1, 2)}
FLOAT_TYPES = {"fp16": TensorProto.FLOAT16, "bf16": TensorProto.BFLOAT16}


def weight_names(model: onnx.ModelProto) -> list[str]:
    """Float32 initializers used as weights, in initializer order."""
    inits = {i.name: i for i in model.graph.initializer}
    used: set[str] = set()
    for node in model.graph.node:
        for pos in WEIGHT_INPUTS.get(node.op_type, ()):
            if pos < len(node.input) and node.input[pos] in inits:
                used.add(node.input[pos])
    return [i.name for i in model.graph.initializer
            if i.name in used and i.data_type == TensorProto.FLOAT]


def to_half(array: np.ndarray, dtype: str) -> np.ndarray:
    """float32 -> float16 / bfloat16, round to nearest even (overflow is an error)."""
    if dtype == "fp16":
        with np.errstate(over="ignore"):
            out = array.astype(np.float16)
    elif dtype == "bf16":
        import ml_dtypes
        out = array.astype(ml_dtypes.bfloat16)
    else:
        raise WnccError(f"unknown float dtype '{dtype}' (fp16, bf16)")
    if not np.isfinite(out.astype(np.float32)).all() and np.isfinite(array).all():
        raise WnccError(f"a weight overflows {dtype} (max |w| = {np.abs(array).max():g})")
    return out


def convert(model: onnx.ModelProto, dtype: str) -> onnx.ModelProto:
    """A copy of ``model`` whose weights are stored as ``dtype`` (fp16 or bf16) behind a Cast."""
    if dtype not in FLOAT_TYPES:
        raise WnccError(f"unknown float dtype '{dtype}' (fp16, bf16)")
    out = onnx.ModelProto()
    out.CopyFrom(model)
    names = set(weight_names(out))
    if not names:
        raise WnccError("the model has no float32 weights to convert")
    casts = []
    for init in out.graph.initializer:
        if init.name not in names:
            continue
        half = to_half(numpy_helper.to_array(init), dtype)
        stored = f"{init.name}_{dtype}"
        new = numpy_helper.from_array(half, stored)
        if new.data_type != FLOAT_TYPES[dtype]:  # old onnx without ml_dtypes support
            raise WnccError(f"this onnx version cannot store {dtype} tensors")
        original = init.name
        init.CopyFrom(new)
        casts.append(helper.make_node("Cast", [stored], [original], name=f"{original}_cast",
                                      to=TensorProto.FLOAT))
    kept = [i for i in out.graph.input if i.name not in names]  # old IR: initializers as inputs
    if len(kept) != len(out.graph.input):
        del out.graph.input[:]
        out.graph.input.extend(kept)
    nodes = casts + list(out.graph.node)
    del out.graph.node[:]
    out.graph.node.extend(nodes)
    # value_info entries for the original names are still valid (the Cast outputs float32)
    return out
