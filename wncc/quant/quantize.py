"""``quantize(model, dtype, calib, out)``: QDQ ONNX models for the seven precisions.

* fp32: a byte copy (after checking the file is an ONNX model).
* fp16, bf16: ``wncc.quant.floats.convert`` (2-byte weights behind a Cast, float32 graph).
* int8, int16x8, int16, int4: ONNX Runtime ``quantize_static`` in QDQ format, per-channel
  symmetric weights (Conv weights along axis 0, the output channel), calibrated on crops of real
  (x, mel) pairs (``wncc.quant.calibration``):

  ========  ===============  ============================  ====================
  dtype     weights          activations                   ORT QuantType (w / a)
  ========  ===============  ============================  ====================
  int8      int8 symm. -127..127   int8 asymmetric (zp)    QInt8 / QInt8
  int16x8   int8 symm. -127..127   int16 symm. (zp 0)      QInt8 / QInt16
  int16     int16 symm. ±32767     int16 symm. (zp 0)      QInt16 / QInt16
  int4      int4 symm. -7..7       int8 asymmetric (zp)    QInt4 / QInt8
  ========  ===============  ============================  ====================

  The model is first converted to opset 21 (if older) so QuantizeLinear / DequantizeLinear of
  every type, int4 and int16 included, are standard ONNX ops (no com.microsoft domain). ORT's
  symmetric int4 range is -8..7 (scale = max|w| / 7.5); ARITHMETIC.md asks for -7..7, so the
  symmetric INT4 range is set to (-7, 7) for the duration of the call (scale = max|w| / 7).
  Biases are int32 (ORT's choice for every activation type; ARITHMETIC.md's int64 bias for 16-bit
  activations is for the compiler to derive). The embedding table (Gather data) is quantized per
  tensor with the activation type, as ORT does for Gather. With asymmetric activations ORT drops
  the Relu nodes (the following QuantizeLinear, zero point -128, does the clamp).

Other flows' formats, for int8 (models as other tools write them, which the compiler reads too):
``activation_type="QUInt8"`` (asymmetric uint8 activations, the default of older ONNX Runtime
releases) and ``weight_type="QUInt8"`` (symmetric uint8 weights, zero point 128), and
``quant_format="qoperator"`` (ONNX Runtime's QOperator format: QLinearConv, com.microsoft
QLinearAdd / QLinearMul / QLinearSigmoid, ... instead of Q/DQ pairs around float ops).

Per-layer precision: ``layer_dtypes={"head*": "int16x8"}`` maps glob patterns (fnmatch, matched
against a node's name and its weight initializer names) to an integer dtype whose activation type
is that of the model's dtype or wider. The weights of matched nodes take the layer's weight type;
the activation type goes through ORT's ``TensorQuantOverrides`` with its mixed-precision fixer,
which also gives the matched node's inputs and its consumers' inputs and outputs the layer's type
and inserts type conversions (QuantizeLinear -> DequantizeLinear -> QuantizeLinear) at the
boundaries.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import io
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import onnx
from onnx import TensorProto

from wncc import onnxfile
from wncc.arith.precision import DTYPES
from wncc.errors import WnccError
from wncc.frontend.inputs import input_roles, samples_kind
from wncc.quant import calibration, floats

METHODS = ("minmax", "percentile", "entropy")
QDQ_OPSET = 21


@dataclass(frozen=True)
class IntSpec:
    weight: str  # ORT QuantType name
    activation: str
    activation_symmetric: bool


INT_SPECS = {
    "int8": IntSpec("QInt8", "QInt8", False),
    "int16x8": IntSpec("QInt8", "QInt16", True),
    "int16": IntSpec("QInt16", "QInt16", True),
    "int4": IntSpec("QInt4", "QInt8", False),
}
_ACT_BITS = {"QInt8": 8, "QInt16": 16}
EIGHT_BIT_TYPES = ("QInt8", "QUInt8")  # activation_type / weight_type of an int8 model
FORMATS = ("qdq", "qoperator")


def check_dtype(dtype: str) -> str:
    if dtype not in DTYPES:
        raise WnccError(f"unknown dtype '{dtype}' (expected one of {', '.join(DTYPES)})")
    return dtype


def load_model(path: str | Path) -> onnx.ModelProto:
    p = Path(path)
    if not p.is_file():
        raise WnccError("model file not found", path=str(p))
    try:
        return onnx.load(str(p))
    except Exception as exc:  # protobuf DecodeError and friends
        raise WnccError(f"cannot read ONNX model: {str(exc).splitlines()[0] if str(exc) else exc}",
                        path=str(p)) from None


def input_names(model: onnx.ModelProto, given: dict[str, str] | None = None) -> tuple[str, str]:
    """(samples input, mel input) of the vocoder graph (frontend/inputs.py input_roles)."""
    roles = input_roles(model, given)
    return roles["samples"], roles["mel"]


def model_shape(path: Path, inputs: dict[str, str] | None) -> calibration.Shape:
    """The float model's hop, mel bins and the mel frames its conditioning drops, from its IR
    (what calibration crops must hold)."""
    from wncc.pipeline import Ends, load

    graph = load(path, ends=Ends(inputs=inputs))
    return calibration.Shape(graph.hop, graph.n_mels, -graph.time.frames_delta)


def weights_bytes(model: onnx.ModelProto) -> int:
    """Bytes of the stored initializers (int4 counts half a byte per value)."""
    size = {TensorProto.FLOAT: 4, TensorProto.FLOAT16: 2, TensorProto.BFLOAT16: 2,
            TensorProto.INT8: 1, TensorProto.UINT8: 1, TensorProto.INT16: 2, TensorProto.UINT16: 2,
            TensorProto.INT32: 4, TensorProto.INT64: 8, TensorProto.DOUBLE: 8}
    total = 0
    for init in model.graph.initializer:
        n = 1
        for d in init.dims:
            n *= d
        if init.data_type in (TensorProto.INT4, TensorProto.UINT4):
            total += (n + 1) // 2
        else:
            total += n * size.get(init.data_type, 4)
    return total


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """ORT's quantizer logs warnings on the root logger and its histogram calibrators print."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        root.setLevel(level)


