"""Train the WaveNet vocoder of examples/wavenet.py on the espeak-ng corpus (examples/corpus.py).

Teacher-forced cross-entropy on mu-law classes: input x[t] = class(y[t-1]) (128 before the first
sample), target class(y[t]), conditioning = wncc.features.log_mel of the utterance. Batches are
random crops of ``--frames`` frames; the loss skips the first receptive_field - 1 samples of a
crop that does not start at the beginning of its utterance (their left context is missing, and the
convolutions' zero padding only matches inference at the true start).

Features are computed once per corpus into ``<corpus>/features.npz``. Outputs in ``--out``:
``last.pt`` (every ``--ckpt-minutes``, at the end and on SIGTERM/SIGINT), ``best.pt`` (lowest
validation NLL) and ``log.jsonl`` (one JSON object per line: ``{"step", "wall", "train_bits",
"lr"}``; every ``--val-every`` steps ``{"step", "wall", "val_bits", "signal_bits",
"unigram_bits"}``, ``signal_bits`` being the NLL of the 16-bit values, comparable with and
without ``--preemphasis``; at the end of a session ``{"done", ...}`` with its steps, seconds and
hardware). The checkpoints hold every log record of every session (``history``).

A run can span sessions: ``--resume`` continues from ``<out>/last.pt`` with its weights, Adam
state, data position (crop RNG), step count, training wall time and lr schedule. A session on a
fresh machine, where only the git repository survives, continues from ``--keep FILE`` (a
compact last.pt written with it: Adam's moments in bfloat16; commit it) when ``<out>/last.pt``
is missing. With ``--keep-weights STATE_DICT`` (the shipped ``examples/models/base.pt``) the kept
file names that file and its SHA-256 instead of storing the weights whenever the run's weights
equal it exactly (3.4 MB instead of 6.8 MB for ``base``); a resume checks the digest. While they
differ, the kept file holds the run's weights without Adam's moments, so it stays the same size
(a resume from it restarts Adam, as a warm restart of the schedule does anyway). To ship a
run's last weights: copy them to the model file, then rewrite the kept file with an empty
session (``--resume --steps`` at the current step count). The cosine decay
spans ``--decay-steps`` steps and/or ``--decay-minutes`` of training wall time counted over all
sessions (default: the first session's ``--steps`` / ``--minutes``), and is stored in the
checkpoint; ``--steps`` is the total step count to stop at, ``--minutes`` this session's budget.

    python examples/train.py --config tiny --out /work/runs/tiny --minutes 5 --threads 2
    python examples/train.py --config base --out /work/runs/b --bf16 --decay-steps 20000 --minutes 60
    python examples/train.py --config base --out /work/runs/b --bf16 --resume --minutes 60
    python examples/train.py --config base --out /work/runs/b --bf16 --resume --minutes 60 \
        --keep examples/checkpoints/base-last.pt    # fresh machine: resumes from the kept file
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import signal
import sys
import time
import wave
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import wavenet  # noqa: E402
from wncc import features, mulaw  # noqa: E402

SPLITS = ("train", "validation", "test")


def read_wav(path: Path) -> np.ndarray:
    """16-bit mono wav -> float64 in [-1, 1)."""
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1, path
        data = w.readframes(w.getnframes())
    return np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768.0


def preemphasize(audio: np.ndarray, coef: float) -> np.ndarray:
    """y[n] = x[n] - coef * x[n-1] (x[-1] = 0), the inverse of the C's --deemphasis COEF."""
    if not coef:
        return audio
    return audio - coef * np.concatenate([[0.0], audio[:-1]])


def feature_cache(corpus: Path, cache: Path | None = None,
                  preemphasis: float = 0.0) -> dict[str, np.ndarray]:
    """Per split: ``<split>_mel`` [frames, 80] f32, ``<split>_cls`` [frames*hop] u8 and
    ``<split>_frames`` (frames per utterance), all utterances concatenated (trailing partial hop
    dropped). The classes are of the pre-emphasized audio where ``preemphasis`` is not 0 (the
    mel is always of the audio itself). Rebuilt when the manifest or the coefficient changes."""
    cache = cache or corpus / ("features.npz" if not preemphasis
                               else f"features-pre{preemphasis:g}.npz")
    manifest = (corpus / "manifest.json").read_bytes()
    digest = hashlib.sha256(manifest + (f"pre{preemphasis!r}".encode() if preemphasis
                                        else b"")).hexdigest()
    if cache.exists():
        data = dict(np.load(cache))
        if str(data["digest"]) == digest:
            return data
    utts = json.loads(manifest)["utterances"]
    out: dict[str, np.ndarray] = {"digest": np.array(digest)}
    for split in SPLITS:
        mels, classes, counts = [], [], []
        for u in (u for u in utts if u["split"] == split):
            audio = read_wav(corpus / u["path"])
            mel = features.log_mel(audio)
            mels.append(mel)
            target = preemphasize(audio, preemphasis)[:len(mel) * features.HOP]
            classes.append(mulaw.encode(target).astype(np.uint8))
            counts.append(len(mel))
        out[f"{split}_mel"] = np.concatenate(mels) if mels else np.zeros((0, 80), np.float32)
        out[f"{split}_cls"] = np.concatenate(classes) if classes else np.zeros(0, np.uint8)
        out[f"{split}_frames"] = np.array(counts, dtype=np.int64)
    tmp = cache.with_name(cache.name + ".tmp.npz")
    np.savez(tmp, **out)
    tmp.replace(cache)
    return out


