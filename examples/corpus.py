"""Build a synthetic English speech corpus with espeak-ng + sox.

Every utterance is a distinct sentence made from the templates and word lists below, spoken by one
of the English espeak-ng voices with a variant (m1, f3, klatt, ...), a speed (-s), a pitch (-p)
and a gain, all drawn from one seeded RNG: the utterance sequence is fixed by ``--seed``, so a
smaller corpus is a prefix of a larger one and files are byte-identical across runs (sox runs
without dither).

Output (``--out``, default ``examples/data/corpus``)::

    wav/00000.wav ...   16 kHz mono 16-bit PCM
    manifest.json       utterances (id, path, split, text, voice, speed, pitch, gain_db, seconds)

Splits are by sentence: the k-th distinct sentence goes to validation if k % 10 == 8, to test if
k % 10 == 9, else to train; duplicate sentences are never generated (so no test sentence is in
train). Existing wav files are reused (cache). ``--voice`` makes a single-voice variant: every
utterance is spoken by that one voice, with the same sentences, speeds, pitches, gains and splits
as the default corpus of the same seed.

    python examples/corpus.py --minutes 40
    python examples/corpus.py --voice en-us --out /work/data/corpus-en-us   # one voice
    python examples/corpus.py --test-clip   # also write examples/data/test_clip{.wav,_mel.npy}
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import wave
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

SAMPLE_RATE = 16000
DEFAULT_OUT = Path(__file__).resolve().parent / "data" / "corpus"

# Accents that espeak-ng can speak without MBROLA (the mb-* voices need external data files).
VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd",
          "en-029", "en-us-nyc"]
# Human-sounding variants; robot, whisper, croak and the like are left out on purpose.
VARIANTS = ["", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt",
            "klatt2", "klatt3", "klatt4", "Alex", "Annie", "anika", "aunty", "belinda",
            "benjamin", "david", "ed", "edward", "grandma", "john", "linda", "max", "michel",
            "norbert", "paul", "quincy", "rob", "robert", "shelby", "steph", "travis", "victor",
            "zac", "Andy"]

NAMES = ["Anna", "Ben", "Clara", "David", "Emma", "Frank", "Grace", "Henry", "Iris", "Jack",
         "Kate", "Leo", "Maria", "Nathan", "Olivia", "Peter", "Quinn", "Rachel", "Samuel",
         "Tina", "Victor", "Wendy", "Yusuf", "Zoe", "the doctor", "my neighbour", "the teacher",
         "our captain", "the old farmer", "a young pilot", "the baker", "his sister"]
ADJECTIVES = ["quiet", "bright", "heavy", "narrow", "golden", "muddy", "strange", "gentle",
              "broken", "ancient", "tiny", "enormous", "purple", "frozen", "noisy", "empty",
              "crowded", "distant", "wooden", "shiny", "rusty", "careful", "sleepy", "angry",
              "happy", "bitter", "smooth", "rough", "hollow", "famous", "secret", "cheerful"]
NOUNS = ["river", "garden", "window", "bicycle", "mountain", "kitchen", "letter", "station",
         "market", "forest", "bridge", "village", "lantern", "engine", "island", "harbour",
         "library", "castle", "blanket", "violin", "basket", "tunnel", "meadow", "umbrella",
         "painting", "machine", "orchard", "factory", "compass", "festival", "telescope",
         "pebble", "kettle", "chimney", "elephant", "rabbit", "sparrow", "dolphin", "wagon"]
VERBS_PAST = ["found", "painted", "carried", "repaired", "noticed", "visited", "described",
              "followed", "opened", "measured", "borrowed", "cleaned", "watched", "delivered",
              "photographed", "forgot", "discovered", "sold", "built", "counted", "shared"]
VERBS_BASE = ["find", "paint", "carry", "repair", "notice", "visit", "describe", "follow",
              "open", "measure", "borrow", "clean", "watch", "deliver", "photograph", "build",
              "count", "share", "explain", "remember"]
PLACES = ["near the station", "behind the old church", "at the edge of town",
          "under the bridge", "beside the lake", "in the north valley", "on the top floor",
          "across the street", "inside the museum", "by the harbour wall", "in the city centre",
          "along the coast", "at the back of the shop", "next to the school"]
TIMES = ["yesterday", "this morning", "last winter", "on Tuesday", "at midnight",
         "before breakfast", "after the storm", "every summer", "in nineteen eighty four",
         "three weeks ago", "at half past seven", "on the first of May", "later tonight",
         "during the holidays", "once a year"]
REASONS = ["because the rain would not stop", "since nobody else wanted to",
           "although it was getting late", "so that everyone could see", "while the band played",
           "even though the road was closed", "before the guests arrived",
           "as soon as the bell rang", "unless the weather changes", "when the lights went out"]
NUMBERS = ["two", "three", "seven", "eleven", "twenty", "forty two", "a hundred",
           "three thousand", "fifteen", "ninety nine", "six hundred and twelve", "eight"]
QUESTIONS = ["Did {n} really {vb} the {a} {o} {t}?", "Why would {n} {vb} a {a} {o} {p}?",
             "Where is the {a} {o} that {n} {v} {t}?", "How many {a} {o}s can {n} {vb}?",
             "Is it true that {n} {v} {num} {o}s {p}?"]
STATEMENTS = [
    "{N} {v} the {a} {o} {p} {t}.",
    "{T}, {n} {v} a {a} {o} {r}.",
    "The {a} {o} was {v} by {n} {t}.",
    "{N} said that the {o} {p} looked {a}.",
    "We counted {num} {a} {o}s {p} {t}.",
    "Please {vb} the {a} {o} {r}.",
    "{N} wanted to {vb} the {o}, but the {o2} was too {a}.",
    "There were {num} {o}s and one {a} {o2} {p}.",
    "If you {vb} the {o} {t}, {n} will {vb2} the {o2}.",
    "{N} and {n2} {v} the {a} {o} {r}.",
    "My {a} {o} is {p}, and your {a2} {o2} is {p2}.",
    "Nobody knew why the {o} {p} was so {a} {t}.",
]


@dataclass(frozen=True)
class Utterance:
    id: str
    path: str  # relative to the corpus directory
    split: str
    text: str
    voice: str
    speed: int
    pitch: int
    gain_db: float


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def sentence(rng: random.Random) -> str:
    """One random sentence from the templates (about 2-5 seconds of speech)."""
    template = rng.choice(QUESTIONS if rng.random() < 0.15 else STATEMENTS)
    n, n2 = rng.sample(NAMES, 2)
    o, o2 = rng.sample(NOUNS, 2)
    a, a2 = rng.sample(ADJECTIVES, 2)
    vb, vb2 = rng.sample(VERBS_BASE, 2)
    p, p2 = rng.sample(PLACES, 2)
    t = rng.choice(TIMES)
    fields = dict(n=n, n2=n2, N=_cap(n), o=o, o2=o2, a=a, a2=a2, v=rng.choice(VERBS_PAST),
                  vb=vb, vb2=vb2, p=p, p2=p2, t=t, T=_cap(t), r=rng.choice(REASONS),
                  num=rng.choice(NUMBERS))
    return template.format(**fields)


def plan(count: int, seed: int = 0, voice: str | None = None) -> list[Utterance]:
    """The first ``count`` utterances: distinct sentences, voices, prosody and split (``voice``:
    this one espeak-ng voice for all, everything else unchanged)."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[Utterance] = []
    while len(out) < count:
        text = sentence(rng)
        accent = VOICES[len(out) % len(VOICES)]
        variant = rng.choice(VARIANTS)
        speed = rng.randint(120, 210)  # words per minute (espeak default 175)
        pitch = rng.randint(25, 75)  # 0-99 (default 50)
        gain_db = round(rng.uniform(-12.0, 0.0), 1)  # peak level after normalisation
        if text in seen:
            continue
        k = len(seen)
        seen.add(text)
        split = "validation" if k % 10 == 8 else "test" if k % 10 == 9 else "train"
        uid = f"{len(out):05d}"
        out.append(Utterance(uid, f"wav/{uid}.wav", split, text,
                             voice or (accent + (f"+{variant}" if variant else "")), speed, pitch,
                             gain_db))
    return out


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def synthesize(utt: Utterance, root: Path) -> float:
    """Write one utterance (unless cached) and return its duration in seconds."""
    dst = root / utt.path
    if not dst.exists():
        dst.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=dst.parent) as tmp:
            raw, out = Path(tmp) / "raw.wav", Path(tmp) / "out.wav"
            subprocess.run(["espeak-ng", "-v", utt.voice, "-s", str(utt.speed), "-p",
                            str(utt.pitch), "-w", str(raw), utt.text], check=True,
                           capture_output=True)
            # -D: no dither (dither is noise, and we want byte-identical output);
            # norm: peak-normalise to gain_db dBFS; rate -h: high-quality resampler.
            subprocess.run(["sox", "-D", str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16",
                            str(out), "rate", "-h", "norm", str(utt.gain_db)], check=True,
                           capture_output=True)
            os.replace(out, dst)
    return wav_seconds(dst)


