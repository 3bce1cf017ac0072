"""The samples input of the ONNX importer: its role, its kind, one-hot vectors built in the graph.

* Roles: an int64/int32 [1, T] input is the samples input (class indices); of float [1, C, T]
  inputs, one with C = 1 is the samples input (the previous sample's value, r9y9's
  ``scalar_input``), and the mel input is the one that reaches the upsampling (Resize or
  ConvTranspose); the other float input is a one-hot samples input ([1, Q, T], r9y9's mulaw-256).
  Where that does not decide, ``--inputs samples=NAME,mel=NAME`` does.
* A one-hot samples input becomes a class input followed by an IR ``onehot`` op, so the sample
  loop feeds a class either way (passes/onehot.py then turns a 1x1 conv of it into an embedding).
* One-hot vectors built in the graph from a class input map onto the same ``onehot`` op:
  ``OneHot``; ``Equal(Unsqueeze(x), arange(Q))`` + ``Cast`` (PyTorch's one_hot through the dynamo
  exporter); ``Mod`` + ``Unsqueeze`` + ``ScatterElements`` of ones into zeros (kan-bayashi's OneHot
  module), whose zeros take their shape from the time length: a ConstantOfShape or Expand of a
  shape holding the time length (frontend/symbolic.py) is a tensor of one value (``_Fill``).

Class values carry the layouts ``T`` ([1, T]), ``T1`` ([1, T, 1]) and ``1T`` ([1, 1, T]).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import onnx
from onnx import helper

from wncc.errors import WnccError
from wncc.frontend.symbolic import is_symbolic
from wncc.ir import Len, Rate, Tensor

INTEGER_TYPES = (onnx.TensorProto.INT64, onnx.TensorProto.INT32)
UPSAMPLING_OPS = ("Resize", "ConvTranspose")
CLASS_SHAPES = {"T": [1, None], "T1": [1, None, 1], "1T": [1, 1, None]}


@dataclasses.dataclass(frozen=True)
class _Fill:
    """A tensor of one value whose shape holds the time length (ConstantOfShape, Expand)."""

    shape: list[int | Len]
    value: float


def _attr(node: onnx.NodeProto, name: str, default):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _dims(inp: onnx.ValueInfoProto) -> list[int | None]:
    return [d.dim_value if d.HasField("dim_value") else None
            for d in inp.type.tensor_type.shape.dim]


def graph_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    """The inputs that are not initializers."""
    inits = {i.name for i in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in inits]


def input_roles(model: onnx.ModelProto, given: dict[str, str] | None = None) -> dict[str, str]:
    """{"samples": NAME, "mel": NAME}: ``given`` (``--inputs``), checked, or inferred (see the
    module doc)."""
    inputs = graph_inputs(model)
    names = [i.name for i in inputs]
    if len(inputs) != 2:
        raise WnccError(f"expected two inputs (samples and mel), found {len(names)}: "
                        f"{', '.join(names) or 'none'}")
    if given:
        if sorted(given) != ["mel", "samples"] or sorted(given.values()) != sorted(names):
            raise WnccError(f"--inputs must name both inputs ({', '.join(names)}) as "
                            "samples=NAME,mel=NAME")
        return dict(given)
    samples = [i.name for i in inputs if i.type.tensor_type.elem_type in INTEGER_TYPES
               or (len(_dims(i)) == 3 and _dims(i)[1] == 1)]
    if len(samples) != 1:
        upsampled = [n for n in names if _reaches_upsampling(model, n)]
        samples = [n for n in names if n not in upsampled] if len(upsampled) == 1 else []
    if len(samples) != 1:
        raise WnccError(f"cannot tell the samples input from the mel input among "
                        f"{', '.join(names)}; pass --inputs samples=NAME,mel=NAME")
    return {"samples": samples[0], "mel": next(n for n in names if n != samples[0])}


def _reaches_upsampling(model: onnx.ModelProto, name: str) -> bool:
    """Whether a Resize or ConvTranspose lies downstream of the ONNX value ``name``."""
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in model.graph.node:
        for i in node.input:
            consumers.setdefault(i, []).append(node)
    seen, todo = set(), [name]
    while todo:
        for node in consumers.get(todo.pop(), []):
            if node.op_type in UPSAMPLING_OPS:
                return True
            for out in node.output:
                if out not in seen:
                    seen.add(out)
                    todo.append(out)
    return False


def samples_kind(model: onnx.ModelProto, name: str) -> tuple[str, int]:
    """(kind, channels) of the samples input as the ONNX graph takes it: ("class", 1),
    ("onehot", Q) or ("scalar", 1)."""
    inp = next(i for i in graph_inputs(model) if i.name == name)
    dims = _dims(inp)
    if inp.type.tensor_type.elem_type in INTEGER_TYPES:
        return "class", 1
    return ("scalar", 1) if len(dims) == 3 and dims[1] == 1 else ("onehot", int(dims[1] or 0))


class InputsMixin:
    """Input roles and one-hot construction of the ONNX importer (see frontend/onnx.py)."""

    roles: dict[str, str] | None = None  # --inputs: role ("samples", "mel") -> ONNX input name

    # -- roles -----------------------------------------------------------------------------
    def inputs(self) -> tuple[str, str]:
        """Create the IR tensors of the two inputs; returns (samples tensor, mel tensor)."""
        inputs = graph_inputs(self.model)
        try:
            roles = input_roles(self.model, self.roles)
        except WnccError as exc:
            raise self.error(str(exc)) from None
        self.onnx_inputs = roles
        self.modulus: int | None = None
        self.fills: dict[str, _Fill] = {}
        by_name = {i.name: i for i in inputs}
        mel_in, x_in = by_name[roles["mel"]], by_name[roles["samples"]]
        dims = _dims(mel_in)
        if mel_in.type.tensor_type.elem_type != onnx.TensorProto.FLOAT or len(dims) != 3:
            raise self.error(f"input '{mel_in.name}' is not float [1, n_mels, frames] mel")
        if dims[1] is None:
            raise self.error(f"input '{mel_in.name}': the mel dimension must be static")
        mel = self.fresh(mel_in.name)
        self.tensors[mel] = Tensor(mel, dims[1], Rate.FRAME)
        self.keep(mel_in.name, self.make_value(mel, "CT", "frame"))
        if dims[2] is not None:
            self.static["frame"] = dims[2]
        return self.samples_input(x_in), mel

    def samples_input(self, inp: onnx.ValueInfoProto) -> str:
        """The IR tensor of the samples input (class indices, or the value for a scalar input);
        a one-hot input's ONNX value maps to an onehot op of it."""
        elem, dims = inp.type.tensor_type.elem_type, _dims(inp)
        if dims and dims[-1] is not None:
            self.static["sample"] = dims[-1]
        if elem in INTEGER_TYPES and len(dims) == 2:
            self.input_kind = "class"
            return self.class_tensor(inp.name, "T")
        if elem != onnx.TensorProto.FLOAT or len(dims) != 3 or dims[1] is None:
            raise self.error(f"samples input '{inp.name}' is neither int64 [1, T] classes, "
                             "float [1, Q, T] one-hot nor float [1, 1, T] values")
        if dims[1] == 1:
            self.input_kind = "scalar"
            name = self.fresh(inp.name)
            self.tensors[name] = Tensor(name, 1, Rate.SAMPLE)
            self.keep(inp.name, self.make_value(name, "CT", "sample"))
            return name
        self.input_kind = "onehot"
        x = self.fresh(f"{inp.name}_class")
        self.tensors[x] = Tensor(x, 1, Rate.SAMPLE, dtype="class")
        self.add("onehot", onnx.NodeProto(name=f"{inp.name} (one-hot input)"), [x], inp.name,
                 "CT", "sample", attrs={"depth": dims[1], "off": 0.0, "on": 1.0},
                 length=Len("sample", 1, 0))
        return x

    def make_value(self, tensor: str, layout: str, timebase: str):
        """The record of an input's ONNX value: its time length is the input's length."""
        from wncc.frontend.onnx import _Value  # the importer's record of an ONNX value
        return _Value(tensor, layout, timebase, length=Len(timebase, 1, 0),
                      rows=1 if timebase == "frame" else 0)

    def class_tensor(self, onnx_name: str, layout: str) -> str:
        name = self.fresh(onnx_name)
        self.tensors[name] = Tensor(name, 1, Rate.SAMPLE, dtype="class")
        self.keep(onnx_name, self.make_value(name, layout, "sample"))
        return name

    # -- tensors of one value over the time length -----------------------------------------
    def fold_shape(self, node: onnx.NodeProto) -> bool:
        """ConstantOfShape / Expand of a shape that holds the time length, and Cast of such a
        tensor: a ``_Fill`` (the rest of the shape arithmetic is frontend/symbolic.py's)."""
        ins = [i for i in node.input if i]
        op = node.op_type
        symbolic = [is_symbolic(self.consts.get(i)) for i in ins]
        if op == "ConstantOfShape" and symbolic[0]:
            value = _attr(node, "value", None)
            fill = 0.0 if value is None else float(onnx.numpy_helper.to_array(value).reshape(-1)[0])
            self.fills[node.output[0]] = _Fill(list(self.consts[ins[0]]), fill)
        elif op == "Expand" and len(ins) == 2 and ins[0] in self.consts and symbolic[1]:
            value = np.asarray(self.consts[ins[0]])
            if value.size != 1:
                raise self.error("Expand of a non-scalar constant to a time-dependent shape", node)
            self.fills[node.output[0]] = _Fill(list(self.consts[ins[1]]), float(value.reshape(())))
        elif op == "Cast" and ins[0] in self.fills:
            self.fills[node.output[0]] = self.fills[ins[0]]
        else:
            return False
        return True

    def filled(self, name: str, node: onnx.NodeProto, what: str) -> tuple[list, float]:
        """(shape, value) of a tensor of one value: a _Fill or a constant."""
        if name in self.fills:
            return self.fills[name].shape, self.fills[name].value
        c = self.consts.get(name)
        if c is None or c.size == 0 or np.any(c != c.reshape(-1)[0]):
            raise self.error(f"{what} must be a tensor of one value", node)
        return list(c.shape), float(c.reshape(-1)[0])

    # -- one-hot constructions -------------------------------------------------------------
    def onehot(self, node: onnx.NodeProto, classes: str, depth: int, out: str, layout: str,
               off: float = 0.0, on: float = 1.0) -> None:
        v = self.value(classes, node)
        if self.modulus is not None and self.modulus < depth:
            raise self.error(f"class input taken modulo {self.modulus} before a one-hot of "
                             f"depth {depth}", node)
        self.input_kind = "onehot"
        self.add("onehot", node, [v.tensor], out, layout, "sample",
                 attrs={"depth": depth, "off": off, "on": on})

    def class_value(self, name: str, node: onnx.NodeProto, layouts: tuple[str, ...]):
        v = self.value(name, node)
        if v.layout not in layouts or self.tensors[v.tensor].dtype != "class":
            raise self.error(f"{node.op_type} of a {v.layout} tensor is not part of a one-hot of "
                             "the class input", node)
        return v

    def op_Mod(self, node: onnx.NodeProto) -> None:
        v = self.class_value(node.input[0], node, ("T", "T1", "1T"))
        d = self.const(node.input[1], node, "Mod divisor")
        if d.size != 1 or int(d.reshape(())) < 1:
            raise self.error("Mod of the class input by a non-scalar or non-positive divisor", node)
        self.modulus = min(int(d.reshape(())), self.modulus or int(d.reshape(())))
        self.keep(node.output[0], v)

    def op_Unsqueeze(self, node: onnx.NodeProto) -> None:
        """The class input unsqueezed for a one-hot; other tensors as the conditioning has them."""
        if self.tensors[self.value(node.input[0], node).tensor].dtype != "class":
            super().op_Unsqueeze(node)  # type: ignore[misc]
            return
        v = self.class_value(node.input[0], node, ("T",))
        axes = (self.const(node.input[1], node, "Unsqueeze axes") if len(node.input) > 1
                else np.array(_attr(node, "axes", [])))
        axes = [int(a) % 3 for a in np.atleast_1d(axes)]
        if axes not in ([2], [1]):
            raise self.error(f"Unsqueeze of the class input at axes {axes}", node)
        self.keep(node.output[0], dataclasses.replace(v, layout="T1" if axes == [2] else "1T"))

    def op_OneHot(self, node: onnx.NodeProto) -> None:
        depth = int(np.asarray(self.const(node.input[1], node, "OneHot depth")).reshape(-1)[0])
        off, on = (float(v) for v in self.const(node.input[2], node, "OneHot values").reshape(-1))
        axis = int(_attr(node, "axis", -1)) % 3
        self.class_value(node.input[0], node, ("T",))
        if axis == 0:
            raise self.error("OneHot along the batch axis", node)
        self.onehot(node, node.input[0], depth, node.output[0], "TC" if axis == 2 else "CT",
                    off, on)

    def op_Equal(self, node: onnx.NodeProto) -> None:
        names = list(node.input)
        const = next((n for n in names if n in self.consts), None)
        if const is None:
            raise self.error("Equal of two tensors is only supported as a one-hot (class input "
                             "against a constant arange)", node)
        other = names[1 - names.index(const)]
        v = self.class_value(other, node, ("T1", "1T"))
        c = np.asarray(self.consts[const])
        depth = c.size
        axis = c.ndim - 1 if v.layout == "T1" else max(c.ndim - 2, 0)
        if sorted(c.shape, reverse=True)[1:] != [1] * (c.ndim - 1) or not np.array_equal(
                c.reshape(-1), np.arange(depth)) or (c.ndim > 1 and c.shape[axis] != depth):
            raise self.error(f"Equal of the class input with a constant of shape "
                             f"{list(c.shape)} that is not arange(Q) along the one-hot axis", node)
        self.onehot(node, other, depth, node.output[0], "TC" if v.layout == "T1" else "CT")

    def op_ScatterElements(self, node: onnx.NodeProto) -> None:
        axis = int(_attr(node, "axis", 0)) % 3
        reduction = _attr(node, "reduction", b"none")
        v = self.class_value(node.input[1], node, ("T1", "1T"))
        shape, zero = self.filled(node.input[0], node, "ScatterElements data")
        _, one = self.filled(node.input[2], node, "ScatterElements updates")
        want = 2 if v.layout == "T1" else 1
        if (axis != want or len(shape) != 3 or not isinstance(shape[axis], (int, np.integer))
                or zero != 0.0 or one != 1.0
                or reduction not in (b"none", "none")):
            raise self.error("ScatterElements is only supported as a one-hot: ones scattered "
                             "into zeros along the class axis by the class input", node)
        self.onehot(node, node.input[1], int(shape[axis]), node.output[0],
                    "TC" if axis == 2 else "CT")

    def op_Cast(self, node: onnx.NodeProto) -> None:
        """Float-to-float casts, a one-hot to any type, the class input to an integer type."""
        v = self.value(node.input[0], node)
        to = _attr(node, "to", 0)
        onehot = any(n.op == "onehot" and v.tensor in n.outputs for n in self.nodes)
        class_cast = v.layout == "T" and to in INTEGER_TYPES
        if not onehot and not class_cast and (to != onnx.TensorProto.FLOAT or v.layout == "T"):
            raise self.error("only float-to-float Cast is supported on data tensors", node)
        self.keep(node.output[0], v)
