"""QDQ graphs: QuantizeLinear / DequantizeLinear pairs folded into integer tensors.

* DequantizeLinear of an initializer is a quantized constant: its integers, scales, zero points
  and axis are kept (``qconsts``) beside the dequantized float value.
* QuantizeLinear of an op's float output (used by nothing else) makes that output an integer
  tensor: the op computes in integers and requantizes to these parameters. QuantizeLinear of a
  graph input or of a view inserts a ``quantize`` op; of an already quantized tensor with other
  parameters, a ``requantize`` op. A QuantizeLinear that stands in for a removed Relu keeps its
  clamp because the output range of its zero point is the clamp.
* DequantizeLinear of an integer tensor is the same tensor seen as real values.
* uint8 (activations, ONNX Runtime's QUInt8, and weights) is read as int8: q - 128 with zero
  point zp - 128, here at import, so every later pass sees int8 only. The shift is exact:
  clamp(round(x/s) + zp, 0, 255) - 128 == clamp(round(x/s) + zp - 128, -128, 127), and
  s * (q - zp) is unchanged. Symmetric uint8 weights (zero point 128) become int8 weights with
  zero point 0 and range -128..127 (the integer kernels widen before they multiply).

ONNX (opset 21+) and com.microsoft Q/DQ are both accepted.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import onnx

from wncc.ir import VIEW_OPS, QuantParams

ACT_TYPES = {np.dtype(np.int8): "i8", np.dtype(np.int16): "i16"}


@dataclasses.dataclass(frozen=True)
class QConst:
    q: np.ndarray  # integers
    scale: np.ndarray
    zero_point: np.ndarray
    axis: int


def _signed(values: np.ndarray) -> np.ndarray:
    """uint8 quantized values or zero points as int8 (q - 128, see the module doc)."""
    if values.dtype != np.uint8:
        return values
    return (values.astype(np.int16) - 128).astype(np.int8)


def _attr(node: onnx.NodeProto, name: str, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


class QdqMixin:
    """Q/DQ handling of the ONNX importer (see frontend/onnx.py)."""

    def fold_dequantize_const(self, node: onnx.NodeProto) -> None:
        q = np.asarray(self.consts[node.input[0]])
        scale = np.asarray(self.consts[node.input[1]], np.float32)
        zp = _signed(np.asarray(self.consts[node.input[2]]) if len(node.input) > 2 and node.input[2]
                     else np.zeros(scale.shape, q.dtype))
        q = _signed(q)
        if q.dtype.name in ("int4", "uint4"):  # ml_dtypes 4-bit values
            q = q.astype(np.int8 if q.dtype.name == "int4" else np.uint8)
        axis = int(_attr(node, "axis", 1))
        if q.dtype.kind not in "iu":
            raise self.error(f"DequantizeLinear of a {q.dtype} constant", node)
        shape = [1] * q.ndim
        if scale.size > 1:
            axis %= q.ndim
            shape[axis] = scale.size
        real = ((q.astype(np.int64) - zp.astype(np.int64).reshape(shape if zp.size > 1 else ()))
                .astype(np.float32) * scale.reshape(shape if scale.size > 1 else ()))
        self.qconsts[node.output[0]] = QConst(q.astype(np.int64), scale, zp.astype(np.int64),
                                              axis if scale.size > 1 else -1)
        self.consts[node.output[0]] = real.astype(np.float32)

    def _act_params(self, node: onnx.NodeProto) -> tuple[QuantParams, str]:
        scale = self.const(node.input[1], node, "quantization scale")
        if len(node.input) < 3 or not node.input[2]:
            raise self.error("QuantizeLinear without a zero point (its type sets the integer "
                             "type)", node)
        zp = _signed(self.const(node.input[2], node, "zero point"))
        if scale.size != 1 or zp.size != 1:
            raise self.error("per-channel activation quantization is not supported", node)
        dtype = ACT_TYPES.get(zp.dtype)
        if dtype is None:
            raise self.error(f"{zp.dtype} activations are not supported (use int8, uint8 or "
                             "int16)", node)
        if not float(scale.reshape(())) > 0:
            raise self.error(f"quantization scale {float(scale.reshape(()))} is not positive",
                             node)
        return QuantParams(float(scale.reshape(())), int(zp.reshape(()))), dtype

    def op_QuantizeLinear(self, node: onnx.NodeProto) -> None:
        v = self.value(node.input[0], node)
        quant, dtype = self._act_params(node)
        tensor = self.tensors[v.tensor]
        producer = next((n for n in reversed(self.nodes) if v.tensor in n.outputs), None)
        only_quantized = all(c.op_type == "QuantizeLinear" for c in self.onnx_consumers[node.input[0]])
        if tensor.quant is None and tensor.dtype == "f32" and producer is not None \
                and producer.op not in VIEW_OPS and only_quantized:
            tensor.quant, tensor.dtype = quant, dtype
            self.values[node.output[0]] = v
        elif tensor.quant == quant and tensor.dtype == dtype:
            self.values[node.output[0]] = v
        else:
            op = "quantize" if tensor.quant is None else "requantize"
            out = self.add(op, node, [v.tensor], node.output[0], v.layout, v.timebase)
            self.tensors[out].quant, self.tensors[out].dtype = quant, dtype

    def op_DequantizeLinear(self, node: onnx.NodeProto) -> None:
        v = self.value(node.input[0], node)
        tensor = self.tensors[v.tensor]
        if tensor.quant is None:
            raise self.error("DequantizeLinear of a tensor that is not quantized", node)
        quant, dtype = self._act_params(node)
        if quant != tensor.quant or dtype != tensor.dtype:
            raise self.error("DequantizeLinear parameters differ from its QuantizeLinear's", node)
        self.values[node.output[0]] = v

    def quantized_weights(self, node: onnx.NodeProto, weight: str, bias: str | None,
                          channel_axis: int) -> dict[str, np.ndarray]:
        """Integer weights (and bias) of a conv whose inputs are dequantized initializers."""
        out: dict[str, np.ndarray] = {}
        wq = self.qconsts.get(weight)
        if wq is None:
            return out
        stray = wq.zero_point[wq.zero_point != 0]
        if stray.size:
            raise self.error("weights must be quantized symmetrically (zero point 0; 128 for "
                             f"uint8), found zero points {_listed(stray)}", node)
        channels = wq.q.shape[channel_axis]
        if wq.scale.size not in (1, channels) or (wq.scale.size > 1 and wq.axis != channel_axis):
            raise self.error("weight scales must be per tensor or per output channel", node)
        out["wq"] = wq.q
        out["w_scale"] = np.broadcast_to(wq.scale.reshape(-1), (channels,)).astype(np.float64)
        out["w_bits"] = np.array(_bits(self.initializer_types.get(_source(self, weight)), wq.q))
        bq = self.qconsts.get(bias) if bias else None
        if bq is not None:
            if np.any(bq.zero_point != 0):
                raise self.error("bias must have zero point 0", node)
            out["bq"] = bq.q.reshape(-1)
            out["b_scale"] = np.broadcast_to(bq.scale.reshape(-1), (channels,)).astype(np.float64)
        return out


def _listed(values: np.ndarray, most: int = 4) -> str:
    """A few values of an array for a message ('-18, 3, ...' where there are more)."""
    flat = values.reshape(-1)
    return ", ".join(str(int(v)) for v in flat[:most]) + (", ..." if flat.size > most else "")


def _source(importer, name: str) -> str:
    return importer.dq_source.get(name, name)


def _bits(elem_type: int | None, q: np.ndarray) -> int:
    if elem_type in (onnx.TensorProto.INT4, onnx.TensorProto.UINT4):
        return 4
    if elem_type in (onnx.TensorProto.INT16, onnx.TensorProto.UINT16):
        return 16
    if elem_type in (onnx.TensorProto.INT8, onnx.TensorProto.UINT8):
        return 8
    lo, hi = int(q.min(initial=0)), int(q.max(initial=0))
    return 8 if -128 <= lo and hi <= 127 else 16
