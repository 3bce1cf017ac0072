"""WaveNet vocoders shaped like the ones people already have, and their ONNX exports.

wncc must compile the WaveNet vocoders that exist, not only ``examples/wavenet.py``. This file
re-implements (our code, same structure) the public WaveNet vocoder families, so that their
exported ONNX graphs have the same ops, padding, slicing, scaling and weight normalization as an
export of the original would. Module and parameter names follow the originals, so a checkpoint
of the original loads into these definitions with ``load_state_dict``.
``tests/frontend/test_real_checkout.py`` checks this against real checkouts (r9y9/wavenet_vocoder
a35fff7, kan-bayashi/PytorchWaveNetVocoder d071ed3 and NVIDIA/nv-wavenet 03f6957 pass): the
original's weights load strictly, both compute the same output, and both export to the same
ONNX ops.

Families (every forward is the teacher-forced full sequence, ``(x, mel) -> [1, C_out, T]``):

| family          | mirrors                                | x                     | mel frames  |
|-----------------|----------------------------------------|-----------------------|-------------|
| `r9y9-mulaw`    | r9y9/wavenet_vocoder, mulaw-quantize   | one-hot f32 [1,256,T] | T/hop+2*pad |
| `r9y9-mol`      | r9y9, raw input, mixture of logistics  | float [1,1,T]         | T/hop+2*pad |
| `r9y9-gaussian` | r9y9, raw input, Normal                | float [1,1,T]         | T/hop+2*pad |
| `kan-bayashi`   | kan-bayashi/PytorchWaveNetVocoder      | int64 classes [1,T]   | T/hop       |
| `nv-wavenet`    | NVIDIA/nv-wavenet (pytorch/wavenet.py) | int64 classes [1,T]   | T/hop       |

Outputs are [1,256,T] (``logits``) for the class families, [1,3K,T] and [1,2,T] (``params``) for
r9y9-mol and -gaussian. pad is cin_pad (2 by default); raw input is in [-1, 1]; K mixtures
(10 by default).

What each one puts in the graph:

- r9y9 (``wavenet_vocoder/{wavenet,modules,upsample}.py``): first conv 1x1; residual layers
  ``ResidualConv1dGLU``: a kernel-3 dilated conv padded (k-1)*d on *both* sides whose future
  tail is sliced off (``x[:, :, :T]``), the gate split in two halves, a bias-free 1x1
  conditioning conv per layer, 1x1 skip and residual convs, ``(x + residual) * sqrt(0.5)``;
  skips summed and scaled by ``sqrt(1/layers)``; head ReLU-1x1-ReLU-1x1. Every conv carries
  weight normalization (``torch.nn.utils.weight_norm``, as r9y9 does; ``weight_norm=
  "parametrization"`` or ``"none"`` to change). Mel upsampling is ``ConvInUpsampleNetwork``: a
  bias-free conv_in of kernel 2*cin_pad+1 without padding over the mel frames (so the mel input
  has T/hop + 2*cin_pad frames), then per upsample scale s a nearest ``F.interpolate`` on a 4-D
  ``[B,1,C,T]`` tensor (Resize in ONNX) and a bias-free ``Conv2d(1,1,(1,2s+1),padding=(0,s))``.
  Default scales [4,4] (hop 16); r9y9's recipes use [4,4,4,4] (hop 256).
- kan-bayashi (``wavenet_vocoder/nets/wavenet.py``): the one-hot is built in the graph
  (``x % depth``, unsqueeze, ``scatter_`` into ``new_zeros``, transpose); causal convs of kernel
  2 padded (k-1)*d on both sides with the tail sliced off (``x[:, :, :-padding]``); separate
  dilated convs and separate 1x1 aux convs for the tanh and the sigmoid half; unscaled residual
  add; 1x1 skips summed; head relu-1x1-relu-1x1; upsampling by
  ``ConvTranspose2d(1,1,(1,hop),stride=(1,hop))`` on ``[B,1,C,T]`` (with a bias, as theirs).
  The original returns ``[B,T,C]`` (a final transpose); ``time_major_output=True`` gives that.
- nv-wavenet (``pytorch/wavenet.py``): ``nn.Embedding`` of the input classes; overlapping
  ``ConvTranspose1d(n_mels, n_mels, 4*hop, stride=hop)`` upsampling whose 3*hop extra samples are
  sliced off (``[:, :, :T]``); ONE conditioning conv producing every layer's projection
  (``layers * 2 * residual_channels`` channels), viewed as ``[B, layers, 2R, T]`` and indexed per
  layer; left ``F.pad`` causal kernel-2 convs; gate halves by slicing; unscaled residual (none on
  the last layer); skips summed; head relu-1x1-relu-1x1 without biases. The original's training
  forward also shifts the output one step (``shift_output=True``); off by default, so that
  logits[t] is the distribution of sample t given x[t] = class of sample t-1.

Weights are random, seeded and at a sane scale (the originals' initializers, with the constant
kernels — upsampling averages, weight-norm gains — perturbed so that a compiler which flips a
kernel or drops a gain gets a different answer).

Export (``--exporter dynamo`` is ``torch.onnx.export(..., dynamo=True)``, ``legacy`` the
TorchScript exporter; ``--dynamic`` makes the time axes dynamic; ``--set`` overrides a config
field with a JSON value)::

    python examples/families.py r9y9-mulaw -o r9y9.onnx
    python examples/families.py r9y9-mol -o mol.onnx --exporter legacy --dynamic --opset 17
    python examples/families.py r9y9-mulaw -o r9y9-256.onnx --set 'upsample_scales=[4,4,4,4]'
    python examples/families.py kan-bayashi -o kb.onnx --set n_aux=28 --seed 3
    python examples/families.py nv-wavenet -o nv.onnx --set layers=8

What the exports hold (torch 2.13, default configs; Constant nodes not counted):

- r9y9, dynamo: Conv (weight norm folded into the weights), Resize x2, Split (gate and
  conditioning halves), Slice (the future tail, static ends), Tanh, Sigmoid, Mul (gate,
  sqrt(0.5), sqrt(1/layers)), Add, Relu, Unsqueeze/Squeeze around the 4-D upsampling; convs
  padded symmetrically. Legacy: the same plus weight norm left in the graph on the
  initializers g and v (ReduceL2, Div, Mul per conv) and, with dynamic axes, the slice ends
  computed from Shape.
- kan-bayashi: Mod, Unsqueeze, ConstantOfShape (legacy: Expand), ScatterElements, Transpose for
  the one-hot; Conv padded on both sides + Slice; ConvTranspose (1, hop) on [B,1,C,T]; Sigmoid,
  Tanh, Mul, Add, Relu. The legacy exporter names the output's batch dim ``Convlogits_dim_0``.
- nv-wavenet, dynamo: Gather (embedding), Transpose, ConvTranspose (kernel 4*hop, stride hop),
  Slice to T, one Conv with layers*2R outputs, Reshape to [B, layers, 2R, T], Gather per layer,
  Slices for the gate halves; the causal ``F.pad`` is fused into the Conv pads (left only).
  Legacy: the pads stay as Pad nodes whose pads are computed in the graph (ConstantOfShape,
  Concat, Reshape, Slice, Transpose, Cast), and the embedding input has a Cast.

The last layer's residual 1x1 is never read, so both exporters drop it.

Opsets 17..23 work with both exporters, with one catch of torch's: dynamo builds opset 18 and
converts it, and at 17 onnx's version converter fails on this graph (Split/Squeeze axes), so the
file keeps opset 18 (the printed ``opset`` is the file's).

Each export is run under ONNX Runtime and compared with torch's output (printed as
``max_abs_err``; ``--no-check`` skips it).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import warnings
from pathlib import Path
from typing import Callable

import torch
from torch import nn
from torch.nn import functional as F

EXPORTERS = ("dynamo", "legacy")
WEIGHT_NORMS = ("hook", "parametrization", "none")


def _weight_norm(m: nn.Module, mode: str) -> nn.Module:
    """Weight normalization as the original spells it (``hook``: torch.nn.utils.weight_norm)."""
    if mode == "none":
        return m
    if mode == "parametrization":
        return nn.utils.parametrizations.weight_norm(m)
    if mode != "hook":
        raise ValueError(f"weight_norm must be one of {WEIGHT_NORMS}, not {mode!r}")
    with warnings.catch_warnings():  # deprecated in torch, still what r9y9's checkpoints hold
        warnings.simplefilter("ignore")
        return nn.utils.weight_norm(m)


def _perturb_gains(model: nn.Module, g: torch.Generator) -> None:
    """Weight norm starts with gain == |v|; spread the gains so the graph's g matters."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("weight_g") or name.endswith("original0"):
                p.mul_(0.75 + 0.5 * torch.rand(p.shape, generator=g))


