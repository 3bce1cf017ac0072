"""The command-line vocabulary: the options every subcommand shares, defined once with the same
names, types and help everywhere (``wncc.cli`` and the subcommands of quant/, prune/ and
fidelity/ build their parsers from it; it sits below all of them).

One vocabulary:

    MODEL            the model: an ONNX file (or, where said, a compiled project folder)
    --target         target name or TOML file
    --dtype          arithmetic precision
    --calib          calibration audio (quantization)
    --calib-method   calibration method
    --data           held-out speech: evaluation, teacher forcing, fine-tuning corpus
    --mel            mel frames: a .npy array or a .wav (its log-mel)
    --seed, --temperature, --sample-rate   sampling
    --json           write the result as JSON
    -o/--output      the file or folder written

Old spellings (``--method`` for calibration, ``--wav``, ``--corpus``, ``--report``, ``--out``)
are hidden aliases that print a deprecation warning.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable, NoReturn, Sequence

from wncc.audio import FORMS as AUDIO_FORMS
from wncc.text import one_line

ROUNDINGS = ("single", "double")
CORPUS_HINT = "generate the corpus first: python examples/corpus.py"

Adder = argparse.ArgumentParser | argparse._ArgumentGroup  # what add_argument is called on


class Parser(argparse.ArgumentParser):
    """argparse with the CLI's error rule: one line ``wncc: error: ...``, exit 2."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("wncc").strip()
        where = f"{command}: " if command else ""
        self.exit(2, one_line(f"wncc: error: {where}{message} (see '{self.prog} -h')") + "\n")


def number(kind: Callable[[str], Any], name: str) -> Callable[[str], Any]:
    """An argparse type: ``kind(text)``, or a message naming the option."""
    def parse(text: str) -> Any:
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} expects a number, got '{text}'") from None
    return parse


def audio_source(text: str) -> str:
    """An argparse type for audio data: the path must exist; a missing folder points at the
    script that writes the corpus."""
    if not Path(text).exists():
        hint = "" if text.lower().endswith(".wav") else f"; {CORPUS_HINT}"
        raise argparse.ArgumentTypeError(f"audio data not found: {text}{hint}")
    return text


def layer_dtype(text: str) -> tuple[str, str]:
    """An argparse type for ``GLOB=DTYPE``."""
    pattern, sep, dtype = text.rpartition("=")
    if not sep or not pattern:
        raise argparse.ArgumentTypeError(f"expected GLOB=DTYPE, got '{text}'")
    return pattern, dtype


