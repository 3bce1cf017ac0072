"""ONNX -> IR.

Accepts graphs from PyTorch's dynamo exporter (pads folded into Conv, Split) and from the legacy
TorchScript exporter (separate Pad nodes whose pads come from shape arithmetic, chunk as Shape /
Gather / Div / Slice). Everything computed from constants is folded with ONNX's reference
evaluator; ``Shape`` of a tensor folds as far as its static dimensions go (channels are static,
the time axis is not). The remaining nodes must map onto IR ops; anything else is refused with an
error naming the node.

Each ONNX value is tracked with its layout: ``T`` ([1, T] class indices), ``TC`` ([1, T, C], the
embedding output before its transpose), ``CT`` ([1, C, T]), and its time base (mel frames or
samples) and, for Pad outputs, the pending time padding that the consuming Conv absorbs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path
from typing import Iterator

import numpy as np
import onnx
from onnx import external_data_helper, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from wncc.errors import WnccError
from wncc.frontend import qoperator
from wncc.frontend.conditioning import ConditioningMixin
from wncc.frontend.inputs import InputsMixin
from wncc.frontend.qdq import QdqMixin
from wncc.frontend.symbolic import evaluate, is_symbolic
from wncc import ops
from wncc.ir import Graph, Len, Node, Tensor
from wncc.passes.shapes import infer_node

OPSETS = range(17, 24)


@dataclasses.dataclass(frozen=True)
class _Value:
    tensor: str  # IR tensor name
    layout: str  # "T", "TC", "CT", "1CT" ([1, 1, C, T]: the 2-D conditioning convolutions),
    #              "GCT" ([1, G, C / G, T]: one conditioning conv's channels seen per layer) or
    #              "CTR" ([1, C, T, R]: each step repeated R times, a repeat_interleave midway)
    timebase: str  # "frame" (depends on the mel input only) or "sample"
    pad: tuple[int, int] = (0, 0)  # pending (left, right) time padding from a Pad node
    length: Len | None = None  # of the time axis, affine in the samples T or the frames F
    rows: int = 0  # frame values: time steps per mel frame (1 at the mel's rate)
    groups: int = 0  # "GCT": the number of groups G; "CTR": the pending repeat of each step


def load(path: str | Path) -> onnx.ModelProto:
    """Read and check an ONNX file (external data resolved next to it)."""
    path = Path(path)
    if not path.exists():
        raise WnccError("file not found", path=str(path))
    if path.is_dir():
        raise WnccError("is a directory, expected an .onnx file", path=str(path))
    try:
        model = onnx.load(str(path), load_external_data=False)
        _check_external_data(model, path)
        external_data_helper.load_external_data_for_model(model, str(path.parent))
    except WnccError:
        raise
    except Exception as exc:  # protobuf and external-data errors both mean a bad file
        raise WnccError(f"not a valid ONNX model (truncated or corrupt?): {_first_line(exc)}",
                        path=str(path)) from None
    if not model.graph.node:
        raise WnccError("ONNX graph has no nodes (truncated file?)", path=str(path))
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    if opset not in OPSETS:
        raise WnccError(f"opset {opset} is not supported (use {OPSETS.start}..{OPSETS.stop - 1})",
                        path=str(path))
    try:
        onnx.checker.check_model(model)
    except Exception as exc:
        raise WnccError(f"not a valid ONNX model (truncated or corrupt?): {_first_line(exc)}",
                        path=str(path)) from None
    return model


def _tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    """Every tensor of a graph: initializers and tensor attributes, subgraphs included."""
    yield from graph.initializer
    for node in graph.node:
        for attr in node.attribute:
            yield from ([attr.t] if attr.HasField("t") else [])
            yield from attr.tensors
            for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                yield from _tensors(sub)


def _check_external_data(model: onnx.ModelProto, path: Path) -> None:
    """Refuse external data outside the model's folder (absolute paths, '..', links out of it):
    compiling a model must read no file but the model's own."""
    folder = path.resolve().parent
    for tensor in _tensors(model.graph):
        if not external_data_helper.uses_external_data(tensor):
            continue
        location = next((e.value for e in tensor.external_data if e.key == "location"), "")
        target = (folder / location).resolve()
        if not location or Path(location).is_absolute() or not target.is_relative_to(folder):
            raise WnccError(f"initializer '{tensor.name}': external data location '{location}' "
                            "is outside the model's folder", path=str(path))


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def import_model(path: str | Path, roles: dict[str, str] | None = None) -> Graph:
    """Load an ONNX file and translate it to the IR. roles: which ONNX input is the samples
    input and which the mel (``--inputs samples=x,mel=c``), where the graph does not tell."""
    path = Path(path)
    model = load(path)
    importer = _Importer(qoperator.to_qdq(model, str(path)), str(path))
    importer.roles = roles
    graph = importer.run()
    graph.source = path.name
    graph.source_sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    return graph


