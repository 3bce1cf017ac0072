"""The intermediate representation: plain dataclasses, SSA tensors, a topologically ordered node list.

Every tensor is a vector of ``channels`` values per time step. Its *rate* says how often it changes:

* ``FRAME``  - once per mel frame (the mel input, conditioning projections of repeated mels);
* ``TABLE``  - once per frame, but holding ``rows`` rows (the conditioning network's intermediate
  rates); a sample-rate reader takes row ``phase`` of a table of ``hop`` rows;
* ``SAMPLE`` - once per audio sample (everything that depends on the autoregressive input).

Ops (``Node.op``) and their weights/attributes:

========== ======================================= =============================================
op         weights                                 attrs
========== ======================================= =============================================
embed      table [classes, C]                      -
onehot     -  class -> Q-channel 0/1 vector        depth, off, on
conv       w [Cout, Cin, K], b [Cout]              kernel, dilation, pad_left, pad_right
conv_ring  (conv after streaming lowering)         kernel, dilation, ring_len, ring (index)
upsample   -  (nearest repeat; output aliases in)  factor
repeat     -  (nearest repeat of frame rows)       factor
crop       -  (rows [start, ...) of a frame tensor) start
convt      w [Cin, Cout, K], b [Cout]              factor (stride), kernel, crop (leading rows cut)
dwconv     w [C, K], b [C] (one kernel a channel)  kernel, dilation, pad_left, pad_right
dwconvt    w [C, K], b [C]                         factor, kernel, crop
add, mul   -                                       -
add_const  b [C]                                   -
scale      -                                       value (float)
tanh, sigmoid, relu                                -
slice      -  (a view of channels [start, stop))   start, stop
gate       -  tanh(a[t0:t0+h]) * sigmoid(a[s0:s0+h]) half, tanh_at, sigmoid_at
quantize   -  float -> integer (QuantizeLinear)    -
requantize -  integer -> integer, new parameters   -
========== ======================================= =============================================

Quantized graphs (from QDQ ONNX) keep the same ops: tensors carry ``dtype`` "i8"/"i16" and
``quant``; conv/convt nodes carry integer weights ``wq`` with per-channel ``w_scale`` and, when
the model has one, an integer bias ``bq``. passes/qprepare.py turns scales into multipliers.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

import numpy as np


class Rate(enum.IntEnum):
    """How often a tensor changes; larger is faster."""

    FRAME = 1
    TABLE = 2
    SAMPLE = 3


@dataclasses.dataclass(frozen=True)
class Len:
    """A time length a * N + b, N the length of the sample input ("sample", T) or of the mel
    input ("frame", F): every length in a WaveNet vocoder is affine in one of them."""

    base: str
    a: int
    b: int

    def __add__(self, other: object) -> Len:
        if isinstance(other, Len):
            if other.base != self.base:
                return NotImplemented
            return Len(self.base, self.a + other.a, self.b + other.b)
        return Len(self.base, self.a, self.b + int(other))  # type: ignore[call-overload]

    __radd__ = __add__

    def __sub__(self, other: object) -> Len:
        if isinstance(other, Len):
            if other.base != self.base:
                return NotImplemented
            return Len(self.base, self.a - other.a, self.b - other.b)
        return Len(self.base, self.a, self.b - int(other))  # type: ignore[call-overload]

    def __rsub__(self, other: object) -> Len:
        return Len(self.base, -self.a, int(other) - self.b)  # type: ignore[call-overload]

    def __mul__(self, other: object) -> Len:
        if isinstance(other, Len):
            return NotImplemented
        k = int(other)  # type: ignore[call-overload]
        return Len(self.base, self.a * k, self.b * k)

    __rmul__ = __mul__

    def scaled(self, factor: int) -> Len:
        return Len(self.base, self.a * factor, self.b * factor)

    def text(self) -> str:
        n = "T" if self.base == "sample" else "F"
        head = n if self.a == 1 else f"{self.a}*{n}"
        return head if self.b == 0 else f"{head}{self.b:+d}"


ACT_DTYPES = {"i8": (-128, 127), "i16": (-32768, 32767)}


@dataclasses.dataclass(frozen=True)
class QuantParams:
    """Per-tensor activation quantization: real = scale * (q - zero_point)."""

    scale: float
    zero_point: int


@dataclasses.dataclass
class Tensor:
    name: str
    channels: int
    rate: Rate
    dtype: str = "f32"  # "f32" values, "i8"/"i16" quantized, "class" for the class input
    quant: QuantParams | None = None
    rows: int = 1  # FRAME/TABLE tensors: rows per mel frame (TABLE tensors read per sample: hop)


@dataclasses.dataclass
class Node:
    op: str
    name: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any] = dataclasses.field(default_factory=dict)
    weights: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)


INPUT_KINDS = ("class", "onehot", "scalar")
"""What the sample loop feeds back: a class index (embedding Gather), a class turned into a one-hot
vector (a float [1, Q, T] input or a one-hot built in the graph), or the previous sample's value
in [-1, 1] (a float [1, 1, T] input)."""


@dataclasses.dataclass(frozen=True)
class Head:
    """The distribution the sample loop draws the next sample from (wncc/arith/heads.py)."""

    kind: str = "categorical"  # "categorical", "mol" (mixture of logistics) or "gaussian"
    companding: str = "mulaw"  # categorical: class -> value ("mulaw" or "linear")
    log_scale_min: float = -7.0  # mol / gaussian: log scales are clamped below at this
    deemphasis: float = 0.0  # y[n] = x[n] + coef * y[n-1] before 16-bit PCM; 0 is none
    sampler: str = "cdf"  # categorical / mol: "cdf" (one draw) or "gumbel" (one draw per class)


@dataclasses.dataclass
class Graph:
    nodes: list[Node]
    tensors: dict[str, Tensor]
    class_input: str  # the sample input: a class index, or a float value (input_kind "scalar")
    mel_input: str
    output: str
    hop: int
    input_kind: str = "class"  # one of INPUT_KINDS
    head: Head = Head()
    onnx_inputs: dict[str, str] = dataclasses.field(default_factory=dict)  # role -> ONNX name
    time_major: bool = False  # the ONNX output is [1, samples, classes] (a final transpose)
    source: str = ""
    source_sha256: str = ""
    dtype: str = "fp32"
    rounding: str = "single"  # requantization of 8-bit paths: "single" or "double"
    cmsis_nn: dict | None = None  # --cmsis-nn: the checkout (wncc/cmsis_nn.py Checkout.report)
    time: Any = None  # passes/timeaxis.py TimeAxis: rows, lengths, windows, lookahead
    lowered: Any = None  # passes/lowered.py Lowered: every analysis of the final graph

    @property
    def n_mels(self) -> int:
        return self.tensors[self.mel_input].channels

    @property
    def classes(self) -> int:
        """Channels of the output: classes, or the parameters of a mixture or Gaussian."""
        return self.tensors[self.output].channels

    @property
    def input_classes(self) -> int:
        """Classes the sample input takes (class and one-hot inputs; 0 for a scalar input)."""
        for node in self.consumers(self.class_input):
            if node.op == "embed":
                return int(node.weights["table"].shape[0])
            if node.op == "onehot":
                return int(node.attrs["depth"])
        return 0

    def producer(self, tensor: str) -> Node | None:
        for node in self.nodes:
            if tensor in node.outputs:
                return node
        return None

    def consumers(self, tensor: str) -> list[Node]:
        return [n for n in self.nodes if tensor in n.inputs]

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def ops(self, op: str) -> list[Node]:
        return [n for n in self.nodes if n.op == op]


def is_integer(graph: Graph) -> bool:
    """Whether the graph computes in integers (its tensors carry quantization parameters)."""
    return any(t.quant is not None for t in graph.tensors.values())


VIEW_OPS = frozenset({"slice", "upsample"})
"""Ops whose output shares the input's storage."""

CLASS_OPS = frozenset({"embed", "onehot"})
"""Ops that read the class input (an index, not a tensor of values)."""
