"""A configurable WaveNet vocoder (PyTorch) and its ONNX export.

The exported graph is the teacher-forced, full-sequence network:

    inputs   x   int64 [1, T]          mu-law class of the previous sample (x[t] = class(y[t-1]))
             mel float [1, n_mels, F]  log-mel frames, T = F * hop
    output   logits float [1, 256, T]

Other ends of the sample loop, as public vocoders have them (``input`` and ``head`` in the
config): a float one-hot input [1, Q, T] (r9y9 mulaw-256), a one-hot built in the graph from the
int64 classes (PyTorch's one_hot, an Equal against arange, kan-bayashi's scatter into zeros),
or the previous sample's value [1, 1, T] (r9y9 scalar_input); a mixture of logistics head
[1, 3K, T] or a Gaussian head [1, 2, T]. Those inputs reach the first layer through a causal
conv of ``input_kernel`` taps instead of the embedding.

Every layer: causal dilated conv (left pad (k-1)*d) + 1x1 conditioning projection, gated
tanh * sigmoid, 1x1 residual and 1x1 skip projections. Head: relu, 1x1, relu, 1x1 -> 256 classes.

Run ``python examples/wavenet.py --config tiny -o examples/models/tiny.onnx`` to export.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F


@dataclasses.dataclass(frozen=True)
class WaveNetConfig:
    """Hyper-parameters of the vocoder."""

    stacks: int = 2
    layers_per_stack: int = 10
    kernel_size: int = 2
    residual_channels: int = 64
    gate_channels: int = 128  # conv output; half goes through tanh, half through sigmoid
    skip_channels: int = 128
    n_mels: int = 80
    hop: int = 200
    upsample: str = "repeat"  # "repeat" (nearest) or "transpose" (ConvTranspose1d, kernel == stride)
    classes: int = 256
    dilation_cycle: int = 0  # 0: dilations 1, 2, 4, ... 2**(layers_per_stack-1) in every stack
    input: str = "embed"  # one of INPUTS
    input_kernel: int = 1  # taps of the first conv (inputs other than "embed")
    head: str = "categorical"  # "categorical" (classes), "mol" (3 * mixtures), "gaussian" (2)
    mixtures: int = 10

    @property
    def outputs(self) -> int:
        return {"categorical": self.classes, "mol": 3 * self.mixtures, "gaussian": 2}[self.head]

    @property
    def dilations(self) -> list[int]:
        cycle = self.dilation_cycle or self.layers_per_stack
        per_stack = [2 ** (i % cycle) for i in range(self.layers_per_stack)]
        return per_stack * self.stacks

    @property
    def receptive_field(self) -> int:
        return 1 + sum((self.kernel_size - 1) * d for d in self.dilations)


INPUTS = ("embed", "onehot", "onehot_op", "onehot_equal", "onehot_scatter", "scalar")

CONFIGS: dict[str, WaveNetConfig] = {
    "tiny": WaveNetConfig(stacks=1, layers_per_stack=4, residual_channels=16, gate_channels=32,
                          skip_channels=32, n_mels=80, hop=200),
    "tiny-transpose": WaveNetConfig(stacks=1, layers_per_stack=4, residual_channels=16,
                                    gate_channels=32, skip_channels=32, n_mels=80, hop=200,
                                    upsample="transpose"),
    "base": WaveNetConfig(),
}


class ResidualLayer(nn.Module):
    def __init__(self, cfg: WaveNetConfig, dilation: int, last: bool) -> None:
        super().__init__()
        self.pad = (cfg.kernel_size - 1) * dilation
        self.conv = nn.Conv1d(cfg.residual_channels, cfg.gate_channels, cfg.kernel_size,
                              dilation=dilation)
        self.cond = nn.Conv1d(cfg.n_mels, cfg.gate_channels, 1)
        half = cfg.gate_channels // 2
        self.skip = nn.Conv1d(half, cfg.skip_channels, 1)
        self.res = None if last else nn.Conv1d(half, cfg.residual_channels, 1)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a = self.conv(F.pad(x, (self.pad, 0))) + self.cond(c)
        a_tanh, a_sig = a.chunk(2, dim=1)
        z = torch.tanh(a_tanh) * torch.sigmoid(a_sig)
        out = x if self.res is None else (x + self.res(z)) * math.sqrt(0.5)
        return out, self.skip(z)


class WaveNet(nn.Module):
    def __init__(self, cfg: WaveNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        if cfg.input == "embed":
            self.embed = nn.Embedding(cfg.classes, cfg.residual_channels)
        elif cfg.input in INPUTS:
            width = 1 if cfg.input == "scalar" else cfg.classes
            self.first = nn.Conv1d(width, cfg.residual_channels, cfg.input_kernel)
            self.register_buffer("arange", torch.arange(cfg.classes).view(1, -1, 1))
        else:
            raise ValueError(f"unknown input {cfg.input!r}")
        if cfg.upsample == "transpose":
            self.upsample = nn.ConvTranspose1d(cfg.n_mels, cfg.n_mels, cfg.hop, stride=cfg.hop)
        elif cfg.upsample != "repeat":
            raise ValueError(f"unknown upsample mode {cfg.upsample!r}")
        n = len(cfg.dilations)
        self.layers = nn.ModuleList(
            ResidualLayer(cfg, d, i == n - 1) for i, d in enumerate(cfg.dilations))
        self.head1 = nn.Conv1d(cfg.skip_channels, cfg.skip_channels, 1)
        self.head2 = nn.Conv1d(cfg.skip_channels, cfg.outputs, 1)

    def upsample_mel(self, mel: torch.Tensor) -> torch.Tensor:
        if self.cfg.upsample == "transpose":
            return self.upsample(mel)
        return F.interpolate(mel, scale_factor=float(self.cfg.hop), mode="nearest")

    def sample_input(self, x: torch.Tensor) -> torch.Tensor:
        """The first layer's input [1, residual_channels, T] from the samples input."""
        kind, q = self.cfg.input, self.cfg.classes
        if kind == "embed":
            return self.embed(x).transpose(1, 2)
        if kind == "onehot_op":
            x = F.one_hot(x, q).transpose(1, 2).float()
        elif kind == "onehot_equal":
            x = (x.unsqueeze(1) == self.arange).float()
        elif kind == "onehot_scatter":  # kan-bayashi's OneHot module
            x = (x % q).unsqueeze(-1)
            x = x.new_zeros(x.size(0), x.size(1), q).float().scatter_(-1, x, 1).transpose(1, 2)
        return self.first(F.pad(x, (self.cfg.input_kernel - 1, 0)))

    def forward(self, x: torch.Tensor, mel: torch.Tensor) -> torch.Tensor:
        h = self.sample_input(x)
        c = self.upsample_mel(mel)
        skips = None
        for layer in self.layers:
            h, s = layer(h, c)
            skips = s if skips is None else skips + s
        y = self.head1(F.relu(skips))
        return self.head2(F.relu(y))


