"""Generation speed: generated C vs naive ONNX Runtime / PyTorch re-computation, single thread.

Prints a table, writes JSON. Speeds are only comparable within one run (same machine, same
moment), so the figures to quote are the ratios.

    python benchmarks/generate_speed.py --configs tiny base --samples 20000 --naive-samples 300
    python benchmarks/generate_speed.py --quick
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from wncc.bench import generate  # noqa: E402

DEFAULT_OUT = REPO / "benchmarks" / "results" / "generate_speed.json"
QUICK = {"samples": 2000, "naive_samples": 50, "repeats": 2, "variant_of": "tiny",
         "variant_repeats": 3,
         "out": DEFAULT_OUT.with_name("generate_speed_quick.json")}  # keep the real results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", nargs="+", default=["tiny", "base"],
                    help="model configs from examples/wavenet.py")
    ap.add_argument("--samples", type=int, default=20000, help="samples per C run")
    ap.add_argument("--naive-samples", type=int, default=300,
                    help="samples per naive ORT / PyTorch run (they are slow)")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per peer; best is kept")
    ap.add_argument("--variant-of", default="base",
                    help="config the dilation variants derive from; 'none' skips them")
    ap.add_argument("--variant-samples", type=int, help="samples per variant run (default --samples)")
    ap.add_argument("--variant-repeats", type=int, default=7,
                    help="interleaved timed runs per dilation variant; best is kept")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: few samples, 2 repeats, variants derived from tiny")
    ap.add_argument("--workdir", type=Path, help="keep built models here (default: temp dir)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output path")
    ap.add_argument("--markdown", action="store_true", help="also print README-ready markdown")
    args = ap.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            if ap.get_default(key) == getattr(args, key):
                setattr(args, key, value)
    if args.variant_of.lower() == "none":
        args.variant_of = None
    return args


def _rate(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"


def config_table(report: dict[str, Any]) -> Table:
    table = Table(title="Autoregressive generation, samples/s (best of repeats, 1 thread)")
    for col in ("config", "RF", "window frames", "MACs/sample", "C", "ORT naive",
                "PyTorch naive", "C / ORT", "C / PyTorch"):
        table.add_column(col, justify="left" if col == "config" else "right")
    for r in report["configs"]:
        table.add_row(r["config"], str(r["receptive_field"]), str(r["window_frames_max"]),
                      f"{r['macs_per_sample']:,}", _rate(r["c"]["samples_per_s"]),
                      _rate(r["ort_naive"]["samples_per_s"]),
                      _rate(r["torch_naive"]["samples_per_s"]),
                      f"{r['ratio_c_ort']:,.0f}x", f"{r['ratio_c_torch']:,.0f}x")
    return table


def variant_table(variants: dict[str, Any]) -> Table:
    table = Table(title=f"C time per sample, equal MACs, dilation variants of '{variants['of']}' "
                        f"(long/short = {variants['ratio_long_over_short']:.3f})")
    for col in ("variant", "max dilation", "RF", "MACs/sample", "us/sample", "samples/s"):
        table.add_column(col, justify="left" if col == "variant" else "right")
    for v in variants["variants"]:
        table.add_row(v["name"], str(v["max_dilation"]), str(v["receptive_field"]),
                      f"{v['macs_per_sample']:,}", f"{v['us_per_sample']:.2f}",
                      _rate(v["c"]["samples_per_s"]))
    return table


def markdown(report: dict[str, Any]) -> str:
    """The same numbers as markdown tables for the README."""
    lines = ["| config | receptive field | MACs/sample | C samples/s | ORT naive samples/s "
             "| PyTorch naive samples/s | C / ORT | C / PyTorch |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report["configs"]:
        lines.append(f"| {r['config']} | {r['receptive_field']} | {r['macs_per_sample']:,} "
                     f"| {_rate(r['c']['samples_per_s'])} "
                     f"| {_rate(r['ort_naive']['samples_per_s'])} "
                     f"| {_rate(r['torch_naive']['samples_per_s'])} "
                     f"| {r['ratio_c_ort']:,.0f}x | {r['ratio_c_torch']:,.0f}x |")
    variants = report.get("dilation_variants")
    if variants:
        lines += ["", "| variant (C) | max dilation | receptive field | MACs/sample | us/sample |",
                  "|---|---:|---:|---:|---:|"]
        for v in variants["variants"]:
            lines.append(f"| {variants['of']}, {v['name']} | {v['max_dilation']} "
                         f"| {v['receptive_field']} | {v['macs_per_sample']:,} "
                         f"| {v['us_per_sample']:.2f} |")
        lines.append(f"| ratio long / short | | | | {variants['ratio_long_over_short']:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    console = Console()
    report = generate.run(
        configs=args.configs, c_samples=args.samples, naive_samples=args.naive_samples,
        repeats=args.repeats, variant_of=args.variant_of, variant_samples=args.variant_samples,
        variant_repeats=args.variant_repeats,
        seed=args.seed, temperature=args.temperature, out_json=args.out, workdir=args.workdir,
        log=lambda msg: console.log(msg))
    console.print(config_table(report))
    if report["dilation_variants"]:
        console.print(variant_table(report["dilation_variants"]))
    if args.markdown:
        print(markdown(report), flush=True)  # plain: rich would wrap the long lines
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
