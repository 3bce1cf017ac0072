"""What the subcommands of wncc/cli/ share at run time: mel input, quantizing on the way, CMSIS-NN,
the frontmatter command line, writing a wav."""

from __future__ import annotations

import argparse
import contextlib
import shlex
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

from wncc.console import Update
from wncc.errors import WnccError


def command_line(argv: list[str]) -> str:
    """The command line for frontmatter, without the output folder and --build (not part of the
    result)."""
    kept, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a == "--build":
            continue
        if a in ("-o", "--output"):
            skip = True
            continue
        kept.append(Path(a).name if a.endswith(".onnx") else a)
    return "wncc " + " ".join(shlex.quote(a) for a in kept)


def ends(args: argparse.Namespace):
    """The sample loop's settings of the command line (options.ends) for the pipeline."""
    from wncc.ir import Head
    from wncc.pipeline import Ends

    return Ends(args.inputs, args.head, Head(companding=args.companding,
                                             log_scale_min=args.log_scale_min,
                                             deemphasis=args.deemphasis, sampler=args.sampler))


@contextlib.contextmanager
def quantized_input(args: argparse.Namespace, update: Update) -> Iterator[str]:
    """The model to compile: the given one, or (with --calib and an integer dtype) a QDQ model
    quantized on the way into a temporary folder."""
    if not args.calib or args.dtype in ("fp32", "fp16", "bf16"):
        yield args.model
        return
    from wncc.quant.quantize import quantize

    with tempfile.TemporaryDirectory(prefix="wncc-quant-") as tmp:
        update(f"quantizing to {args.dtype}")
        quantized = Path(tmp) / Path(args.model).name
        quantize(args.model, args.dtype, args.calib, quantized, method=args.calib_method,
                 layer_dtypes=dict(args.layer_dtype or []) or None,
                 per_channel=not args.per_tensor, inputs=getattr(args, "inputs", None))
        yield str(quantized)


def cmsis_nn(args: argparse.Namespace) -> str | None:
    """--cmsis-nn, checked before any work (a bad path is a one-line error, exit 2)."""
    if not args.cmsis_nn:
        return None
    from wncc.cmsis_nn import checkout

    return checkout(args.cmsis_nn).path


def load_mel(path: str, n_mels: int | None = None, hop: int | None = None) -> np.ndarray:
    """--mel: a .npy array [frames, n_mels] (or [n_mels, frames]) or the mel of an .npz of user
    features (wncc/pairs.py), or a wav whose log-mel wncc.features computes (the extractor the
    examples train on)."""
    p = Path(path)
    if not p.is_file():
        raise WnccError("mel file not found", path=path)
    with p.open("rb") as f:
        magic = f.read(6)
    if magic[:4] == b"RIFF":
        from wncc import features
        from wncc.audio import read_wav

        if n_mels is not None and n_mels != features.N_MELS:
            raise WnccError(f"the model wants [frames, {n_mels}] mel frames, the wav's log-mel has "
                            f"{features.N_MELS} bins (wncc.features): pass a .npy array "
                            f"[frames, {n_mels}] or an .npz of your own features", path=path)
        mel = features.log_mel(read_wav(p, "--mel"), hop=hop or features.HOP)
        if mel.shape[0] == 0:
            raise WnccError("the wav is shorter than one frame", path=path)
        return mel
    if magic != b"\x93NUMPY" and magic[:4] != b"PK\x03\x04":
        raise WnccError("neither a .npy/.npz array nor a wav: --mel expects a .npy array "
                        "[frames, n_mels], an .npz with a 'mel' array or a 16 kHz mono 16-bit "
                        ".wav", path=path)
    from wncc import pairs

    return pairs.load(p, n_mels)[0].mel


def model_mels(args: argparse.Namespace) -> int:
    """The mel bins of the command's model (what user features must have)."""
    from wncc.pipeline import load

    return load(args.model, ends=ends(args)).n_mels


def user_data(args: argparse.Namespace) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(mel, audio) of --mel / --data: --data of user features (.npz pairs, wncc/pairs.py) gives
    both; a wav source gives audio for wncc's extractor; --mel a mel alone."""
    from wncc import pairs
    from wncc.audio import read_wav, wav_sources

    if args.data and pairs.is_pairs(args.data):
        pair = pairs.load(args.data, model_mels(args))[0]
        return pair.mel, pair.audio
    mel = load_mel(args.mel, n_mels=model_mels(args)) if args.mel else None
    audio = read_wav(wav_sources(args.data, "test", "input")[0][1]) if args.data else None
    return mel, audio