@contextlib.contextmanager
def _int4_symmetric_range() -> Iterator[None]:
    """Symmetric INT4 is -7..7 (ARITHMETIC.md), not ORT's -8..7, while quantizing."""
    from onnxruntime.quantization import quant_utils

    table = quant_utils.ONNX_INT_TYPE_SYMMETRIC_RANGE
    had = TensorProto.INT4 in table
    old = table.get(TensorProto.INT4)
    qmin, _ = quant_utils.ONNX_INT_TYPE_RANGE[TensorProto.INT4]
    table[TensorProto.INT4] = (np.array(-7, dtype=qmin.dtype), np.array(7, dtype=qmin.dtype))
    try:
        yield
    finally:
        if had:
            table[TensorProto.INT4] = old
        else:
            del table[TensorProto.INT4]


def _upgrade_opset(model: onnx.ModelProto) -> onnx.ModelProto:
    version = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if version >= QDQ_OPSET:
        return model
    from onnx import version_converter
    try:
        return version_converter.convert_version(model, QDQ_OPSET)
    except Exception as exc:
        raise WnccError(f"cannot convert the model from opset {version} to {QDQ_OPSET}: "
                        f"{str(exc).splitlines()[0]}") from None


def _layer_overrides(model: onnx.ModelProto, dtype: str,
                     layer_dtypes: dict[str, str]) -> dict[str, list[dict]]:
    """ORT TensorQuantOverrides for per-layer dtypes (see the module doc)."""
    from onnxruntime.quantization import QuantType
    from onnxruntime.quantization.execution_providers.qnn.mixed_precision_overrides_utils import (
        MixedPrecisionTensorQuantOverridesFixer)
    from onnxruntime.quantization.tensor_quant_overrides import TensorQuantOverridesHelper

    base = INT_SPECS[dtype]
    inits = {i.name: i for i in model.graph.initializer}
    weights: dict[str, list[dict]] = {}
    acts: dict[str, list[dict]] = {}
    for pattern, layer_dtype in layer_dtypes.items():
        if layer_dtype not in INT_SPECS:
            raise WnccError(f"layer dtype for '{pattern}' must be one of "
                            f"{', '.join(INT_SPECS)}, got '{layer_dtype}'")
        spec = INT_SPECS[layer_dtype]
        if _ACT_BITS[spec.activation] < _ACT_BITS[base.activation]:
            raise WnccError(f"layer dtype '{layer_dtype}' for '{pattern}' has narrower activations "
                            f"than the model dtype '{dtype}'")
        hits = 0
        for node in model.graph.node:
            names = [node.name] + [i for i in node.input if i in inits]
            if not any(fnmatch.fnmatchcase(n, pattern) for n in names):
                continue
            hits += 1
            if node.op_type in ("Conv", "ConvTranspose", "MatMul", "Gemm") and len(node.input) > 1:
                w = node.input[1]
                if w in inits and layer_dtype != dtype:
                    axis = 1 if node.op_type == "ConvTranspose" else 0
                    weights[w] = [{"axis": axis, "quant_type": QuantType[spec.weight],
                                   "symmetric": True}]
            if spec.activation != base.activation:
                for out in node.output:
                    acts[out] = [{"quant_type": QuantType[spec.activation],
                                  "symmetric": spec.activation_symmetric}]
        if not hits:
            raise WnccError(f"layer pattern '{pattern}' matches no node or weight name")
    if acts:
        helper = TensorQuantOverridesHelper(acts)
        fixer = MixedPrecisionTensorQuantOverridesFixer.create_from_model(
            helper, model, QuantType[base.activation])
        fixer.apply(QuantType[base.activation], base.activation_symmetric)
        acts = dict(helper.overrides)
    return {**acts, **weights}


