"""The study as a page to listen to: ``wncc study ... --html DIR`` writes DIR/index.html.

One static page (inline CSS, no scripts, nothing fetched): the headline, the study's table with a
player in each row, the two plots, and at the top the recording and the fp32 reference's speech.
Every player holds the excerpt the study scored (``Study.speech``): the recording, or what a
compiled C generated from its log-mel. Beside each player its spectrogram, all on one dB scale.

Files beside the page: audio/NAME.wav (16 kHz mono 16-bit), spectrograms/NAME.png and the plots.
NAME is 'recording', 'reference' or 'row-N' (N counts the table's rows from 1), never a model's
name; every string on the page is escaped, for model names are data.
"""

from __future__ import annotations

import html
from pathlib import Path
from string import Template
from typing import NamedTuple

import numpy as np

from wncc import features
from wncc.audio import SAMPLE_RATE, write_wav
from wncc.study import (COLUMNS, NUMERIC, SPEECH_SEED, PLOTS, Row, Speech, Study, cells,
                        figure_class, plots, summary, variant)

RANGE_DB = 80.0  # the spectrograms' floor, below the recording's loudest bin
SPECTROGRAM_HOP = 80  # 5 ms, finer in time than the features' 12.5 ms

PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wncc study</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.clips { display: flex; flex-wrap: wrap; gap: 2em; }
figure { margin: 0; }
audio, img.spectrogram { display: block; width: 300px; }
td audio, td img.spectrogram { width: 240px; }
img.plot { max-width: 100%; }
</style>
</head>
<body>
<h1>wncc study</h1>
<ul>
$headline
</ul>
<p>$about</p>
<div class="clips">
$top
</div>
<h2>Variants</h2>
<table>
<thead><tr>$head</tr></thead>
<tbody>
$rows
</tbody>
</table>
<h2>Plots</h2>
$plots
</body>
</html>
""")


class Clip(NamedTuple):
    """The files of one player, relative to the page."""

    wav: str
    png: str


def log_spectrogram(pcm: np.ndarray) -> np.ndarray:
    """dB magnitude [bins, frames] of int16 PCM: the features' STFT (50 ms Hann) at a 5 ms hop."""
    magnitude = features.magnitude(pcm / 32768.0, hop=SPECTROGRAM_HOP)
    return 20 * np.log10(np.maximum(magnitude.T, 1e-5))


def draw_spectrogram(pcm: np.ndarray, top_db: float, path: Path) -> None:
    """A 300 x 120 pixel PNG, 0-8 kHz, from ``top_db`` down to ``RANGE_DB`` below it."""
    fig = figure_class()(figsize=(4, 1.6))
    ax = fig.subplots()
    ax.imshow(log_spectrogram(pcm), origin="lower", aspect="auto", cmap="magma",
              vmin=top_db - RANGE_DB, vmax=top_db,
              extent=(0, pcm.size / SAMPLE_RATE, 0, SAMPLE_RATE / 2000))
    ax.set_xlabel("s", fontsize=7)
    ax.set_ylabel("kHz", fontsize=7)
    ax.tick_params(labelsize=7)
    fig.tight_layout(pad=0.3)
    fig.savefig(path, dpi=75)


def write_clips(speech: Speech, folder: Path) -> dict[str, Clip]:
    """The wav and spectrogram of the recording, the reference and each row, by NAME."""
    pcms = {"recording": speech.recording, "reference": speech.reference,
            **{f"row-{i}": pcm for i, pcm in enumerate(speech.rows, 1)}}
    top_db = float(log_spectrogram(speech.recording).max())
    (folder / "spectrograms").mkdir(parents=True, exist_ok=True)
    clips = {}
    for name, pcm in pcms.items():
        clips[name] = Clip(f"audio/{name}.wav", f"spectrograms/{name}.png")
        write_wav(folder / clips[name].wav, pcm)
        draw_spectrogram(pcm, top_db, folder / clips[name].png)
    return clips


def player(clip: Clip, label: str) -> str:
    """An audio player above the spectrogram of its speech."""
    return (f'<audio controls preload="metadata" src="{html.escape(clip.wav)}"></audio>'
            f'<img class="spectrogram" src="{html.escape(clip.png)}" '
            f'alt="spectrogram: {html.escape(label)}">')


def figure(clip: Clip, caption: str) -> str:
    """A captioned player (the two at the top)."""
    return (f"<figure><figcaption>{html.escape(caption)}</figcaption>"
            f"{player(clip, caption)}</figure>")


def table_row(r: Row, clip: Clip) -> str:
    """The row's cells (as in the markdown table), then its player."""
    tds = "".join(f'<td class="num">{html.escape(text)}</td>' if column in NUMERIC
                  else f"<td>{html.escape(text)}</td>" for column, text in zip(COLUMNS, cells(r)))
    return f"<tr>{tds}<td>{player(clip, f'{r.model}: {variant(r)}')}</td></tr>"


def about(speech: Speech) -> str:
    """What the players hold, in a sentence or two."""
    return html.escape(
        f"Every player holds the first {speech.recording.size / SAMPLE_RATE:.2f} s of "
        f"'{speech.utterance}', the excerpt the study scored: the recording, or the speech a "
        f"compiled C generated from its log-mel, sampled at temperature 1 with seed "
        f"{SPEECH_SEED} (16 kHz, 16-bit). Spectrograms: log magnitude, 0-8 kHz, one scale for "
        f"all, down to {RANGE_DB:.0f} dB below the recording's loudest bin.")


def page(study: Study, speech: Speech, clips: dict[str, Clip]) -> str:
    ref = study.reference
    return PAGE.substitute(
        headline="\n".join(f"<li>{html.escape(line)}</li>" for line in summary(study)),
        about=about(speech),
        top="\n".join((figure(clips["recording"], f"recording: {speech.utterance}"),
                       figure(clips["reference"], f"fp32 reference: {ref.model}"))),
        head="".join(f"<th>{html.escape(c)}</th>" for c in (*COLUMNS, "speech of its C")),
        rows="\n".join(table_row(r, clips[f"row-{i}"]) for i, r in enumerate(study.rows, 1)),
        plots="\n".join(f'<img class="plot" src="{html.escape(name)}" alt="{html.escape(name)}">'
                        for name in PLOTS))


def write(study: Study, folder: Path) -> Path:
    """folder/index.html and every file it links (the folder created); the page's path."""
    if study.speech is None:
        raise ValueError("a report needs the study's speech: study.run(..., speech=True)")
    folder.mkdir(parents=True, exist_ok=True)
    plots(study.rows, folder)
    clips = write_clips(study.speech, folder)
    path = folder / "index.html"
    path.write_text(page(study, study.speech, clips), encoding="utf-8")
    return path