class _Deprecated(argparse.Action):
    """A hidden old spelling: stores into the new option's dest and warns on stderr."""

    def __init__(self, option_strings: Sequence[str], dest: str, new: str = "",
                 **kwargs: Any) -> None:
        self.new = new
        super().__init__(option_strings, dest, help=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        print(f"wncc: warning: {option_string} is deprecated, use {self.new}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def deprecated(p: Adder, old: str, action: argparse.Action) -> None:
    """Accept ``old`` as a hidden alias of the option ``action`` (returned by add_argument)."""
    p.add_argument(old, action=_Deprecated, dest=action.dest, new=action.option_strings[-1],
                   type=action.type, choices=action.choices, metavar=action.metavar)


# ------------------------------------------------------------------------------ option groups

def model(p: Adder, *, project: bool = False, flag: bool = False,
          required: bool = True) -> None:
    """MODEL (positional), or ``--model`` with ``flag``."""
    what = "ONNX model file" + (", or a project folder written by wncc compile" if project else "")
    if flag:
        p.add_argument("--model", required=required, help=what)
    else:
        p.add_argument("model", help=what)


def output(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("-o", "--output", required=True, help=what)


def target(p: Adder, *, repeatable: bool = False,
           note: str = "") -> None:
    help = "target name or TOML file (targets/*.toml"
    if repeatable:
        p.add_argument("--target", action="append", help=f"{help}; repeatable){note}")
    else:
        p.add_argument("--target", default="host", help=f"{help}; default host){note}")


def dtype(p: Adder, *, choices: Sequence[str],
          default: str | None = "fp32", required: bool = False, repeatable: bool = False,
          note: str = "") -> None:
    help = f"arithmetic precision: {', '.join(choices)}"
    if repeatable:
        p.add_argument("--dtype", action="append", choices=choices,
                       help=f"{help} (repeatable{note})")
    elif required:
        p.add_argument("--dtype", required=True, choices=choices, help=help + note)
    else:
        p.add_argument("--dtype", default=default, choices=choices,
                       help=f"{help} (default {default}{note})")


def calib(p: Adder, note: str = "") -> None:
    p.add_argument("--calib", type=audio_source, metavar="AUDIO",
                   help=f"calibration audio: {AUDIO_FORMS}{note}")


def quantization(p: argparse.ArgumentParser, methods: Sequence[str], *,
                 on_the_way: bool = True) -> None:
    """--calib, --calib-method (one of ``methods``), --layer-dtype, --per-tensor. ``on_the_way``:
    the command compiles, and quantizes a float model first when --calib is given."""
    g = p.add_argument_group("quantization")
    calib(g, "; quantizes a float model on the way to an integer dtype" if on_the_way
          else " (required for integer dtypes)")
    method = g.add_argument("--calib-method", default="minmax", choices=methods,
                            help="calibration method (default minmax)")
    deprecated(g, "--method", method)
    g.add_argument("--layer-dtype", action="append", type=layer_dtype, metavar="GLOB=DTYPE",
                   help="per-layer precision, e.g. 'head*=int16x8' (repeatable)")
    per_tensor(g)


def per_tensor(p: Adder) -> None:
    p.add_argument("--per-tensor", action="store_true",
                   help="one weight scale per tensor instead of one per output channel")


def sparse(p: Adder) -> None:
    p.add_argument("--sparse", action="append", metavar="FORMAT|GLOB=FORMAT",
                   help="weight storage: auto (default: the cost model decides per layer and "
                   "target), dense, csr, bitmask, bsr:RxC; GLOB=FORMAT for some layers "
                   "(repeatable)")


def cmsis_nn(p: Adder) -> None:
    p.add_argument("--cmsis-nn", metavar="PATH",
                   help="CMSIS-NN checkout: dense int8 convolutions call its kernels where the "
                   "arithmetic equals the golden model's (the Makefile compiles them from PATH)")


def code(p: argparse.ArgumentParser, *, rounding: bool = True) -> None:
    """How the C is generated: --rounding, --sparse, --cmsis-nn."""
    g = p.add_argument_group("code generation")
    if rounding:
        g.add_argument("--rounding", default="single", choices=ROUNDINGS,
                       help="requantization rounding of 8-bit paths: single (default; one "
                       "rounded shift, as the QDQ graph and ONNX Runtime compute) or double "
                       "(TFLite / CMSIS-NN default)")
    sparse(g)
    cmsis_nn(g)


def input_roles(text: str) -> dict[str, str]:
    """--inputs samples=NAME,mel=NAME."""
    roles = {}
    for part in text.split(","):
        role, sep, name = part.partition("=")
        if not sep or role.strip() not in ("samples", "mel") or not name.strip():
            raise argparse.ArgumentTypeError(f"'{text}' is not samples=NAME,mel=NAME")
        roles[role.strip()] = name.strip()
    if sorted(roles) != ["mel", "samples"]:
        raise argparse.ArgumentTypeError(f"'{text}' must name both: samples=NAME,mel=NAME")
    return roles


def ends(p: argparse.ArgumentParser) -> None:
    """The sample loop's ends: --inputs, --distribution, --sampler, --companding,
    --log-scale-min, --deemphasis. (--output already names the output file or folder.)"""
    from wncc.arith.sampling import SAMPLERS
    from wncc.passes.head import COMPANDINGS, KINDS
    g = p.add_argument_group("sample loop")
    g.add_argument("--inputs", type=input_roles, metavar="samples=NAME,mel=NAME",
                   help="which ONNX input is the samples input and which the mel, where the "
                   "graph does not tell")
    g.add_argument("--distribution", dest="head", choices=KINDS,
                   help="the output distribution the C samples from: categorical classes, a "
                   "mixture of logistics or a Gaussian (default: detected from the output's "
                   "channels and the samples input)")
    g.add_argument("--sampler", default=SAMPLERS[0], choices=SAMPLERS,
                   help="how a class (or a mixture component) is drawn: cdf, one random draw "
                   "against the cumulative weights, or gumbel, Gumbel-max with one draw per "
                   f"class; both exact and seeded (default {SAMPLERS[0]})")
    g.add_argument("--companding", default="mulaw", choices=COMPANDINGS,
                   help="categorical: class -> value (default mulaw)")
    g.add_argument("--log-scale-min", type=number(float, "--log-scale-min"), default=-7.0,
                   help="mol / gaussian: log scales are clamped below at this (default -7.0; "
                   "r9y9 also uses log(1e-14) = -32.236)")
    g.add_argument("--deemphasis", type=number(float, "--deemphasis"), default=0.0,
                   metavar="COEF", help="one-pole de-emphasis y[n] = x[n] + COEF * y[n-1] "
                   "before 16-bit PCM (default 0: none)")


def data(p: Adder, note: str, *, required: bool = True, old: str | None = None) -> None:
    """--data: speech the command scores, teacher-forces or fine-tunes on (not calibration);
    ``old``: a hidden deprecated spelling (a required option and its alias form a group, so
    either one satisfies it)."""
    group = p.add_mutually_exclusive_group(required=True) if required and old else p
    action = group.add_argument("--data", required=required and not old, type=audio_source,
                                metavar="AUDIO",
                                help=f"speech, 16 kHz mono 16-bit: {AUDIO_FORMS}{note}")
    if old:
        deprecated(group, old, action)


def mel(p: Adder, *, required: bool = False,
        note: str = "") -> None:
    p.add_argument("--mel", required=required, metavar="M.npy|M.npz|W.wav",
                   help="mel frames: a .npy array [frames, n_mels] or an .npz with a 'mel' "
                   "array (your own features), or a 16 kHz mono wav whose log-mel "
                   f"(wncc.features) is used{note}")


def seed(p: Adder, what: str = "the sampling") -> None:
    p.add_argument("--seed", type=number(int, "--seed"), default=0,
                   help=f"random seed of {what} (default 0)")


def temperature(p: Adder) -> None:
    p.add_argument("--temperature", type=number(float, "--temperature"), default=1.0,
                   help="sampling temperature, 0 = greedy (default 1)")


def sampling(p: argparse.ArgumentParser, *, sample_rate: bool = True,
             seed_of: str = "the sampling") -> None:
    """--seed, --temperature and (for commands that write or read audio) --sample-rate."""
    g = p.add_argument_group("sampling")
    seed(g, seed_of)
    temperature(g)
    if sample_rate:
        g.add_argument("--sample-rate", type=number(int, "--sample-rate"), default=16000,
                       help="sample rate of the audio in Hz (default 16000)")


def json_out(p: Adder, what: str, old: str | None = None) -> None:
    """--json; ``old``: a hidden deprecated spelling."""
    action = p.add_argument("--json", metavar="OUT.json", help=f"write {what} here as JSON")
    if old:
        deprecated(p, old, action)


def seconds(p: Adder, default: float,
            what: str) -> None:
    p.add_argument("--seconds", type=number(float, "--seconds"), default=default,
                   help=f"{what} (default {default:g})")