def _int_spec(dtype: str, activation_type: str | None, weight_type: str | None,
              quant_format: str, mixed: bool) -> IntSpec | None:
    """The ORT types of an integer dtype (None for the float dtypes), with int8's unsigned and
    QOperator variants checked (not with per-layer dtypes: ``mixed``)."""
    if quant_format not in FORMATS:
        raise WnccError(f"unknown quantization format '{quant_format}' (expected one of "
                        f"{', '.join(FORMATS)})")
    variant = (activation_type, weight_type) != (None, None) or quant_format != "qdq"
    if variant and (dtype != "int8" or mixed):
        raise WnccError("uint8 types and the QOperator format are for int8 models without "
                        f"per-layer dtypes, not {dtype}" + (" with layer dtypes" if mixed else ""))
    for name in (activation_type, weight_type):
        if name is not None and name not in EIGHT_BIT_TYPES:
            raise WnccError(f"int8 quantization type '{name}' is not one of "
                            f"{', '.join(EIGHT_BIT_TYPES)}")
    spec = INT_SPECS.get(dtype)
    if spec is None:
        return None
    return dataclasses.replace(spec, activation=activation_type or spec.activation,
                               weight=weight_type or spec.weight)


def _calibrate(model: Path, reader, calib_method, spec: IntSpec, percentile: float,
               tmp: Path) -> Path:
    """Activation ranges into an ORT calibration cache file (read back by quantize_static).

    The calibrator is built here rather than inside quantize_static because quantize_static does
    not forward the histogram sizes: its Entropy calibrator keeps 128 bins for 128 quantized bins,
    which leaves a single candidate threshold, i.e. MinMax. Here Entropy uses 512 histogram bins
    (128 quantized bins, ORT's default) and Percentile 2048 bins, two-sided for asymmetric
    activations.
    """
    from onnxruntime.quantization import CalibrationMethod
    from onnxruntime.quantization.calibrate import create_calibrator, save_tensors_data
    from onnxruntime.quantization.registry import QDQRegistry, QLinearOpsRegistry

    options: dict = {}
    if calib_method == CalibrationMethod.Entropy:
        options = {"num_bins": 512, "num_quantized_bins": 128,
                   "symmetric": spec.activation_symmetric}
    elif calib_method == CalibrationMethod.Percentile:
        options = {"num_bins": 2048, "percentile": percentile,
                   "symmetric": spec.activation_symmetric}
    ops = sorted(set(QLinearOpsRegistry) | set(QDQRegistry))
    calibrator = create_calibrator(model, ops, augmented_model_path=str(tmp / "augmented.onnx"),
                                   calibrate_method=calib_method, extra_options=options)
    reader.rewind()
    calibrator.collect_data(reader)
    ranges = calibrator.compute_data()
    del calibrator
    cache = tmp / "calibration.json"
    save_tensors_data(ranges, cache)
    return cache