# ---------------------------------------------------------------------------------------------
# r9y9/wavenet_vocoder
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class R9y9Config:
    """r9y9's hparams that shape the graph (``egs/*/conf/*.json``), small by default."""

    out_channels: int = 256  # 256 for mulaw-quantize, 3 * mixtures for MoL, 2 for Normal
    scalar_input: bool = False  # raw input [1,1,T] instead of a one-hot [1,out_channels,T]
    layers: int = 4
    stacks: int = 2
    residual_channels: int = 16
    gate_channels: int = 32
    skip_out_channels: int = 16
    kernel_size: int = 3
    dropout: float = 0.05  # identity in eval mode, exported as nothing
    cin_channels: int = 80
    cin_pad: int = 2
    upsample_scales: tuple[int, ...] = (4, 4)
    weight_norm: str = "hook"

    @property
    def hop(self) -> int:
        return math.prod(self.upsample_scales)

    @property
    def mel_pad(self) -> int:
        """Mel frames the conv_in consumes on each side."""
        return self.cin_pad

    x_time_axis = 2  # x is [1, channels, T]
    out_time_axis = 2


def _r9y9_conv1d(cin: int, cout: int, kernel_size: int, weight_norm: str, **kw) -> nn.Module:
    m = nn.Conv1d(cin, cout, kernel_size, **kw)
    nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    if m.bias is not None:
        nn.init.uniform_(m.bias, -0.1, 0.1)
    return _weight_norm(m, weight_norm)


