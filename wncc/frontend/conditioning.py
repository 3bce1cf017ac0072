"""ONNX -> IR for the conditioning network: everything that depends on the mel input only.

Real vocoders upsample the mel frames in stages (r9y9's Stretch2d + Conv2d at 4x4, transposed
convolutions with overlapping kernels, a frame-rate input convolution without padding) and often
on 4-D tensors ``[1, 1, n_mels, T]``, where a 2-D kernel ``(1, k)`` is one 1-D kernel shared by
every mel bin. Each value of this network keeps its ``rows`` (time steps per mel frame) and its
length (affine in the frames F); the IR ops are plain 1-D ops at that rate: ``upsample``
(nearest), ``convt`` (any kernel >= stride, cropped), ``conv`` (any kernel, padding), ``dwconv`` /
``dwconvt`` (one kernel a channel) and ``crop`` (a time slice). Where a conditioning value meets
the sample path, its rows per frame are the hop. The time-axis pass (passes/timeaxis.py) then
proves how far each tensor reaches into the past and the future.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import onnx
from onnx import helper

from wncc.errors import WnccError
from wncc.ir import Len

if TYPE_CHECKING:
    from wncc.frontend.onnx import _Value

TIME_AXIS = {"CT": 2, "1CT": 3}


def _attrs(node: onnx.NodeProto) -> dict:
    return {a.name: _text(helper.get_attribute_value(a)) for a in node.attribute}


def _text(value: object) -> object:
    return value.decode() if isinstance(value, bytes) else value


class ConditioningMixin:
    """Op handlers of the conditioning network, mixed into the importer (frontend/onnx.py)."""

    # -- layouts ---------------------------------------------------------------------------
    def op_Unsqueeze(self, node: onnx.NodeProto) -> None:
        v = self.value(node.input[0], node)
        axes = self._axes(node)
        if v.layout == "CT" and v.timebase == "frame" and axes in ([3], [-1]):
            self.keep(node.output[0], dataclasses.replace(v, layout="CTR", groups=1))
            return
        if v.layout != "CT" or axes != [1]:
            raise self.error(f"Unsqueeze axes {axes} of a {v.layout} tensor is not supported "
                             "(only [1, C, T] -> [1, 1, C, T])", node)
        self.keep(node.output[0], dataclasses.replace(v, layout="1CT"))

    def op_Squeeze(self, node: onnx.NodeProto) -> None:
        v = self.value(node.input[0], node)
        axes = self._axes(node)
        if v.layout != "1CT" or axes not in ([1], []):
            raise self.error(f"Squeeze axes {axes} of a {v.layout} tensor is not supported "
                             "(only [1, 1, C, T] -> [1, C, T])", node)
        self.keep(node.output[0], dataclasses.replace(v, layout="CT"))

    def op_Expand(self, node: onnx.NodeProto) -> None:
        v = self.value(node.input[0], node)
        shape = [int(d) if isinstance(d, (int, np.integer)) else d
                 for d in self.const(node.input[1], node, "Expand shape")]
        self._repeat(node, v, shape[-1] if len(shape) == 4 and all(
            d == 1 or d == s for d, s in zip(shape[:3], self.shape_of(v)[:3])) else None)

    def op_Tile(self, node: onnx.NodeProto) -> None:
        v = self.value(node.input[0], node)
        reps = [int(r) for r in self.const(node.input[1], node, "Tile repeats")]
        self._repeat(node, v, reps[3] if len(reps) == 4 and reps[:3] == [1, 1, 1] else None)

    def _repeat(self, node: onnx.NodeProto, v: _Value, factor: object) -> None:
        """[1, C, T, 1] expanded or tiled to [1, C, T, R]: the middle of a repeat_interleave."""
        if v.layout != "CTR" or v.groups != 1 or not isinstance(factor, int) or factor < 1:
            raise self.error(f"{node.op_type} is only supported as the repeat of each step of a "
                             "conditioning tensor ([1, C, T, 1] -> [1, C, T, R])", node)
        self.keep(node.output[0], dataclasses.replace(v, groups=factor))

    def op_Reshape(self, node: onnx.NodeProto) -> None:
        v = self.value(node.input[0], node)
        target = list(self.const(node.input[1], node, "Reshape shape"))
        channels = self.tensors[v.tensor].channels
        n = self.length_of(v)
        if v.layout == "CTR" and _matches(target, [1, channels, n * v.groups]):
            self.add("upsample", node, [v.tensor], node.output[0], "CT", "frame",
                     attrs={"factor": v.groups})  # repeat_interleave(R, dim=2)
            return
        for layout, shape in (("CT", [1, channels, n]), ("1CT", [1, 1, channels, n])):
            if v.layout in TIME_AXIS and _matches(target, shape):
                self.keep(node.output[0], dataclasses.replace(v, layout=layout))
                return
        groups = int(target[1]) if len(target) == 4 and isinstance(target[1], (int, np.integer)) else 0
        if (v.layout == "CT" and groups > 1 and channels % groups == 0
                and _matches(target, [1, groups, channels // groups, n])):
            self.keep(node.output[0], dataclasses.replace(v, layout="GCT", groups=groups))
            return
        raise self.error(f"Reshape of a {v.layout} tensor to {[_show(d) for d in target]} is "
                         "not supported (only adding or removing the unit axis of a "
                         "[1, 1, C, T] tensor)", node)

    def group_gather(self, node: onnx.NodeProto, v: _Value) -> None:
        """Gather(axis 1) of one group of a [1, G, C / G, T] view: its channels, a slice."""
        index = self.consts.get(node.input[1])
        axis = int(_attrs(node).get("axis", 0))
        if v.layout != "GCT" or index is None or np.size(index) != 1 or axis % 4 != 1:
            raise self.error("Gather of a data tensor is only supported as one group of a "
                             "[1, G, C/G, T] view (a conditioning conv shared by the layers)",
                             node)
        per = self.tensors[v.tensor].channels // v.groups
        i = int(np.reshape(index, ())) % v.groups
        self.channel_slice(node, dataclasses.replace(v, layout="CT", groups=0), i * per,
                           (i + 1) * per, node.output[0])

    def _axes(self, node: onnx.NodeProto) -> list[int]:
        if len(node.input) > 1 and node.input[1]:
            axes = self.const(node.input[1], node, f"{node.op_type} axes")
        else:
            axes = _attrs(node).get("axes", [])
        return [int(a) for a in np.atleast_1d(axes)]

    # -- upsampling ------------------------------------------------------------------------
    def op_Resize(self, node: onnx.NodeProto) -> None:
        v = self.value(node.input[0], node)
        a = _attrs(node)
        if a.get("mode", "nearest") != "nearest" or v.timebase != "frame" or v.layout not in TIME_AXIS:
            raise self.error("only nearest Resize of the conditioning (mel) path is supported",
                             node)
        factor = self._resize_factor(node, v)
        if not _nearest_is_repeat(factor, a.get("coordinate_transformation_mode", "half_pixel"),
                                  a.get("nearest_mode", "round_prefer_floor")):
            raise self.error("Resize coordinate mode does not repeat each frame", node)
        self.add("upsample", node, [v.tensor], node.output[0], v.layout, "frame",
                 attrs={"factor": factor})

    def _resize_factor(self, node: onnx.NodeProto, v: _Value) -> int:
        rank = len(v.layout) + 1
        scales = self.consts.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if scales is not None and np.size(scales):
            scales = np.asarray(scales, dtype=np.float64).reshape(-1)
        elif len(node.input) > 3 and node.input[3] in self.consts:
            sizes = self.consts[node.input[3]]
            shape = self.shape_of(v)
            scales = np.array([_ratio(s, d) for s, d in zip(sizes, shape)], dtype=np.float64)
        else:
            raise self.error("Resize needs constant scales or sizes", node)
        factor = int(round(scales[-1])) if scales.size == rank else 0
        if (scales.size != rank or np.any(scales[:-1] != 1.0) or factor < 1
                or factor != scales[-1]):
            raise self.error(f"Resize scales {scales.tolist()} are not an integer upsampling "
                             "of the time axis", node)
        return factor

    def op_ConvTranspose(self, node: onnx.NodeProto) -> None:
        v = self.value(node.input[0], node)
        w = self.const(node.input[1], node, "transposed conv weight")
        b = self.consts.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        a = _attrs(node)
        if v.timebase != "frame" or v.layout not in TIME_AXIS or v.pad != (0, 0):
            raise self.error("ConvTranspose is supported on the conditioning (mel) path only",
                             node)
        depthwise = v.layout == "1CT"
        if w.ndim != len(v.layout) + 1 or (depthwise and w.shape[:3] != (1, 1, 1)):
            raise self.error(f"ConvTranspose weight of shape {list(w.shape)} on a "
                             f"{v.layout} tensor is not supported (1-D, or 2-D with kernel "
                             "(1, k) on [1, 1, C, T])", node)
        stride = int(list(a.get("strides", [1]))[-1])
        kernel = int(w.shape[-1])
        pads = list(a.get("pads", [0] * 2 * (w.ndim - 2)))
        begin, end = int(pads[len(pads) // 2 - 1]), int(pads[-1])
        out_pad = int(list(a.get("output_padding", [0]))[-1])
        if (a.get("group", 1) != 1 or any(int(d) != 1 for d in a.get("dilations", [1]))
                or any(pads[: len(pads) // 2 - 1]) or any(pads[len(pads) // 2:-1])
                or kernel < stride or a.get("auto_pad", "NOTSET") != "NOTSET"
                or "output_shape" in a):
            raise self.error("only ConvTranspose upsampling of the time axis (group 1, no "
                             "dilation, kernel >= stride, explicit pads) is supported", node)
        attrs = {"factor": stride, "kernel": kernel, "crop": begin, "extra": out_pad - end}
        channels = self.tensors[v.tensor].channels
        if depthwise:
            weights = self.depthwise_weights(node, w, b, channels, channel_axis=1)
            self.add("dwconvt", node, [v.tensor], node.output[0], "1CT", "frame", attrs=attrs,
                     weights=weights)
            return
        bias = np.zeros(w.shape[1], np.float32) if b is None else b.astype(np.float32)
        weights = {"w": w.astype(np.float32), "b": bias,
                   **self.quantized_weights(node, node.input[1],
                                            node.input[2] if len(node.input) > 2 else None, 1)}
        self.add("convt", node, [v.tensor], node.output[0], "CT", "frame", attrs=attrs,
                 weights=weights)

    # -- convolutions and slices on the conditioning path ------------------------------------
    def depthwise_conv(self, node: onnx.NodeProto, v: _Value, w: np.ndarray,
                       b: np.ndarray | None) -> None:
        """Conv2d(1, 1, (1, k)) on [1, 1, C, T]: one kernel shared by the C rows."""
        a = _attrs(node)
        if w.shape[:3] != (1, 1, 1) or a.get("group", 1) != 1:
            raise self.error(f"2-D convolution weight {list(w.shape)} is not supported (only "
                             "kernel (1, k) with one input and output channel)", node)
        if list(a.get("strides", [1, 1])) != [1, 1] or a.get("auto_pad", "NOTSET") not in (
                "NOTSET", "VALID"):
            raise self.error("strided or auto-padded 2-D convolution is not supported", node)
        pads = list(a.get("pads", [0, 0, 0, 0])) if a.get("auto_pad", "NOTSET") == "NOTSET" else [0] * 4
        if pads[0] or pads[2]:
            raise self.error("padding of the mel axis of a 2-D convolution is not supported",
                             node)
        dilation = int(list(a.get("dilations", [1, 1]))[1])
        kernel = int(w.shape[3])
        channels = self.tensors[v.tensor].channels
        left, right = v.pad[0] + int(pads[1]), v.pad[1] + int(pads[3])
        weights = self.depthwise_weights(node, w, b, channels, channel_axis=0)
        self.add("dwconv", node, [v.tensor], node.output[0], "1CT", v.timebase,
                 attrs={"kernel": kernel, "dilation": dilation, "pad_left": left,
                        "pad_right": right},
                 weights=weights)

    def depthwise_weights(self, node: onnx.NodeProto, w: np.ndarray, b: np.ndarray | None,
                          channels: int, channel_axis: int) -> dict[str, np.ndarray]:
        """A (1, k) kernel of [1, 1, C, T] given to each of the C channels: w [C, K], b [C],
        and their integers (scales shared, as the one kernel's) for quantized models."""
        kernel = int(w.shape[-1])
        out = {"w": np.repeat(w.reshape(1, kernel), channels, 0).astype(np.float32),
               "b": np.full(channels, 0.0 if b is None else float(b.reshape(-1)[0]), np.float32)}
        q = self.quantized_weights(node, node.input[1],
                                   node.input[2] if len(node.input) > 2 else None, channel_axis)
        for key, value in q.items():
            if key == "wq":
                value = np.repeat(value.reshape(1, kernel), channels, 0)
            elif key != "w_bits":
                value = np.repeat(value.reshape(-1)[:1], channels)
            out[key] = value
        return out

    def time_slice(self, node: onnx.NodeProto, v: _Value, start: object, end: object) -> None:
        """Slice of the time axis: the tail a symmetric padding left on the sample path, or a
        crop of a conditioning value."""
        n = self.length_of(v)
        start_i = _index(_in_frames(start, v), n)
        end_i = _index(_in_frames(end, v), n)
        if start_i is None or end_i is None:
            raise self.error("Slice bounds of the time axis must be constants or the length of "
                             "another tensor", node)
        dropped = _difference(n, end_i)
        if dropped is None or dropped < 0 or (isinstance(start_i, int) and start_i < 0):
            raise self.error(f"time Slice [{_show(start_i)}:{_show(end_i)}] of a tensor of "
                             f"length {_show(n)} is not supported", node)
        if v.timebase == "sample":
            if start_i != 0:
                raise self.error("slicing the start of the sample axis looks into the future "
                                 "(not causal)", node)
            self.trim_tail(node, v, dropped)
            return
        self.add("crop", node, [v.tensor], node.output[0], v.layout, "frame",
                 attrs={"start": int(start_i), "drop": dropped})

    def trim_tail(self, node: onnx.NodeProto, v: _Value, dropped: int) -> None:
        """A convolution padded on both sides, then sliced to the input length: the slice removes
        the right padding, which makes the convolution causal."""
        producer = next((n for n in self.nodes if n.outputs == [v.tensor]), None)
        if dropped == 0:
            self.keep(node.output[0], v)
            return
        if (producer is None or producer.op not in ("conv", "dwconv")
                or producer.attrs["pad_right"] < dropped
                or any(v.tensor in n.inputs for n in self.nodes)):
            raise self.error(f"slicing {dropped} steps off the end of the sample axis is only "
                             "supported right after a convolution padded on the right", node)
        producer.attrs["pad_right"] -= dropped
        trimmed = dataclasses.replace(v, length=v.length - dropped)
        self.keep(node.output[0], trimmed)
        self.by_tensor[v.tensor] = trimmed  # the convolution itself now makes the shorter tensor

    def untrimmed(self, v: _Value, user: onnx.NodeProto | None) -> None:
        """A sample-path value longer than the samples: the convolution padded on the right
        that made it looks into the future (unless a Slice had removed that padding)."""
        producer = self._padded_source(v.tensor)
        if producer is not None:
            a = producer.attrs
            raise WnccError(f"non-causal convolution: pads (left={a['pad_left']}, "
                            f"right={a['pad_right']}) look into the future; a causal conv pads "
                            f"{(a['kernel'] - 1) * a['dilation']} on the left only",
                            node=producer.name, path=self.path)
        raise self.error(f"a value of {v.length.text()} samples for T inputs: a convolution's "
                         "padding is not trimmed", user)

    def _padded_source(self, tensor: str):
        """The nearest convolution padded on the right that a tensor derives from."""
        made = {n.outputs[0]: n for n in self.nodes}
        todo, seen = [tensor], set()
        while todo:
            node = made.get(todo.pop(0))
            if node is None or node.name in seen:
                continue
            seen.add(node.name)
            if node.op == "conv" and node.attrs["pad_right"]:
                return node
            todo.extend(node.inputs)
        return None

    def meet(self, node: onnx.NodeProto, frame: _Value, sample: _Value) -> None:
        """A conditioning value used on the sample path: its rows per frame are the hop."""
        if self.hop is not None and self.hop != frame.rows:
            raise self.error(f"conditioning at {frame.rows} steps per frame meets the samples, "
                             f"but an earlier one had {self.hop}", node)
        self.hop = frame.rows


def _matches(target: list, shape: list) -> bool:
    if len(target) != len(shape):
        return False
    for t, s in zip(target, shape):
        if isinstance(t, (int, np.integer)) and int(t) in (0, -1):
            continue
        if t != s:
            return False
    return True


def _in_frames(bound: object, v: _Value) -> object:
    """A Slice bound in the value's own terms. A conditioning value cut to the samples
    (``c[:, :, :T]``, T the sample input's length): T is taken as rows x frames, the whole frames
    the conditioning covers at its rate. A sample value cut to hop x frames (a relation the
    dynamo exporter derives): the samples T."""
    if isinstance(bound, Len) and bound.base == "sample" and v.timebase == "frame":
        return Len("frame", bound.a * v.rows, bound.b)
    if isinstance(bound, Len) and bound.base == "frame" and v.timebase == "sample":
        return Len("sample", 1, bound.b)  # the exporter's T = hop x F (checked where they meet)
    return bound


def _index(bound: object, n: object) -> object:
    """A Slice bound on an axis of length n: a non-negative int or a Len (None: unusable)."""
    if isinstance(bound, Len):
        return bound
    try:
        i = int(bound)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    if i < 0:
        return n + i if isinstance(n, Len) else max(int(n) + i, 0)  # type: ignore[call-overload]
    if isinstance(n, int) and i > n:
        return n
    if isinstance(n, Len) and i >= 2 ** 62:  # "to the end" (INT64_MAX)
        return n
    return i


def _difference(n: object, end: object) -> int | None:
    """n - end as an int, or None when it depends on the input length."""
    if isinstance(n, Len) or isinstance(end, Len):
        d = n - end  # type: ignore[operator]
        if isinstance(d, Len):
            return d.b if d.a == 0 else None
        return int(d)
    return int(n) - int(end)  # type: ignore[call-overload]


def _ratio(size: object, dim: object) -> float:
    if isinstance(size, Len) or isinstance(dim, Len):
        if isinstance(size, Len) and isinstance(dim, Len) and dim.a and size.b == dim.b * (size.a // dim.a):
            return float(size.a // dim.a)
        return float("nan")
    return float(int(size)) / float(int(dim))  # type: ignore[call-overload]


def _show(value: object) -> str:
    return value.text() if isinstance(value, Len) else str(value)


def _nearest_is_repeat(factor: int, coord_mode: str, nearest_mode: str) -> bool:
    """Whether ONNX Resize's index mapping equals out[i] = in[i // factor] (checked over 3 frames)."""
    i = np.arange(3 * factor, dtype=np.float64)
    if coord_mode == "asymmetric":
        x = i / factor
    elif coord_mode in ("half_pixel", "pytorch_half_pixel"):
        x = (i + 0.5) / factor - 0.5
    else:
        return False
    rounders = {"floor": np.floor, "ceil": np.ceil,
                "round_prefer_floor": lambda y: np.ceil(y - 0.5),
                "round_prefer_ceil": lambda y: np.floor(y + 0.5)}
    if nearest_mode not in rounders:
        return False
    src = np.clip(rounders[nearest_mode](x), 0, 2)
    return bool(np.array_equal(src, i // factor))