def quantize(model_path: str | Path, dtype: str, calib: str | Path | None = None,
             out_path: str | Path | None = None, method: str = "minmax", *,
             calib_crops: int = calibration.DEFAULT_CROPS,
             crop_frames: int = calibration.DEFAULT_CROP_FRAMES, split: str = "train",
             percentile: float = 99.999, layer_dtypes: dict[str, str] | None = None,
             per_channel: bool = True, activation_type: str | None = None,
             weight_type: str | None = None, quant_format: str = "qdq",
             inputs: dict[str, str] | None = None) -> Path:
    """Write ``model_path`` at precision ``dtype`` to ``out_path`` (atomically) and return it.

    ``calib`` (a .wav, a folder of .wav files or a corpus folder) is required for the integer
    dtypes and ignored by fp32 / fp16 / bf16. ``method``: minmax, percentile (``percentile``,
    two-sided for asymmetric activations) or entropy. ``per_channel=False`` gives every weight
    one scale (one requantization multiplier per layer instead of one per output channel).
    ``activation_type``, ``weight_type`` (ORT QuantType names) and ``quant_format`` write int8
    models as other flows do (see the module doc). ``inputs``: the samples and mel inputs' names
    where the graph does not tell.
    """
    check_dtype(dtype)
    spec = _int_spec(dtype, activation_type, weight_type, quant_format, bool(layer_dtypes))
    if method not in METHODS:
        raise WnccError(f"unknown calibration method '{method}' (expected one of "
                        f"{', '.join(METHODS)})")
    src = Path(model_path)
    model = load_model(src)
    out = Path(out_path) if out_path is not None else src.with_name(f"{src.stem}.{dtype}.onnx")
    if out.resolve() == src.resolve():
        raise WnccError("the output would overwrite the input model", path=str(out))
    if layer_dtypes and dtype not in INT_SPECS:
        raise WnccError(f"per-layer dtypes need an integer model dtype, got '{dtype}'")
    if dtype == "fp32":
        onnxfile.save(None, out, src)
        return out
    if dtype in floats.FLOAT_TYPES:
        onnxfile.save(floats.convert(model, dtype), out)
        return out

    names = input_names(model, inputs)
    if calib is None:
        raise WnccError(f"dtype {dtype} needs calibration data (--calib: a .wav, a folder of "
                        ".wav files or a corpus folder)")
    reader = calibration.CalibrationReader.from_source(calib, calib_crops, crop_frames, split,
                                                       inputs=names,
                                                       kind=samples_kind(model, names[0]),
                                                       shape=model_shape(src, inputs))
    model = _upgrade_opset(model)
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    extra = {"ActivationSymmetric": spec.activation_symmetric, "WeightSymmetric": True}
    if layer_dtypes:
        extra["TensorQuantOverrides"] = _layer_overrides(model, dtype, layer_dtypes)
        # a symmetric 16-bit Q cannot stand in for a removed Relu: keep the Relu nodes
        extra["QDQKeepRemovableActivations"] = True
    calib_method = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
                    "entropy": CalibrationMethod.Entropy}[method]
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wncc-quant-") as tmp:
        upgraded = Path(tmp) / "model.onnx"
        onnx.save(model, str(upgraded))
        result = Path(tmp) / "quantized.onnx"
        with _quiet(), _int4_symmetric_range():
            cache = _calibrate(upgraded, reader, calib_method, spec, percentile, Path(tmp))
            quantize_static(str(upgraded), str(result), None,
                            quant_format=QuantFormat.QOperator if quant_format == "qoperator"
                            else QuantFormat.QDQ,
                            per_channel=per_channel, reduce_range=False,
                            activation_type=QuantType[spec.activation],
                            weight_type=QuantType[spec.weight], calibrate_method=calib_method,
                            extra_options=extra, calibration_cache_path=str(cache))
        onnxfile.save(None, out, result)
    return out