def _r9y9_conv1x1(cin: int, cout: int, weight_norm: str, bias: bool = True) -> nn.Module:
    return _r9y9_conv1d(cin, cout, 1, weight_norm, padding=0, dilation=1, bias=bias)


class ResidualConv1dGLU(nn.Module):
    """Dilated conv padded on both sides, tail sliced off; gated by split halves; 1x1 cond."""

    def __init__(self, cfg: R9y9Config, dilation: int) -> None:
        super().__init__()
        self.dropout = cfg.dropout
        wn = cfg.weight_norm
        self.conv = _r9y9_conv1d(cfg.residual_channels, cfg.gate_channels, cfg.kernel_size, wn,
                                 padding=(cfg.kernel_size - 1) * dilation, dilation=dilation)
        self.conv1x1c = _r9y9_conv1x1(cfg.cin_channels, cfg.gate_channels, wn, bias=False)
        half = cfg.gate_channels // 2
        self.conv1x1_out = _r9y9_conv1x1(half, cfg.residual_channels, wn)
        self.conv1x1_skip = _r9y9_conv1x1(half, cfg.skip_out_channels, wn)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        residual = x
        x = F.dropout(x, p=self.dropout, training=self.training)
        x = self.conv(x)
        x = x[:, :, :residual.size(-1)]  # the symmetric padding's future half
        a, b = x.split(x.size(1) // 2, dim=1)
        c = self.conv1x1c(c)
        ca, cb = c.split(c.size(1) // 2, dim=1)
        a, b = a + ca, b + cb
        x = torch.tanh(a) * torch.sigmoid(b)
        s = self.conv1x1_skip(x)
        x = self.conv1x1_out(x)
        return (x + residual) * math.sqrt(0.5), s


class Stretch2d(nn.Module):
    """Nearest-neighbour stretch of a [B, 1, C, T] tensor (a Resize in ONNX)."""

    def __init__(self, x_scale: int, y_scale: int, mode: str = "nearest") -> None:
        super().__init__()
        self.x_scale, self.y_scale, self.mode = x_scale, y_scale, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=(self.y_scale, self.x_scale), mode=self.mode)


class UpsampleNetwork(nn.Module):
    """Per scale: stretch, then a bias-free (1, 2s+1) Conv2d smoothing along time."""

    def __init__(self, upsample_scales: tuple[int, ...], weight_norm: str) -> None:
        super().__init__()
        self.up_layers = nn.ModuleList()
        for scale in upsample_scales:
            k = (1, 2 * scale + 1)
            conv = nn.Conv2d(1, 1, kernel_size=k, padding=(0, scale), bias=False)
            with torch.no_grad():  # r9y9: an average (1/k); perturbed so its order shows
                conv.weight.fill_(1.0 / math.prod(k))
                conv.weight.mul_(1.0 + 0.2 * torch.randn_like(conv.weight))
            self.up_layers.append(Stretch2d(scale, 1))
            self.up_layers.append(_weight_norm(conv, weight_norm))

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        c = c.unsqueeze(1)  # B x 1 x C x T
        for f in self.up_layers:
            c = f(c)
        return c.squeeze(1)


class ConvInUpsampleNetwork(nn.Module):
    """A valid conv over 2*cin_pad+1 mel frames (context), then the upsampling network."""

    def __init__(self, cfg: R9y9Config) -> None:
        super().__init__()
        self.conv_in = nn.Conv1d(cfg.cin_channels, cfg.cin_channels,
                                 kernel_size=2 * cfg.cin_pad + 1, bias=False)
        self.upsample = UpsampleNetwork(cfg.upsample_scales, cfg.weight_norm)

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        return self.upsample(self.conv_in(c))


class R9y9WaveNet(nn.Module):
    """r9y9's WaveNet with local conditioning (no global conditioning)."""

    def __init__(self, cfg: R9y9Config) -> None:
        super().__init__()
        if cfg.layers % cfg.stacks:
            raise ValueError("layers must be a multiple of stacks")
        self.cfg = cfg
        wn = cfg.weight_norm
        self.first_conv = _r9y9_conv1x1(1 if cfg.scalar_input else cfg.out_channels,
                                        cfg.residual_channels, wn)
        per_stack = cfg.layers // cfg.stacks
        self.conv_layers = nn.ModuleList(
            ResidualConv1dGLU(cfg, 2 ** (i % per_stack)) for i in range(cfg.layers))
        self.last_conv_layers = nn.ModuleList([
            nn.ReLU(inplace=True),
            _r9y9_conv1x1(cfg.skip_out_channels, cfg.skip_out_channels, wn),
            nn.ReLU(inplace=True),
            _r9y9_conv1x1(cfg.skip_out_channels, cfg.out_channels, wn),
        ])
        self.upsample_net = ConvInUpsampleNetwork(cfg)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        c = self.upsample_net(c)
        assert c.size(-1) == x.size(-1)
        x = self.first_conv(x)
        skips = 0
        for f in self.conv_layers:
            x, h = f(x, c)
            skips += h
        skips *= math.sqrt(1.0 / len(self.conv_layers))
        x = skips
        for f in self.last_conv_layers:
            x = f(x)
        return x

    def example_inputs(self, frames: int = 4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.cfg
        g = torch.Generator().manual_seed(seed)
        t = frames * cfg.hop
        if cfg.scalar_input:
            x = torch.rand(1, 1, t, generator=g) * 2 - 1
        else:
            x = F.one_hot(torch.randint(0, cfg.out_channels, (1, t), generator=g),
                          cfg.out_channels).transpose(1, 2).float()
        mel = torch.randn(1, cfg.cin_channels, frames + 2 * cfg.cin_pad, generator=g)
        return x, mel


# ---------------------------------------------------------------------------------------------
# kan-bayashi/PytorchWaveNetVocoder
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class KanBayashiConfig:
    """kan-bayashi's WaveNet arguments (``bin/train.py``), small by default."""

    n_quantize: int = 256
    n_aux: int = 80  # 80 for feature_type melspc; their WORLD features are 28
    n_resch: int = 16
    n_skipch: int = 32
    dilation_depth: int = 3
    dilation_repeat: int = 2
    kernel_size: int = 2
    upsampling_factor: int = 16  # hop
    upsampling_bias: bool = True
    time_major_output: bool = False  # the original's final transpose: [B, T, n_quantize]

    @property
    def hop(self) -> int:
        return self.upsampling_factor

    @property
    def mel_pad(self) -> int:
        return 0

    x_time_axis = 1  # x is [1, T]

    @property
    def out_time_axis(self) -> int:
        return 1 if self.time_major_output else 2


class OneHot(nn.Module):
    """One-hot built in the graph: modulo, unsqueeze, scatter_ into new_zeros."""

    def __init__(self, depth: int) -> None:
        super().__init__()
        self.depth = depth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x % self.depth
        x = torch.unsqueeze(x, 2)
        x_onehot = x.new_zeros(x.size(0), x.size(1), self.depth).float()
        return x_onehot.scatter_(2, x, 1)


class CausalConv1d(nn.Module):
    """Conv padded (k-1)*d on both sides; the last (k-1)*d outputs are sliced off."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 dilation: int = 1, bias: bool = True) -> None:
        super().__init__()
        self.padding = (kernel_size - 1) * dilation
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, padding=self.padding,
                              dilation=dilation, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.padding != 0:
            x = x[:, :, :-self.padding]
        return x


class UpSampling(nn.Module):
    """ConvTranspose2d (1, hop) with stride (1, hop) on [B, 1, C, T]: no overlap."""

    def __init__(self, upsampling_factor: int, bias: bool = True) -> None:
        super().__init__()
        self.conv = nn.ConvTranspose2d(1, 1, kernel_size=(1, upsampling_factor),
                                       stride=(1, upsampling_factor), bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x.unsqueeze(1)).squeeze(1)


class KanBayashiWaveNet(nn.Module):
    """kan-bayashi's conditional WaveNet: separate tanh and sigmoid convs per layer."""

    def __init__(self, cfg: KanBayashiConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.dilations = [2 ** i for i in range(cfg.dilation_depth)] * cfg.dilation_repeat
        self.onehot = OneHot(cfg.n_quantize)
        self.causal = CausalConv1d(cfg.n_quantize, cfg.n_resch, cfg.kernel_size)
        self.upsampling = UpSampling(cfg.upsampling_factor, bias=cfg.upsampling_bias)
        self.dil_sigmoid = nn.ModuleList()
        self.dil_tanh = nn.ModuleList()
        self.aux_1x1_sigmoid = nn.ModuleList()
        self.aux_1x1_tanh = nn.ModuleList()
        self.skip_1x1 = nn.ModuleList()
        self.res_1x1 = nn.ModuleList()
        for d in self.dilations:
            self.dil_sigmoid.append(CausalConv1d(cfg.n_resch, cfg.n_resch, cfg.kernel_size, d))
            self.dil_tanh.append(CausalConv1d(cfg.n_resch, cfg.n_resch, cfg.kernel_size, d))
            self.aux_1x1_sigmoid.append(nn.Conv1d(cfg.n_aux, cfg.n_resch, 1))
            self.aux_1x1_tanh.append(nn.Conv1d(cfg.n_aux, cfg.n_resch, 1))
            self.skip_1x1.append(nn.Conv1d(cfg.n_resch, cfg.n_skipch, 1))
            self.res_1x1.append(nn.Conv1d(cfg.n_resch, cfg.n_resch, 1))
        self.conv_post_1 = nn.Conv1d(cfg.n_skipch, cfg.n_skipch, 1)
        self.conv_post_2 = nn.Conv1d(cfg.n_skipch, cfg.n_quantize, 1)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        output = self.causal(self.onehot(x).transpose(1, 2))
        h = self.upsampling(h)
        skip_connections = []
        for i in range(len(self.dilations)):
            output_sigmoid = self.dil_sigmoid[i](output)
            output_tanh = self.dil_tanh[i](output)
            aux_sigmoid = self.aux_1x1_sigmoid[i](h)
            aux_tanh = self.aux_1x1_tanh[i](h)
            z = torch.sigmoid(output_sigmoid + aux_sigmoid) * torch.tanh(output_tanh + aux_tanh)
            skip_connections.append(self.skip_1x1[i](z))
            output = self.res_1x1[i](z) + output
        output = F.relu(sum(skip_connections))
        output = self.conv_post_2(F.relu(self.conv_post_1(output)))
        return output.transpose(1, 2) if self.cfg.time_major_output else output

    def example_inputs(self, frames: int = 4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.cfg
        g = torch.Generator().manual_seed(seed)
        x = torch.randint(0, cfg.n_quantize, (1, frames * cfg.hop), generator=g)
        return x, torch.randn(1, cfg.n_aux, frames, generator=g)


def _init_kan_bayashi(model: KanBayashiWaveNet) -> None:
    """Their ``initialize``: xavier convs, zero biases, ones for the transposed conv; perturbed."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv1d):
                nn.init.xavier_uniform_(m.weight)
                nn.init.uniform_(m.bias, -0.1, 0.1)
            if isinstance(m, nn.ConvTranspose2d):
                m.weight.fill_(1.0).mul_(1.0 + 0.2 * torch.randn_like(m.weight))
                if m.bias is not None:
                    m.bias.fill_(0.05)


# ---------------------------------------------------------------------------------------------
# NVIDIA/nv-wavenet (pytorch/wavenet.py): embedding + overlapping upsampling + one cond conv
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class NvWaveNetConfig:
    """nv-wavenet's ``wavenet_config`` (``pytorch/config.json``), small by default."""

    n_in_channels: int = 256
    n_layers: int = 6
    max_dilation: int = 8
    n_residual_channels: int = 16
    n_skip_channels: int = 32
    n_out_channels: int = 256
    n_cond_channels: int = 80
    upsamp_stride: int = 16  # hop
    upsamp_window: int = 64  # 4 * hop, as nv-wavenet's 800 / 200
    upsamp_padding: int = 0  # nv-wavenet pads nothing and slices the tail instead
    shift_output: bool = False  # nv-wavenet's training forward: drop the last step, zeros first

    @property
    def hop(self) -> int:
        return self.upsamp_stride

    @property
    def mel_pad(self) -> int:
        return 0

    x_time_axis = 1  # x is [1, T]
    out_time_axis = 2


class Conv(nn.Module):
    """Conv1d with xavier init and an optional left pad (F.pad) that makes it causal."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1,
                 dilation: int = 1, bias: bool = True, w_init_gain: str = "linear",
                 is_causal: bool = False) -> None:
        super().__init__()
        self.is_causal = is_causal
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size=kernel_size,
                              dilation=dilation, bias=bias)
        nn.init.xavier_uniform_(self.conv.weight, gain=nn.init.calculate_gain(w_init_gain))
        if bias:
            nn.init.uniform_(self.conv.bias, -0.1, 0.1)

    def forward(self, signal: torch.Tensor) -> torch.Tensor:
        if self.is_causal:
            signal = F.pad(signal, ((self.kernel_size - 1) * self.dilation, 0))
        return self.conv(signal)


class NvWaveNet(nn.Module):
    """nv-wavenet's training network: one conditioning conv for all layers, viewed per layer."""

    def __init__(self, cfg: NvWaveNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        r = cfg.n_residual_channels
        self.n_layers = cfg.n_layers
        self.n_residual_channels = r
        self.upsample = nn.ConvTranspose1d(cfg.n_cond_channels, cfg.n_cond_channels,
                                           cfg.upsamp_window, cfg.upsamp_stride,
                                           padding=cfg.upsamp_padding)
        self.cond_layers = Conv(cfg.n_cond_channels, 2 * r * cfg.n_layers, w_init_gain="tanh")
        self.dilate_layers = nn.ModuleList()
        self.res_layers = nn.ModuleList()
        self.skip_layers = nn.ModuleList()
        self.embed = nn.Embedding(cfg.n_in_channels, r)
        self.conv_out = Conv(cfg.n_skip_channels, cfg.n_out_channels, bias=False,
                             w_init_gain="relu")
        self.conv_end = Conv(cfg.n_out_channels, cfg.n_out_channels, bias=False)
        loop = int(math.log2(cfg.max_dilation)) + 1
        for i in range(cfg.n_layers):
            self.dilate_layers.append(Conv(r, 2 * r, kernel_size=2, dilation=2 ** (i % loop),
                                           w_init_gain="tanh", is_causal=True))
            if i < cfg.n_layers - 1:  # the last layer's residual is never read
                self.res_layers.append(Conv(r, r))
            self.skip_layers.append(Conv(r, cfg.n_skip_channels, w_init_gain="relu"))

    def forward(self, x: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        cond_input = self.upsample(features)
        assert cond_input.size(2) >= x.size(1)
        if cond_input.size(2) > x.size(1):
            cond_input = cond_input[:, :, :x.size(1)]
        forward_input = self.embed(x.long()).transpose(1, 2)  # a Cast in legacy exports, as theirs
        cond_acts = self.cond_layers(cond_input)
        cond_acts = cond_acts.view(cond_acts.size(0), self.n_layers, -1, cond_acts.size(2))
        r = self.n_residual_channels
        output = None
        for i in range(self.n_layers):
            in_act = self.dilate_layers[i](forward_input) + cond_acts[:, i, :, :]
            acts = torch.tanh(in_act[:, :r, :]) * torch.sigmoid(in_act[:, r:, :])
            if i < len(self.res_layers):
                forward_input = self.res_layers[i](acts) + forward_input
            skip = self.skip_layers[i](acts)
            output = skip if output is None else skip + output
        output = self.conv_end(F.relu(self.conv_out(F.relu(output))))
        if self.cfg.shift_output:
            last = output[:, :, -1].unsqueeze(2)
            output = torch.cat((last * 0.0, output[:, :, :-1]), dim=2)
        return output

    def example_inputs(self, frames: int = 4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.cfg
        g = torch.Generator().manual_seed(seed)
        x = torch.randint(0, cfg.n_in_channels, (1, frames * cfg.hop), generator=g)
        return x, torch.randn(1, cfg.n_cond_channels, frames, generator=g)


# ---------------------------------------------------------------------------------------------
# Families, building, export, checking
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Family:
    name: str
    config: object  # the default config (a frozen dataclass)
    make: Callable[[object], nn.Module]
    output_name: str
    mirrors: str


def _make_r9y9(cfg: R9y9Config) -> nn.Module:
    return R9y9WaveNet(cfg)


def _make_kan_bayashi(cfg: KanBayashiConfig) -> nn.Module:
    model = KanBayashiWaveNet(cfg)
    _init_kan_bayashi(model)
    return model


def _make_nv(cfg: NvWaveNetConfig) -> nn.Module:
    return NvWaveNet(cfg)


FAMILIES: dict[str, Family] = {f.name: f for f in [
    Family("r9y9-mulaw", R9y9Config(), _make_r9y9, "logits",
           "r9y9/wavenet_vocoder, mulaw-quantize (one-hot input, 256 classes)"),
    Family("r9y9-mol", R9y9Config(out_channels=30, scalar_input=True), _make_r9y9, "params",
           "r9y9/wavenet_vocoder, raw input, mixture of logistics (10 mixtures)"),
    Family("r9y9-gaussian", R9y9Config(out_channels=2, scalar_input=True), _make_r9y9, "params",
           "r9y9/wavenet_vocoder, raw input, single Gaussian"),
    Family("kan-bayashi", KanBayashiConfig(), _make_kan_bayashi, "logits",
           "kan-bayashi/PytorchWaveNetVocoder (in-graph one-hot, separate tanh/sigmoid convs)"),
    Family("nv-wavenet", NvWaveNetConfig(), _make_nv, "logits",
           "NVIDIA/nv-wavenet pytorch (embedding, overlapping upsampling, one cond conv)"),
]}


def config(family: str, **overrides) -> object:
    """The family's default config with fields replaced (lists become tuples)."""
    base = FAMILIES[family].config
    fields = {f.name for f in dataclasses.fields(base)}
    unknown = set(overrides) - fields
    if unknown:
        raise ValueError(f"{family}: unknown config fields {sorted(unknown)}; "
                         f"known: {sorted(fields)}")
    overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
    return dataclasses.replace(base, **overrides)


def build(family: str, seed: int = 0, **overrides) -> nn.Module:
    """The family's model (eval mode) with seeded random weights at a sane scale."""
    cfg = config(family, **overrides)
    torch.manual_seed(seed)
    model = FAMILIES[family].make(cfg)
    _perturb_gains(model, torch.Generator().manual_seed(seed + 1))
    return model.eval()


def _dynamic_shapes(cfg) -> tuple[dict, dict]:
    """Dynamo: the time axes as expressions of one frame count (mel may carry context frames)."""
    frames = torch.export.Dim("frames", min=2, max=100000)
    mel_frames = frames + 2 * cfg.mel_pad if cfg.mel_pad else frames
    return ({cfg.x_time_axis: frames * cfg.hop}, {2: mel_frames})


def _dynamic_axes(cfg, output_name: str) -> dict[str, dict[int, str]]:
    return {"x": {cfg.x_time_axis: "samples"}, "mel": {2: "mel_frames"},
            output_name: {cfg.out_time_axis: "samples"}}


def export(model: nn.Module, path: Path, exporter: str = "dynamo", dynamic: bool = False,
           opset: int = 18, frames: int = 4, seed: int = 0, output_name: str = "logits",
           twin: nn.Module | None = None) -> None:
    """Export ``model`` to one ONNX file (inputs ``x``, ``mel``; one output).

    ``twin`` is a model of this file that describes ``model`` (its config and example inputs)
    when ``model`` is not one: an original's class, exported the way its twin here is.
    """
    if exporter not in EXPORTERS:
        raise ValueError(f"exporter must be one of {EXPORTERS}, not {exporter!r}")
    twin = model if twin is None else twin
    inputs = twin.example_inputs(frames, seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = dict(input_names=["x", "mel"], output_names=[output_name], opset_version=opset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exporter == "dynamo":
            program = torch.onnx.export(
                model, inputs, dynamo=True, external_data=False,
                dynamic_shapes=_dynamic_shapes(twin.cfg) if dynamic else None, **names)
            program.save(str(path))
        else:
            axes = _dynamic_axes(twin.cfg, output_name) if dynamic else None
            torch.onnx.export(model, inputs, str(path), dynamo=False, dynamic_axes=axes, **names)


def check(model: nn.Module, path: Path, frames: int = 4, seed: int = 1,
          twin: nn.Module | None = None) -> float:
    """Max abs difference between ONNX Runtime's output and torch's on fresh inputs."""
    import onnxruntime as ort

    x, mel = (model if twin is None else twin).example_inputs(frames, seed)
    with torch.no_grad():
        want = model(x, mel).numpy()
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = sess.run(None, {"x": x.numpy(), "mel": mel.numpy()})
    if got.shape != want.shape:
        raise AssertionError(f"{path}: ONNX Runtime gives shape {got.shape}, torch {want.shape}")
    return float(abs(got - want).max())


def opset_of(path: Path) -> int:
    """The default-domain opset the file declares (dynamo keeps 18 where it cannot convert)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))


def _parse_set(items: list[str]) -> dict[str, object]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set wants KEY=VALUE, got {item!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("family", choices=sorted(FAMILIES))
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--exporter", choices=EXPORTERS, default="dynamo")
    ap.add_argument("--dynamic", action="store_true", help="dynamic time axes")
    ap.add_argument("--opset", type=int, default=18, help="ONNX opset (17..23)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--frames", type=int, default=4, help="mel frames of the example input")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=JSON",
                    help="override a config field, e.g. --set 'upsample_scales=[4,4,4,4]'")
    ap.add_argument("--no-check", action="store_true", help="skip the ONNX Runtime comparison")
    args = ap.parse_args()
    fam = FAMILIES[args.family]
    model = build(args.family, args.seed, **_parse_set(args.overrides))
    export(model, args.output, args.exporter, args.dynamic, args.opset, args.frames, args.seed,
           fam.output_name)
    result = {"output": str(args.output), "family": fam.name, "mirrors": fam.mirrors,
              "exporter": args.exporter, "dynamic": args.dynamic, "opset": opset_of(args.output),
              "hop": model.cfg.hop, "config": dataclasses.asdict(model.cfg)}
    if not args.no_check:
        # a dynamic graph is checked on another length than it was traced with
        frames = args.frames + 3 if args.dynamic else args.frames
        result["max_abs_err"] = check(model, args.output, frames)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
