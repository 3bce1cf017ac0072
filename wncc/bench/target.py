"""Instruction counts on a target: `wncc bench --target T`.

The model is compiled for the target, built with its toolchain, and `wn_vocode --bench` runs
under the target's emulator (qemu-system-arm boards, qemu-user CPUs) with the project's qemu
plugin counting the instructions between the entry of wn_bench_loop and the entry of
wn_bench_end, or natively under callgrind (inside wn_bench_loop) on x86 and the host. That
region holds the frame program and the sample program of every generated sample.

Reported: instructions per sample and per multiply-accumulate (frame-rate MACs amortized over
the hop), flash and RAM of the executable, and an *estimated* real-time factor at the target's
nominal clock assuming one instruction per cycle (QEMU models no cycles and no caches).

With ``profile`` (qemu targets), the plugin also counts every function's instructions over the
whole run, given per generated sample and summed into the classes of work of ``OP_CLASSES``
(a requantization is inlined into its kernel, so it counts with the matrix-vector products).
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path

import numpy as np

from wncc import counting, emulate
from wncc.compiler import compile_model
from wncc.pipeline import Ends
from wncc.errors import WnccError
from wncc.targets import load as load_target

SAMPLE_RATE = 16000


@dataclasses.dataclass
class TargetBench:
    target: str
    model: str
    dtype: str
    samples: int
    instructions: int
    instructions_per_sample: float
    instructions_per_mac: float
    flash_bytes: int
    ram_bytes: int
    clock_hz: int
    realtime_factor_estimate: float | None  # generation time / audio time at 1 instruction/cycle
    tool: str
    profile: dict[str, float] | None = None  # function -> instructions per sample (whole run)


# the classes of per-sample work, by function name prefix (first match wins)
OP_CLASSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("matrix-vector products (MACs and their requantization)",
     ("wn_conv", "wn_spmv", "wn_dwconv", "wn_convt", "wn_ring_gather", "wn_embed", "arm_")),
    ("elementwise (add, multiply, rescale)",
     ("wn_add", "wn_mul", "wn_scale", "wn_rescale", "wn_requantize", "wn_quantize",
      "wn_dequantize", "wn_onehot", "wn_fill_row")),
    ("activations and gates", ("wn_lut", "wn_gate", "wn_act16", "wn_tanh", "wn_sigmoid", "wn_relu")),
    ("sampling", ("wn_sample_s", "wn_sample_f", "wn_sample_cdf", "wn_sample_mol",
                  "wn_sample_gaussian", "wn_pcg32", "wn_cdf", "wn_below", "wn_first_max",
                  "wn_normal", "wn_uniform", "wn_pcm16")),
    ("model loop and API (wn_model.c)", ("wn_",)),
    ("C library, start-up, I/O", ("",)),
)


def op_classes(profile: dict[str, float]) -> dict[str, float]:
    """Instructions per sample by class of work (OP_CLASSES)."""
    out = {name: 0.0 for name, _ in OP_CLASSES}
    for function, n in profile.items():
        out[next(name for name, prefixes in OP_CLASSES if function.startswith(prefixes))] += n
    return out


def bench(model: str | Path, target_name: str, dtype: str, frames: int = 4,
          mel: np.ndarray | None = None, sparse: list[str] | None = None,
          cmsis_nn: str | Path | None = None, ends: Ends | None = None,
          profile: bool = False) -> TargetBench:
    target = load_target(target_name)
    if profile and target.emulator == "native":
        raise WnccError(f"{target.name}: --profile counts functions under qemu; pick an Arm target")
    if target.emulator == "native" and not counting.valgrind_can_run(target.cpu_flags):
        raise WnccError(f"{target.name}: valgrind cannot run AVX-512 code and single-stepping a "
                        "whole model is far too slow (~19 us per instruction); bench the x86 "
                        "target, or count the kernels with benchmarks/kernels.py")
    with tempfile.TemporaryDirectory(prefix="wncc-bench-") as tmp:
        work = Path(tmp)
        graph, project = compile_model(model, work / "project", target=target_name, dtype=dtype,
                                       sparse=sparse, cmsis_nn=cmsis_nn, ends=ends)
        elf = emulate.build(project, target)
        report = json.loads((project / "report.json").read_text())
        if mel is None:
            mel = np.random.default_rng(0).standard_normal((frames, graph.n_mels))
        mel = np.asarray(mel, np.float32)[:frames]
        (work / "mel.f32").write_bytes(mel.tobytes())
        cmd = emulate.command(target, elf, ["--bench", "mel.f32"])
        if target.emulator == "native":
            counts = counting.count_callgrind(cmd, cwd=work, toggle="wn_bench_loop")
        else:
            counts = counting.count_qemu(cmd, elf, "wn_bench_loop", "wn_bench_end", cwd=work,
                                         profile=profile)
    samples = mel.shape[0] * graph.hop
    per_sample = counts.region_insns / samples
    macs = report["macs_per_sample"] + report["macs_per_frame"] / graph.hop
    rtf = per_sample * SAMPLE_RATE / target.clock_hz if target.clock_hz else None
    return TargetBench(target.name, Path(model).name, dtype, samples, counts.region_insns,
                       round(per_sample, 1), round(per_sample / macs, 3),
                       report["elf"]["flash_bytes"], report["elf"]["ram_bytes"], target.clock_hz,
                       round(rtf, 4) if rtf is not None else None, counts.tool,
                       {f: round(n / samples, 1) for f, n in sorted(counts.profile.items())}
                       if counts.profile is not None else None)


def markdown(rows: list[TargetBench]) -> str:
    lines = ["| target | model | dtype | instructions / sample | instructions / MAC | flash bytes | "
             "RAM bytes | est. real-time factor @ clock |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        rtf = (f"{r.realtime_factor_estimate:.3f} @ {r.clock_hz / 1e6:g} MHz"
               if r.realtime_factor_estimate is not None else "-")
        lines.append(f"| {r.target} | {r.model} | {r.dtype} | {r.instructions_per_sample:,.0f} | "
                     f"{r.instructions_per_mac:.2f} | {r.flash_bytes:,} | {r.ram_bytes:,} | {rtf} |")
    return "\n".join(lines)


def profile_markdown(rows: list[TargetBench]) -> str:
    """Instructions per sample by class of work, a column per target (rows with a profile)."""
    rows = [r for r in rows if r.profile is not None]
    classes = [op_classes(r.profile) for r in rows]
    lines = ["| work per sample | " + " | ".join(f"{r.target} {r.model} {r.dtype}" for r in rows)
             + " |", "|---|" + "---:|" * len(rows)]
    for name, _ in OP_CLASSES:
        lines.append(f"| {name} | " + " | ".join(
            f"{c[name]:,.0f} ({100 * c[name] / max(sum(c.values()), 1e-9):.0f} %)" for c in classes)
            + " |")
    lines.append("| whole run per sample | " + " | ".join(f"{sum(c.values()):,.0f}" for c in classes)
                 + " |")
    return "\n".join(lines)
