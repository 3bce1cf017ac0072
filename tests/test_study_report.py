"""``wncc study --html DIR``: a page whose links all exist, WAVs of the scored excerpt (the
same speech with --jobs as without), escaped model names, and the page as Chromium renders it."""

from __future__ import annotations

import dataclasses
import html
import json
import shutil
import subprocess
import sys
import wave
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from wncc import study, study_report
from wncc.audio import read_wav

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "examples" / "models" / "tiny.onnx"
CLIP = ROOT / "examples" / "data" / "test_clip.wav"
HOSTILE = "tiny & \"q\" 'x' <i>"  # a model file's name is data: it must reach the page escaped
SECONDS = 0.3
SAMPLES = 4800  # 0.3 s at 16 kHz, whole hops of 200
CLIPS = ["recording", "reference", "row-1", "row-2"]


class Page(HTMLParser):
    """The tags of a page (name, attributes) and the text of each table row's cells."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.rows: list[list[str]] = []
        self._cell: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append(self._cell)
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell += data

    def sources(self, tag: str) -> list[str]:
        return [attrs["src"] for name, attrs in self.tags if name == tag]


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / f"{HOSTILE}.onnx"
    shutil.copyfile(TINY, path)
    return path


@pytest.fixture(scope="module")
def report(model, tmp_path_factory) -> Path:
    """The CLI's report (and JSON, report.json beside it) of the model at fp32 and int8, the
    variants in two processes."""
    folder = tmp_path_factory.mktemp("report") / "report"
    proc = subprocess.run([sys.executable, "-m", "wncc.cli", "study", str(model), "--dtype",
                           "fp32", "--dtype", "int8", "--data", str(CLIP), "--seconds",
                           str(SECONDS), "--jobs", "2", "--html", str(folder), "--json",
                           str(folder.with_suffix(".json"))],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {folder / 'index.html'}" in proc.stdout
    return folder


def _page(report: Path) -> Page:
    return Page((report / "index.html").read_text(encoding="utf-8"))


def _pcm(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16000)
        return np.frombuffer(w.readframes(w.getnframes()), "<i2")


def test_every_link_of_the_page_exists(report):
    page = _page(report)
    assert page.sources("audio") == [f"audio/{name}.wav" for name in CLIPS]
    assert page.sources("img") == [
        "spectrograms/recording.png", "spectrograms/reference.png", "spectrograms/row-1.png",
        "spectrograms/row-2.png", *study.PLOTS]
    assert all((report / src).is_file() for src in page.sources("audio") + page.sources("img"))
    assert not [attrs for _, attrs in page.tags if "href" in attrs]  # nothing fetched
    assert [name for name, _ in page.tags].count("script") == 0


def test_table_and_headline(report):
    page, text = _page(report), (report / "index.html").read_text(encoding="utf-8")
    header, *rows = page.rows
    assert header == []  # the header row holds <th> cells
    assert [r[:5] for r in rows] == [[HOSTILE, "dense", "-", "0%", "fp32"],
                                     [HOSTILE, "dense", "-", "0%", "int8"]]
    assert [r[10:13] for r in rows] == [["PASS", "PASS", "yes"], ["PASS", "FAIL", "yes"]]
    assert "<li>largest compression at &gt;= 99% of fp32 quality: 3.31x (0% sparsity, dense, " \
           "int8 per-channel)</li>" in text


def test_model_names_are_escaped(report):
    text = (report / "index.html").read_text(encoding="utf-8")
    assert HOSTILE not in text and "<i>" not in text
    assert f"<td>{html.escape(HOSTILE)}</td>" in text
    assert f'alt="spectrogram: fp32 reference: {html.escape(HOSTILE)}"' in text


def test_wavs_are_the_scored_excerpt_and_its_speech(report):
    pcm = {name: _pcm(report / "audio" / f"{name}.wav") for name in CLIPS}
    assert {name: a.size for name, a in pcm.items()} == dict.fromkeys(CLIPS, SAMPLES)
    assert np.array_equal(pcm["recording"] / 32768.0, read_wav(CLIP)[:SAMPLES])
    assert all(np.abs(a).max() > 1000 for a in pcm.values())  # speech-level, not silence
    assert np.array_equal(pcm["reference"], pcm["row-1"])  # row 1 is the reference, same seed
    assert not np.array_equal(pcm["row-1"], pcm["row-2"])  # int8 samples a different stream


def test_speech_is_the_same_in_this_process(report, model):
    """study.run's speech without --jobs equals the WAVs the worker processes made; the JSON
    holds no PCM."""
    speech = study.run([model], ["fp32", "int8"], CLIP, seconds=SECONDS, speech=True).speech
    assert speech.utterance == "test_clip"
    for name, pcm in zip(CLIPS, [speech.recording, speech.reference, *speech.rows]):
        assert pcm.dtype == np.int16
        assert np.array_equal(pcm, _pcm(report / "audio" / f"{name}.wav"))
    result = json.loads(report.with_suffix(".json").read_text())
    fields = [f.name for f in dataclasses.fields(study.Row)]
    assert [list(row) for row in result["rows"]] == [fields, fields]
    assert list(result["reference"]) == fields


def test_spectrograms_are_pngs(report):
    imread = pytest.importorskip("matplotlib.image").imread
    for name in CLIPS:
        image = imread(report / "spectrograms" / f"{name}.png")
        assert image.shape == (120, 300, 4)  # 4 x 1.6 inches at 75 dpi, RGBA
        assert len(np.unique(image.reshape(-1, 4), axis=0)) > 10


def test_report_needs_speech():
    row = study.Row("m", "dense", "-", 0.0, "fp32", "-", 1.0, 0, {}, 4.0, True, 0.0, 1.0, {})
    with pytest.raises(ValueError, match="speech=True"):
        study_report.write(study.Study(row, [row]), Path("unused"))


CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not on PATH (.ci/setup "
                                    "installs the Debian package 'chromium')")
# a test page, not the report's: it loads each WAV and writes its duration (or 'error') in a list
PROBE = """<!DOCTYPE html><html><body><ol id="durations"></ol><script>
for (const src of %s) {
  const item = document.createElement("li");
  document.getElementById("durations").append(item);
  const audio = new Audio();
  audio.onloadedmetadata = () => { item.textContent = String(audio.duration); };
  audio.onerror = () => { item.textContent = "error"; };
  audio.src = src;
}
</script></body></html>"""


def _chromium(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", *args],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


@needs_chromium
def test_chromium_renders_the_page(report, tmp_path):
    """The DOM a real browser builds: the table's rows, one player per row and two more, the
    hostile name as text; and a screenshot that is not blank."""
    url = (report / "index.html").as_uri()
    dom = Page(_chromium("--dump-dom", url).stdout)
    assert [r[0] for r in dom.rows[1:]] == [HOSTILE, HOSTILE]
    assert len(dom.sources("audio")) == 2 + 2
    assert "i" not in [name for name, _ in dom.tags]
    shot = tmp_path / "page.png"
    _chromium(f"--screenshot={shot}", "--window-size=1200,2000", url)
    image = pytest.importorskip("matplotlib.image").imread(shot)
    assert image.shape[:2] == (2000, 1200)
    assert len(np.unique(image.reshape(-1, image.shape[-1]), axis=0)) > 100


@needs_chromium
def test_chromium_plays_every_wav(report, tmp_path):
    """Chromium's media stack reads each WAV's header: 0.3 s, no decode error."""
    probe = tmp_path / "probe.html"
    wavs = [(report / "audio" / f"{name}.wav").as_uri() for name in CLIPS]
    probe.write_text(PROBE % json.dumps(wavs))
    dom = _chromium("--virtual-time-budget=10000", "--dump-dom", probe.as_uri()).stdout
    items = dom[dom.index('<ol id="durations">'):dom.index("</ol>")]
    assert items.count(f"<li>{SECONDS}</li>") == len(CLIPS), items