def _job(args: tuple[Utterance, Path]) -> float:
    return synthesize(*args)


def build(out: Path, minutes: float, seed: int = 0, workers: int = 2, batch: int = 32,
          voice: str | None = None) -> dict:
    """Synthesize utterances until at least ``minutes`` of audio exist; write the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    done: list[dict] = []
    total = 0.0
    count = 0
    with ProcessPoolExecutor(max_workers=workers) as pool:
        while total < minutes * 60.0:
            count += batch
            todo = plan(count, seed, voice)[count - batch:]
            for utt, sec in zip(todo, pool.map(_job, [(u, out) for u in todo])):
                done.append({**asdict(utt), "seconds": round(sec, 4)})
                total += sec
    splits = {s: round(sum(u["seconds"] for u in done if u["split"] == s) / 60.0, 3)
              for s in ("train", "validation", "test")}
    manifest = {"sample_rate": SAMPLE_RATE, "seed": seed, "minutes": round(total / 60.0, 3),
                "split_minutes": splits, "utterances": done}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def load_manifest(root: Path) -> dict:
    return json.loads((root / "manifest.json").read_text())


def export_test_clip(root: Path, dst: Path, min_s: float = 2.0, max_s: float = 3.0) -> Path:
    """Copy the first test utterance of ``min_s``..``max_s`` seconds, trimmed to whole hops, to
    ``dst`` and save its log-mel [F, 80] float32 next to it as ``<stem>_mel.npy``."""
    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from wncc import features

    utt = next(u for u in load_manifest(root)["utterances"]
               if u["split"] == "test" and min_s <= u["seconds"] <= max_s)
    with wave.open(str(root / utt["path"]), "rb") as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    pcm = pcm[:len(pcm) // features.HOP * features.HOP]
    dst.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(dst), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.astype("<i2").tobytes())
    mel = features.log_mel(pcm.astype(np.float64) / 32768.0)
    np.save(dst.with_name(dst.stem + "_mel.npy"), mel)
    return dst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--minutes", type=float, default=40.0, help="minimum total audio")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--voice", help="one espeak-ng voice for every utterance (e.g. en-us, "
                    "en-gb+f3); default: 8 accents x 42 variants")
    ap.add_argument("--test-clip", action="store_true",
                    help="also export examples/data/test_clip.wav and test_clip_mel.npy")
    args = ap.parse_args()
    m = build(args.out, args.minutes, args.seed, args.workers, voice=args.voice)
    print(json.dumps({"out": str(args.out), "utterances": len(m["utterances"]),
                      "minutes": m["minutes"], "split_minutes": m["split_minutes"]}))
    if args.test_clip:
        print(export_test_clip(args.out, Path(__file__).resolve().parent / "data" / "test_clip.wav"))


if __name__ == "__main__":
    main()
