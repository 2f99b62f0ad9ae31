"""Do markers' own table text (FreeType, ``markers._compat``) and PNG encoder (``markers.write.png``) earn their keep?

Usage::

    python benchmarks/report_parts.py [--rounds 5] [--dpi 150] [--json out.json]

Every PNG figure ``markers report --png-dir`` writes for the sample cohort (one page per patient
and the cohort figures) is rendered four ways, in memory, in one process:

``markers``
    as markers saves it: table text by FreeType in one call per string, pixels from Agg
    (``savefig(format="rgba")``) encoded by ``png_bytes`` (no row filters, deflate level 1);
``public text``
    the table text drawn by matplotlib's renderer (the fallback of ``_compat.freetype_bitmap``),
    encoded by ``png_bytes``;
``public PNG``
    FreeType table text, encoded by matplotlib (``savefig(format="png")`` via Pillow, its defaults);
``public``
    both public: the renderer's text and ``savefig(format="png")`` (also with
    ``pil_kwargs={"compress_level": 1}``, the fair comparison for the encoder).

Each figure is built once per round and then rendered by each way in a rotating order (so that
no way is always first after the build); the times are CPU seconds (``time.process_time``), the
steadier measure on a shared machine, summed over the figures, the median over the rounds. The
verdict: a part earns its keep when the whole ``public`` path takes at least 1.2 times as long.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from markers import _compat  # noqa: E402
from markers.examples import example_files  # noqa: E402
from markers.pipeline import analyse  # noqa: E402
from markers.report.document import figure_jobs  # noqa: E402
from markers.write.png import png_bytes  # noqa: E402

META = {"Software": "markers benchmark"}


def _own_png(fig, dpi: int) -> bytes:
    raw = io.BytesIO()
    fig.savefig(raw, format="rgba", dpi=dpi)
    width, height = (int(side * dpi) for side in fig.get_size_inches())
    pixels = np.frombuffer(raw.getbuffer(), dtype=np.uint8).reshape(height, width, 4)
    return png_bytes(pixels, dpi=dpi, text=META)


def _public_png(fig, dpi: int, **pil_kwargs) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=dpi, metadata=META, **({"pil_kwargs": pil_kwargs} if pil_kwargs else {}))
    return out.getvalue()


_OWN_TEXT = _compat.freetype_bitmap


def _no_freetype(*args, **kwargs):
    return None  # what freetype_bitmap returns when matplotlib's interface is gone: the renderer draws


WAYS = {
    "markers": (True, lambda fig, dpi: _own_png(fig, dpi)),
    "public text": (False, lambda fig, dpi: _own_png(fig, dpi)),
    "public PNG": (True, lambda fig, dpi: _public_png(fig, dpi)),
    "public": (False, lambda fig, dpi: _public_png(fig, dpi)),
    "public, compress_level=1": (False, lambda fig, dpi: _public_png(fig, dpi, compress_level=1)),
}


def _render(fig, way: str, dpi: int) -> tuple[float, int]:
    own_text, save = WAYS[way]
    _compat.freetype_bitmap = _OWN_TEXT if own_text else _no_freetype
    try:
        started = time.process_time()
        data = save(fig, dpi)
        return time.process_time() - started, len(data)
    finally:
        _compat.freetype_bitmap = _OWN_TEXT


def measure(rounds: int, dpi: int) -> dict:
    analysis = analyse(list(example_files()))
    jobs = figure_jobs(analysis.measurements, therapy=analysis.dataset.therapy, patients=analysis.dataset.patients,
                       assessment=analysis.assessment)
    names = list(jobs)
    totals = {way: [] for way in WAYS}
    sizes = dict.fromkeys(WAYS, 0)
    for r in range(rounds):
        spent = dict.fromkeys(WAYS, 0.0)
        for k, name in enumerate(names):
            fig = jobs[name]()
            order = list(WAYS)
            shift = (r + k) % len(order)
            for way in order[shift:] + order[:shift]:
                seconds, size = _render(fig, way, dpi)
                spent[way] += seconds
                if r == 0:
                    sizes[way] += size
        for way in WAYS:
            totals[way].append(spent[way])
    median = {way: statistics.median(times) for way, times in totals.items()}
    return {"figures": len(names), "dpi": dpi, "rounds": rounds, "cpu_seconds": median, "bytes": sizes,
            "ratio_public_to_markers": median["public"] / median["markers"],
            "ratio_text": median["public text"] / median["markers"],
            "ratio_png": median["public PNG"] / median["markers"],
            "ratio_public_level1_to_markers": median["public, compress_level=1"] / median["markers"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dpi", type=int, default=150)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = measure(args.rounds, args.dpi)
    print(f"{result['figures']} figures at {result['dpi']} dpi, median of {result['rounds']} rounds (CPU seconds):")
    base = result["cpu_seconds"]["markers"]
    for way, seconds in result["cpu_seconds"].items():
        print(f"  {way:26s} {seconds:7.3f} s  {seconds / base:5.2f}x  {result['bytes'][way] / 1e6:6.2f} MB")
    verdict = "keep" if result["ratio_public_to_markers"] >= 1.2 else "use the public API"
    print(f"public / markers = {result['ratio_public_to_markers']:.2f}x: {verdict}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