def build(name_or_cfg: str | WaveNetConfig, seed: int = 0) -> WaveNet:
    """A WaveNet with deterministic random weights (trained weights come from checkpoints)."""
    cfg = CONFIGS[name_or_cfg] if isinstance(name_or_cfg, str) else name_or_cfg
    torch.manual_seed(seed)
    model = WaveNet(cfg)
    with torch.no_grad():  # spread the logits so sampling is not trivially uniform
        model.head2.weight.mul_(4.0)
    return model.eval()


def example_inputs(cfg: WaveNetConfig, frames: int = 4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, cfg.classes, (1, frames * cfg.hop), generator=g)
    mel = torch.randn(1, cfg.n_mels, frames, generator=g)
    if cfg.input == "onehot":
        x = F.one_hot(x, cfg.classes).transpose(1, 2).float()
    elif cfg.input == "scalar":
        x = torch.rand(1, 1, frames * cfg.hop, generator=g) * 2 - 1
    return x, mel


def export(model: WaveNet, path: Path, dynamo: bool = True, opset: int = 18,
           static_frames: int | None = None, names: tuple[str, str] = ("x", "mel")) -> None:
    """Export to one ONNX file with a dynamic time axis, or a static one of static_frames
    frames; names: the samples and mel inputs' names."""
    x, mel = example_inputs(model.cfg, frames=static_frames or 4)
    time = x.dim() - 1
    path.parent.mkdir(parents=True, exist_ok=True)
    if dynamo:
        frames = torch.export.Dim("frames", min=1, max=100000)
        shapes = (None if static_frames else
                  {"x": {time: frames * model.cfg.hop}, "mel": {2: frames}})
        program = torch.onnx.export(model, (x, mel), dynamo=True, dynamic_shapes=shapes,
                                    input_names=list(names), output_names=["logits"],
                                    opset_version=opset, external_data=False)
        program.save(str(path))
    else:
        axes = (None if static_frames else
                {names[0]: {time: "samples"}, names[1]: {2: "frames"}, "logits": {2: "samples"}})
        torch.onnx.export(model, (x, mel), str(path), dynamo=False, input_names=list(names),
                          output_names=["logits"], dynamic_axes=axes, opset_version=opset)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="tiny", choices=sorted(CONFIGS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--legacy", action="store_true", help="TorchScript exporter (dynamo=False)")
    ap.add_argument("--opset", type=int, default=18)
    ap.add_argument("--checkpoint", type=Path, help="load trained weights (state_dict)")
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args()
    model = build(args.config, args.seed)
    if args.checkpoint:
        state = torch.load(args.checkpoint, map_location="cpu")
        model.load_state_dict(state.get("model", state))
    export(model, args.output, dynamo=not args.legacy, opset=args.opset)
    print(json.dumps({"output": str(args.output), "config": dataclasses.asdict(model.cfg)}))


if __name__ == "__main__":
    main()
