"""``wncc vocode MODEL.onnx|DIR --mel M.npy|W.wav -o out.wav``: mel frames to audio through the
compiled C."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from wncc import options
from wncc.audio import write_wav
from wncc.cli.common import command_line, ends, load_mel
from wncc.console import out, progress
from wncc.errors import WnccError


def handler(args: argparse.Namespace, argv: list[str]) -> int:
    from wncc.compiler import compile_model
    from wncc.harness import CModel

    source = Path(args.model)
    with progress("vocoding") as update, tempfile.TemporaryDirectory(prefix="wncc-vocode-") as tmp:
        if source.is_dir():
            if not (source / "wn_model.h").exists():
                raise WnccError("not a wncc project folder (no wn_model.h)", path=str(source))
            project = source
        else:
            update("compiling")
            _, project = compile_model(source, Path(tmp) / "project", command=command_line(argv),
                                       ends=ends(args))
        update("building the C")
        model = CModel(project)
        mel = load_mel(args.mel, n_mels=model.n_mels, hop=model.hop)
        update(f"generating {max(mel.shape[0] + model.frames_delta, 0) * model.hop} samples")
        _, pcm = model.vocode(mel, seed=args.seed, temperature=args.temperature)
    write_wav(Path(args.output), pcm, args.sample_rate)
    out.print(f"wrote {args.output}: {pcm.size} samples, {pcm.size / args.sample_rate:.2f} s "
              f"at {args.sample_rate} Hz", markup=False, highlight=False)
    return 0


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("vocode", help="mel frames (.npy) or a wav's log-mel -> wav through "
                              "the compiled C")
    options.model(p, project=True)
    options.mel(p, required=True)
    options.output(p, "output .wav")
    options.sampling(p)
    options.ends(p)
    p.set_defaults(func=handler)
    return p