def unigram_bits(classes: np.ndarray) -> float:
    """Entropy (bits) of the class histogram: the NLL of a model that ignores all context."""
    p = np.bincount(classes.astype(np.int64), minlength=256) / len(classes)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def _bin_width_bits() -> np.ndarray:
    """log2 of each mu-law class's width in 16-bit steps (2/65536): the class's interval of
    compressed values [(2c-1)/mu - 1, (2c+1)/mu - 1] clipped to [-1, 1], expanded."""
    c = np.arange(256, dtype=np.float64)
    lo = np.clip((2 * c - 1) / mulaw.MU - 1, -1, 1)
    hi = np.clip((2 * c + 1) / mulaw.MU - 1, -1, 1)
    return np.log2((mulaw.expand(hi) - mulaw.expand(lo)) * 32768.0)


WIDTH_BITS = torch.from_numpy(_bin_width_bits())


class Split:
    """Concatenated utterances of one split with random-crop sampling."""

    def __init__(self, data: dict[str, np.ndarray], split: str, hop: int) -> None:
        self.mel = torch.from_numpy(data[f"{split}_mel"])
        self.cls = torch.from_numpy(data[f"{split}_cls"].astype(np.int64))
        self.frames = data[f"{split}_frames"]
        self.start = np.concatenate([[0], np.cumsum(self.frames)[:-1]])  # first frame of utt
        self.hop = hop

    def utterance(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(x [T], mel [80, F], target [T]) of a whole utterance."""
        f0, n = int(self.start[i]), int(self.frames[i])
        return self.crop(f0, n, f0)

    def crop(self, f: int, n: int, utt_f0: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        s, e = f * self.hop, (f + n) * self.hop
        target = self.cls[s:e]
        prev = self.cls[s - 1:s] if f > utt_f0 else torch.tensor([mulaw.SILENCE])
        x = torch.cat([prev, target[:-1]])
        return x, self.mel[f:f + n].T, target

    def batch(self, rng: np.random.Generator, size: int, n: int, skip: int
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Random crops of n frames (utterances weighted by length); masked targets are -100."""
        ok = np.flatnonzero(self.frames >= n)
        weights = self.frames[ok] / self.frames[ok].sum()
        xs, mels, ts = [], [], []
        for i in rng.choice(ok, size=size, p=weights):
            off = int(rng.integers(0, self.frames[i] - n + 1))
            x, mel, t = self.crop(int(self.start[i]) + off, n, int(self.start[i]))
            if off > 0:
                t = t.clone()
                t[:skip] = -100
            xs.append(x), mels.append(mel), ts.append(t)
        return torch.stack(xs), torch.stack(mels), torch.stack(ts)


@torch.no_grad()
def validate(model: wavenet.WaveNet, split: Split, seconds: float,
             signal: bool = False) -> float | tuple[float, float]:
    """Teacher-forced NLL in bits/sample over whole utterances (the first ones up to
    ``seconds`` of audio; 0 = all). ``signal``: also the NLL of the signal as 16-bit values,
    the class NLL plus log2 of each target class's width in 16-bit steps (uniform within the
    class). Pre-emphasis has a Jacobian of 1, so this one compares models with and without
    pre-emphasis on the same footing (the class NLLs do not: the classes differ)."""
    model.eval()
    total, width, count = 0.0, 0.0, 0
    for i in range(len(split.frames)):
        x, mel, t = split.utterance(i)
        logits = model(x[None], mel[None])
        total += F.cross_entropy(logits, t[None], reduction="sum").item()
        width += WIDTH_BITS[t].sum().item()
        count += t.numel()
        if seconds and count >= seconds * 16000:
            break
    model.train()
    bits = total / count / math.log(2.0)
    return (bits, bits + width / count) if signal else bits


def cpu_name() -> str:
    """The processor's model name (Linux), for the run's record."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def weights_reference(state: dict, path: Path | None) -> dict | None:
    """{"path", "sha256"} of ``path`` (a state_dict file) when it holds exactly ``state``."""
    if path is None or not path.exists():
        return None
    shipped = torch.load(path, map_location="cpu", weights_only=True)
    if shipped.keys() != state.keys() or not all(torch.equal(shipped[k], state[k])
                                                  for k in state):
        return None
    return {"path": str(path), "sha256": file_digest(path)}


def resolve_weights(model: dict) -> dict:
    """A checkpoint's weights: stored, or read from the referenced file after checking its
    digest (a relative path from the repository root, else from the working directory)."""
    if "sha256" not in model:
        return model
    path = Path(model["path"])
    path = HERE.parent / path if (HERE.parent / path).exists() else path
    if not path.exists() or file_digest(path) != model["sha256"]:
        sys.exit(f"train.py: the kept checkpoint's weights are {model['path']} with SHA-256 "
                 f"{model['sha256'][:12]}..., which is missing or has changed since")
    return torch.load(path, map_location="cpu", weights_only=True)


def save(path: Path, **payload: object) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="tiny", choices=sorted(wavenet.CONFIGS))
    ap.add_argument("--corpus", type=Path, default=HERE / "data" / "corpus")
    ap.add_argument("--cache", type=Path, help="feature cache (default <corpus>/features.npz)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--resume", action="store_true", help="continue from <out>/last.pt")
    ap.add_argument("--init", type=Path, help="start from these weights (a state_dict or a "
                    "checkpoint of this script) with a fresh optimizer and schedule")
    ap.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: none)")
    ap.add_argument("--minutes", type=float, default=0.0, help="wall-clock budget (0: none)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--frames", type=int, default=8, help="frames per random crop")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--lr-final", type=float, default=0.1, help="final lr factor of the cosine "
                    "decay")
    ap.add_argument("--decay-steps", type=int, help="cosine decay length in total steps "
                    "(default: --steps of the first session, then the checkpoint's)")
    ap.add_argument("--decay-minutes", type=float, help="cosine decay length in total training "
                    "minutes (default: --minutes of the first session, then the checkpoint's)")
    ap.add_argument("--bf16", action="store_true", help="bfloat16 autocast for the training "
                    "steps (validation stays fp32); about 1.5x faster where the CPU has "
                    "AVX512-BF16 or AMX")
    ap.add_argument("--preemphasis", type=float, default=0.0, metavar="COEF",
                    help="train on the classes of y[n] = x[n] - COEF * x[n-1] (generate with "
                    "wncc's --deemphasis COEF); a resumed run keeps its checkpoint's")
    ap.add_argument("--keep", type=Path, help="also keep a compact copy of last.pt here (Adam "
                    "moments in bfloat16, the whole log inside): the file to commit so that a "
                    "fresh machine can continue; --resume starts from it when <out>/last.pt "
                    "is missing")
    ap.add_argument("--keep-weights", type=Path, metavar="STATE_DICT",
                    help="the --keep file refers to this state_dict file (by path and SHA-256) "
                    "instead of storing the weights when they are equal, and holds the weights "
                    "without Adam's moments when they differ (it stays the size of the weights)")
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--val-every", type=int, default=500)
    ap.add_argument("--val-seconds", type=float, default=60.0, help="0: whole validation split")
    ap.add_argument("--ckpt-minutes", type=float, default=5.0)
    args = ap.parse_args()
    if not (args.steps or args.minutes):
        ap.error("give --steps and/or --minutes")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cfg = wavenet.CONFIGS[args.config]
    ck = None
    if args.resume:
        for path in (args.out / "last.pt", args.keep):
            if path and path.exists():
                ck = torch.load(path, map_location="cpu", weights_only=False)
                print(json.dumps({"resume": str(path), "step": ck["step"],
                                  "adam": "kept" if ck["optimizer"] is not None else "fresh"}),
                      flush=True)
                break
    if ck is not None:
        args.preemphasis = ck.get("preemphasis", 0.0)
    t0 = time.time()
    data = feature_cache(args.corpus, args.cache, args.preemphasis)
    train, val = Split(data, "train", cfg.hop), Split(data, "validation", cfg.hop)
    unigram = unigram_bits(data["validation_cls"])
    print(json.dumps({"features_s": round(time.time() - t0, 1), "train_frames":
                      int(train.frames.sum()), "val_frames": int(val.frames.sum()),
                      "unigram_bits": round(unigram, 4)}), flush=True)

    model = wavenet.build(cfg, args.seed).train()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    step, wall_before, best = 0, 0.0, math.inf
    decay = {"steps": args.steps, "minutes": args.minutes}
    history: list[dict] = []  # every log record of every session (kept in the checkpoints)
    if args.init:
        state = torch.load(args.init, map_location="cpu", weights_only=False)
        model.load_state_dict(resolve_weights(state.get("model", state)))
    if ck is not None:
        model.load_state_dict(resolve_weights(ck["model"]))
        if ck["optimizer"] is not None:  # None: a kept file with its own weights (fresh Adam)
            opt.load_state_dict(ck["optimizer"])
        rng.bit_generator.state = ck["rng"]
        torch.set_rng_state(ck["torch_rng"])
        step, wall_before, best = ck["step"], ck["wall"], ck.get("best_val_bits", math.inf)
        decay = ck.get("decay", decay)
        history = ck.get("history", [])
    if args.decay_steps is not None or args.decay_minutes is not None:
        decay = {"steps": args.decay_steps or 0, "minutes": args.decay_minutes or 0.0}
    if not (decay["steps"] or decay["minutes"]):
        ap.error("the lr schedule needs --decay-steps and/or --decay-minutes")
    skip = cfg.receptive_field - 1
    log = (args.out / "log.jsonl").open("a")

    def emit(rec: dict) -> None:
        history.append(rec)
        log.write(json.dumps(rec) + "\n")
        log.flush()
        print(json.dumps(rec), flush=True)

    start = time.time()
    last_ckpt = start

    def checkpoint(path: Path, compact: bool = False) -> None:
        optim = opt.state_dict()
        if compact:  # Adam's moments in bfloat16 (load_state_dict casts them back to fp32)
            optim["state"] = {k: {n: v.to(torch.bfloat16) if n.startswith("exp_avg") else v
                                  for n, v in st.items()} for k, st in optim["state"].items()}
        weights = model.state_dict()
        if compact and args.keep_weights is not None:
            reference = weights_reference(weights, args.keep_weights)
            weights, optim = (reference, optim) if reference else (weights, None)
        save(path, model=weights, config=asdict(cfg), step=step,
             optimizer=optim, rng=rng.bit_generator.state,
             torch_rng=torch.get_rng_state(), wall=wall_before + time.time() - start,
             best_val_bits=best, decay=decay, preemphasis=args.preemphasis, history=history,
             args={k: str(v) for k, v in vars(args).items()})

    def keep() -> None:
        checkpoint(args.out / "last.pt")
        if args.keep:
            args.keep.parent.mkdir(parents=True, exist_ok=True)
            checkpoint(args.keep, compact=True)

    def validation() -> None:
        nonlocal best
        bits, signal_bits = validate(model, val, args.val_seconds, signal=True)
        emit({"step": step, "wall": round(wall_before + time.time() - start, 1),
              "val_bits": round(bits, 4), "signal_bits": round(signal_bits, 4),
              "unigram_bits": round(unigram, 4)})
        if bits < best:
            best = bits
            checkpoint(args.out / "best.pt")

    stop_signal: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        stop_signal.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    running, window = 0.0, 0  # loss sum and steps since the last train log record
    session_step0 = step
    while True:
        elapsed = time.time() - start
        if (stop_signal or (args.steps and step >= args.steps)
                or (args.minutes and elapsed >= args.minutes * 60)):
            break
        progress = max(step / decay["steps"] if decay["steps"] else 0.0,
                       (wall_before + elapsed) / (decay["minutes"] * 60)
                       if decay["minutes"] else 0.0)
        lr = args.lr * (args.lr_final + (1 - args.lr_final) * 0.5 * (1 + math.cos(math.pi *
                                                                          min(progress, 1.0))))
        for group in opt.param_groups:
            group["lr"] = lr
        x, mel, t = train.batch(rng, args.batch, args.frames, skip)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            logits = model(x, mel)
        loss = F.cross_entropy(logits.float(), t, ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        running, window = running + loss.item(), window + 1
        if step % args.log_every == 0:
            emit({"step": step, "wall": round(wall_before + time.time() - start, 1),
                  "train_bits": round(running / window / math.log(2), 4),
                  "lr": round(lr, 6)})
            running, window = 0.0, 0
        if step % args.val_every == 0:
            validation()
        if time.time() - last_ckpt >= args.ckpt_minutes * 60:
            keep()
            last_ckpt = time.time()
    if step % args.val_every and not stop_signal:  # a signal asks for a quick exit
        validation()
    session_s = time.time() - start
    emit({"done": True, "step": step, "wall": round(wall_before + session_s, 1),
          "best_val_bits": round(best, 4), "unigram_bits": round(unigram, 4),
          "session_steps": step - session_step0, "session_s": round(session_s, 1),
          "threads": args.threads, "bf16": args.bf16, "batch": args.batch,
          "frames": args.frames, "cpu": cpu_name(),
          **({"signal": stop_signal[0]} if stop_signal else {})})
    keep()
    log.close()


if __name__ == "__main__":
    main()