def _attrs(node: onnx.NodeProto) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _label(weight_name: str) -> str:
    """A layer's name from its weight's: 'layers.3.conv.weight_DequantizeLinear_Output' ->
    'layers.3.conv'."""
    name = re.sub(r"(_DequantizeLinear_Output|_quantized|_fp16|_bf16)$", "", weight_name)
    return re.sub(r"\.weight$", "", name)


def _ident(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_]", "_", name).strip("_") or "t"


class _Importer(InputsMixin, QdqMixin, ConditioningMixin):
    def __init__(self, model: onnx.ModelProto, path: str) -> None:
        self.model = model
        self.path = path
        self.opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
        self.consts: dict[str, np.ndarray] = {}
        self.values: dict[str, _Value] = {}
        self.nodes: list[Node] = []
        self.tensors: dict[str, Tensor] = {}
        self.hop: int | None = None
        self.static: dict[str, int] = {}  # "sample"/"frame" -> the input's length when static
        self.by_tensor: dict[str, _Value] = {}  # IR tensor -> the value it was made for
        self.names: set[str] = set()
        self.qconsts: dict = {}
        self.dq_source: dict[str, str] = {}
        self.initializer_types = {i.name: i.data_type for i in model.graph.initializer}
        self.onnx_consumers: dict[str, list[onnx.NodeProto]] = {}
        for n in model.graph.node:
            for i in n.input:
                self.onnx_consumers.setdefault(i, []).append(n)

    # -- helpers ---------------------------------------------------------------------------
    def error(self, message: str, node: onnx.NodeProto | None = None) -> WnccError:
        return WnccError(message, node=self.node_name(node) if node is not None else None,
                         path=self.path)

    def node_name(self, node: onnx.NodeProto) -> str:
        return node.name or f"{node.op_type}({', '.join(node.output)})"

    def fresh(self, base: str) -> str:
        name = _ident(base)
        candidate, i = name, 1
        while candidate in self.names:
            i += 1
            candidate = f"{name}_{i}"
        self.names.add(candidate)
        return candidate

    def const(self, name: str, node: onnx.NodeProto, what: str) -> np.ndarray:
        if name not in self.consts:
            raise self.error(f"{what} must be a constant", node)
        return self.consts[name]

    def value(self, name: str, node: onnx.NodeProto) -> _Value:
        if name in self.values:
            return self.values[name]
        raise self.error(f"input '{name}' is not produced by any node", node)

    def shape_of(self, v: _Value) -> np.ndarray:
        """The ONNX shape of a value, its time length a ``Len`` (or an int when static)."""
        channels = self.tensors[v.tensor].channels
        n: object = v.length
        if isinstance(n, Len) and n.base in self.static:
            n = n.a * self.static[n.base] + n.b
        shape = {"T": [1, n], "T1": [1, n, 1], "1T": [1, 1, n], "TC": [1, n, channels],
                 "CT": [1, channels, n],
                 "1CT": [1, 1, channels, n],
                 "GCT": [1, v.groups, channels // max(v.groups, 1), n],
                 "CTR": [1, channels, n, v.groups]}[v.layout]
        return _concrete(np.array(shape, dtype=object))

    def length_of(self, v: _Value) -> object:
        """A value's time length: an int when the input lengths are static, else a Len."""
        return self.shape_of(v)[-1 if v.layout != "TC" else 1]

    def add(self, op: str, onnx_node: onnx.NodeProto, inputs: list[str], onnx_out: str,
            layout: str, timebase: str, attrs: dict | None = None,
            weights: dict | None = None, length: Len | None = None) -> str:
        """An IR node for an ONNX node; its value's time axis follows from its first input's by
        the op's time rules (wncc/ops/), or is ``length``."""
        out = self.fresh(onnx_out)
        attrs = dict(attrs or {})
        if weights and len(onnx_node.input) > 1:  # label layers by their weight's name
            weight_name = onnx_node.input[0] if op == "embed" else onnx_node.input[1]
            attrs["label"] = _label(weight_name)
        node = Node(op, self.node_name(onnx_node), inputs, [out], attrs, weights or {})
        graph_view = Graph(self.nodes, self.tensors, "", "", "", 0)
        for t in infer_node(graph_view, node):
            self.tensors[t.name] = t
        self.nodes.append(node)
        first = self.by_tensor.get(inputs[0]) if inputs else None
        if length is None and first is not None:
            length = ops.of(node).length(node, first.length)
        if timebase == "frame" and first is not None:
            rows = ops.of(node).rows(node, first.rows)
        value = _Value(out, layout, timebase, length=length, rows=rows if timebase == "frame" else 0)
        self.values[onnx_out] = value
        self.by_tensor[out] = value
        return out

    def keep(self, onnx_out: str, value: _Value) -> None:
        """An ONNX value that is an existing IR tensor seen another way (layout, time)."""
        self.values[onnx_out] = value
        self.by_tensor.setdefault(value.tensor, value)

    # -- driver ------------------------------------------------------------------------------
    def run(self) -> Graph:
        g = self.model.graph
        for init in g.initializer:
            try:
                self.consts[init.name] = numpy_helper.to_array(init)
            except Exception as exc:
                raise self.error(f"initializer '{init.name}' cannot be read: {exc}") from None
        class_input, mel_input = self.inputs()
        for node in g.node:
            self.convert(node)
        if len(g.output) != 1:
            raise self.error(f"expected one output (logits), found {len(g.output)}")
        out = self.values.get(g.output[0].name)
        if (out is None or out.layout not in ("CT", "TC") or out.timebase != "sample"
                or out.pad != (0, 0)):
            raise self.error(f"output '{g.output[0].name}' is not a [1, classes, samples] (or "
                             "[1, samples, classes]) tensor")
        if out.length != Len("sample", 1, 0):
            self.untrimmed(out, None)
            raise self.error(f"output '{g.output[0].name}' has {out.length.text()} samples for T "
                             "inputs: a convolution's right padding is not trimmed")
        if self.hop is None:
            raise self.error("no upsampling from mel frames to samples found")
        return Graph(self.nodes, self.tensors, class_input, mel_input, out.tensor, self.hop,
                     input_kind=self.input_kind, onnx_inputs=self.onnx_inputs,
                     time_major=out.layout == "TC")

    # -- constant folding ------------------------------------------------------------------
    def fold(self, node: onnx.NodeProto) -> bool:
        if self.fold_shape(node):
            return True
        ins = [i for i in node.input if i]
        if node.op_type == "Shape" and ins[0] in self.values:
            a = _attrs(node)
            shape = self.shape_of(self.values[ins[0]])
            self.consts[node.output[0]] = shape[a.get("start", 0):a.get("end", len(shape))]
            return True
        if not all(i in self.consts for i in ins):
            return False
        if any(is_symbolic(self.consts[i]) for i in ins):
            results = evaluate(node, [self.consts[i] for i in ins])
            if results is None:
                raise self.error(f"shape arithmetic ({node.op_type}) on the time length is not "
                                 "supported", node)
            for name, val in zip([o for o in node.output if o], results):
                self.consts[name] = _concrete(val)
            return True
        if node.op_type == "DequantizeLinear":
            self.fold_dequantize_const(node)
            self.dq_source[node.output[0]] = node.input[0]
            return True
        graph = helper.make_graph([node], "fold",
                                  [helper.make_tensor_value_info(i, 0, None) for i in ins],
                                  [helper.make_tensor_value_info(o, 0, None)
                                   for o in node.output if o])
        try:
            results = ReferenceEvaluator(graph, opsets={"": self.opset}).run(
                None, {i: self.consts[i] for i in ins})
        except Exception as exc:
            raise self.error(f"cannot evaluate constant {node.op_type}: {exc}", node) from None
        for name, val in zip([o for o in node.output if o], results):
            self.consts[name] = np.asarray(val)
        return True

    # -- op translation --------------------------------------------------------------------
    def convert(self, node: onnx.NodeProto) -> None:
        qdq = node.op_type in ("QuantizeLinear", "DequantizeLinear")
        if node.domain not in ("", "ai.onnx") and not (qdq and node.domain == "com.microsoft"):
            raise self.error(f"unsupported op '{node.domain}.{node.op_type}'", node)
        if self.fold(node):
            return
        handler = getattr(self, f"op_{node.op_type}", None)
        if handler is None:
            raise self.error(f"unsupported op '{node.op_type}'", node)
        handler(node)

    def op_Identity(self, node: onnx.NodeProto) -> None:
        self.values[node.output[0]] = self.value(node.input[0], node)

    def op_Dropout(self, node: onnx.NodeProto) -> None:
        self.op_Identity(node)

    def op_Gather(self, node: onnx.NodeProto) -> None:
        if node.input[0] in self.values:
            self.group_gather(node, self.value(node.input[0], node))
            return
        table = self.const(node.input[0], node, "embedding table")
        idx = self.value(node.input[1], node)
        if idx.layout != "T" or _attrs(node).get("axis", 0) != 0 or table.ndim != 2:
            raise self.error("only an embedding lookup (Gather of a [classes, C] table by the "
                             "class input) is supported", node)
        weights = {"table": table.astype(np.float32)}
        qt = self.qconsts.get(node.input[0])
        if qt is not None:
            if qt.scale.size != 1 or qt.zero_point.size != 1:
                raise self.error("embedding table must be quantized per tensor", node)
            weights.update(tq=qt.q, t_scale=np.float64(qt.scale.reshape(())),
                           t_zp=np.int64(qt.zero_point.reshape(())))
        self.add("embed", node, [idx.tensor], node.output[0], "TC", "sample", weights=weights)

    def op_Transpose(self, node: onnx.NodeProto) -> None:
        v = self.value(node.input[0], node)
        perm = list(_attrs(node).get("perm", []))
        if perm != [0, 2, 1] or v.layout not in ("TC", "CT") or v.pad != (0, 0):
            raise self.error(f"unsupported Transpose perm {perm} on a {v.layout} tensor", node)
        self.values[node.output[0]] = dataclasses.replace(v, layout="CT" if v.layout == "TC"
                                                          else "TC")

    def op_Pad(self, node: onnx.NodeProto) -> None:
        v = self.value(node.input[0], node)
        a = _attrs(node)
        mode = a.get("mode", b"constant")
        pads = self.const(node.input[1], node, "Pad pads").astype(np.int64)
        value = (self.consts.get(node.input[2]) if len(node.input) > 2 and node.input[2]
                 else np.zeros(()))
        if value is None or np.any(np.asarray(value) != 0) or mode not in (b"constant", "constant"):
            raise self.error("only zero constant padding is supported", node)
        rank = len(v.layout) + 1 if v.layout in ("CT", "1CT") else 3
        axes = (self.const(node.input[3], node, "Pad axes") if len(node.input) > 3 and node.input[3]
                else np.arange(rank))
        axes = [int(ax) % rank for ax in np.atleast_1d(axes)]
        n = len(axes)
        per_axis = {ax: (int(pads[i]), int(pads[i + n])) for i, ax in enumerate(axes)}
        time = rank - 1
        if v.layout not in ("CT", "1CT") or any(p != (0, 0) for ax, p in per_axis.items()
                                                 if ax != time):
            raise self.error("only padding of the time axis of a [1, C, T] tensor is supported",
                             node)
        left, right = per_axis.get(time, (0, 0))
        self.keep(node.output[0], dataclasses.replace(v, pad=(v.pad[0] + left,
                                                               v.pad[1] + right)))

    def op_Conv(self, node: onnx.NodeProto) -> None:
        v = self.value(node.input[0], node)
        w = self.const(node.input[1], node, "conv weight")
        b = self.consts.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        a = _attrs(node)
        if v.layout == "1CT" and w.ndim == 4:
            self.depthwise_conv(node, v, w, b)
            return
        if v.layout != "CT" or w.ndim != 3:
            raise self.error("only 1-D convolution over [1, C, T] is supported", node)
        if a.get("group", 1) != 1:
            raise self.error(f"grouped convolution (group={a['group']}) is not supported", node)
        strides = list(a.get("strides", [1]))
        if strides != [1]:
            raise self.error(f"strided convolution (strides={strides}) is not supported on the "
                             f"{v.timebase} path", node)
        auto_pad = a.get("auto_pad", b"NOTSET")
        auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
        if auto_pad not in ("NOTSET", "VALID"):
            raise self.error(f"auto_pad={auto_pad} is not causal padding", node)
        pads = list(a.get("pads", [0, 0])) if auto_pad == "NOTSET" else [0, 0]
        dilation = int(list(a.get("dilations", [1]))[0])
        bias = np.zeros(w.shape[0], np.float32) if b is None else b.astype(np.float32)
        attrs = {"kernel": int(w.shape[2]), "dilation": dilation,
                 "pad_left": v.pad[0] + int(pads[0]), "pad_right": v.pad[1] + int(pads[1])}
        weights = {"w": w.astype(np.float32), "b": bias,
                   **self.quantized_weights(node, node.input[1],
                                            node.input[2] if len(node.input) > 2 else None, 0)}
        self.add("conv", node, [v.tensor], node.output[0], "CT", v.timebase, attrs=attrs,
                 weights=weights)

    def binary(self, node: onnx.NodeProto, op: str) -> None:
        names = list(node.input)
        consts = [n for n in names if n in self.consts]
        if not consts:
            va, vb = (self.value(n, node) for n in names)
            if (va.layout, va.pad) != (vb.layout, vb.pad) or va.layout not in ("CT", "1CT"):
                raise self.error(f"{node.op_type} of tensors with different shapes "
                                 f"({va.layout}/{va.timebase} and {vb.layout}/{vb.timebase})", node)
            if va.timebase != vb.timebase:
                frame, sample = (va, vb) if va.timebase == "frame" else (vb, va)
                self.meet(node, frame, sample)
                self.add(op, node, [va.tensor, vb.tensor], node.output[0], va.layout, "sample",
                         length=sample.length)
                return
            for v in (va, vb):
                if v.timebase == "sample" and v.length != Len("sample", 1, 0):
                    self.untrimmed(v, node)
            if va.length != vb.length or va.rows != vb.rows:
                raise self.error(f"{node.op_type} of tensors of different lengths "
                                 f"({va.length.text()} and {vb.length.text()}): a convolution's "
                                 "padding is not trimmed", node)
            self.add(op, node, [va.tensor, vb.tensor], node.output[0], va.layout, va.timebase)
            return
        v = self.value(names[1 - names.index(consts[0])], node)
        c = np.asarray(self.consts[consts[0]], dtype=np.float32)
        if v.layout not in ("CT", "1CT") or v.pad != (0, 0):
            raise self.error(f"{node.op_type} with a constant on a {v.layout} tensor", node)
        channels = self.tensors[v.tensor].channels
        if op == "mul" and c.size == 1:
            attrs = {"value": float(c.reshape(()))}
            qc = self.qconsts.get(consts[0])
            if qc is not None:  # the integer factor and its scale, for integer graphs
                attrs.update(c_int=int(qc.q.reshape(()) - qc.zero_point.reshape(())),
                             c_scale=float(qc.scale.reshape(())))
            self.add("scale", node, [v.tensor], node.output[0], v.layout, v.timebase, attrs=attrs)
        elif op == "add" and c.size in (1, channels) and c.ndim <= 3 and (
                c.ndim < 2 or c.shape[-1] == 1 or c.size == 1):
            self.add("add_const", node, [v.tensor], node.output[0], v.layout, v.timebase,
                     weights={"b": np.broadcast_to(c.reshape(-1), (channels,)).copy()})
        else:
            raise self.error(f"{node.op_type} with a constant of shape {list(c.shape)} is not "
                             "supported (scalar multiply or per-channel add only)", node)

    def op_Add(self, node: onnx.NodeProto) -> None:
        self.binary(node, "add")

    def op_Mul(self, node: onnx.NodeProto) -> None:
        self.binary(node, "mul")

    def unary(self, node: onnx.NodeProto, op: str) -> None:
        v = self.value(node.input[0], node)
        if v.layout not in ("CT", "1CT") or v.pad != (0, 0):
            raise self.error(f"{node.op_type} on a {v.layout} tensor", node)
        self.add(op, node, [v.tensor], node.output[0], v.layout, v.timebase)

    def op_Tanh(self, node: onnx.NodeProto) -> None:
        self.unary(node, "tanh")

    def op_Sigmoid(self, node: onnx.NodeProto) -> None:
        self.unary(node, "sigmoid")

    def op_Relu(self, node: onnx.NodeProto) -> None:
        self.unary(node, "relu")

    def channel_slice(self, node: onnx.NodeProto, v: _Value, start: int, stop: int, out: str) -> None:
        self.add("slice", node, [v.tensor], out, "CT", v.timebase,
                 attrs={"start": start, "stop": stop})

    def op_Split(self, node: onnx.NodeProto) -> None:
        v = self.value(node.input[0], node)
        a = _attrs(node)
        if v.layout != "CT" or a.get("axis", 0) % 3 != 1:
            raise self.error("only Split along the channel axis of [1, C, T] is supported", node)
        channels = self.tensors[v.tensor].channels
        outs = [o for o in node.output]
        if len(node.input) > 1 and node.input[1]:
            sizes = [int(s) for s in self.const(node.input[1], node, "Split sizes")]
        elif "split" in a:
            sizes = [int(s) for s in a["split"]]
        else:
            per = -(-channels // len(outs))
            sizes = [min(per, channels - i * per) for i in range(len(outs))]
        if sum(sizes) != channels or len(sizes) != len(outs):
            raise self.error(f"Split sizes {sizes} do not cover {channels} channels", node)
        start = 0
        for out, size in zip(outs, sizes):
            self.channel_slice(node, v, start, start + size, out)
            start += size

    def op_Slice(self, node: onnx.NodeProto) -> None:
        v = self.value(node.input[0], node)
        starts = np.atleast_1d(self.const(node.input[1], node, "Slice starts"))
        ends = np.atleast_1d(self.const(node.input[2], node, "Slice ends"))
        axes = (self.const(node.input[3], node, "Slice axes") if len(node.input) > 3 and node.input[3]
                else np.arange(len(starts)))
        steps = (self.const(node.input[4], node, "Slice steps") if len(node.input) > 4 and node.input[4]
                 else np.ones(len(starts), np.int64))
        rank = len(v.layout) + 1
        axes = [int(ax) % rank for ax in np.atleast_1d(axes)]
        if v.layout not in ("CT", "1CT") or len(axes) != 1 or int(np.atleast_1d(steps)[0]) != 1:
            raise self.error("only a unit-step Slice of one axis of [1, C, T] is supported", node)
        if axes[0] == rank - 1:
            self.time_slice(node, v, starts[0], ends[0])
            return
        if axes[0] != rank - 2:
            raise self.error(f"Slice of axis {axes[0]} of a {v.layout} tensor is not supported",
                             node)
        channels = self.tensors[v.tensor].channels
        start, stop, _ = slice(int(starts[0]), int(ends[0])).indices(channels)
        self.channel_slice(node, v, start, stop, node.output[0])


def _concrete(value: np.ndarray) -> np.ndarray:
    """An object array without symbols becomes an int64 array again."""
    flat = list(np.asarray(value, dtype=object).reshape(-1))
    if any(isinstance(v, Len) for v in flat):
        return np.asarray(value, dtype=object)
    return np.asarray(value, dtype=object).astype(np.int64)
