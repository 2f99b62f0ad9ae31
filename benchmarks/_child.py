"""One measurement in a fresh interpreter: ``python _child.py STAGE ARG...``.

Prints one JSON line ``{"seconds": ..., "peak_rss_mb": ..., ...}``. The clock
starts after the imports the stage needs (so every stage is timed on its work,
not on importing pandas), and the peak resident memory is this process's own
high-water mark (``ru_maxrss``), so each measurement stands alone. Start-up
stages are timed from outside by the parent instead.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path


def _peak_mb() -> float:
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def pipeline(path: str) -> dict:
    """markers.ingest.reader.read + markers.analysis.flags.flag: what every analysis starts with."""
    from markers.analysis.flags import flag
    from markers.analysis.reference import load_reference_limits
    from markers.ingest.reader import read

    limits = load_reference_limits()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = read(path)
        flagged = flag(dataset.measurements, limits=limits)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "measurements": len(flagged), "issues": len(dataset.issues)}


def read_only(path: str) -> dict:
    """markers.ingest.reader.read alone."""
    from markers.ingest.reader import read

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = read(path)
    return {"seconds": time.perf_counter() - start, "measurements": len(dataset.measurements)}


def raw(path: str) -> dict:
    """markers.readers.files.read_raw alone (the RawSheet cells)."""
    from markers.readers.files import read_raw

    start = time.perf_counter()
    sheets = read_raw(path)
    return {"seconds": time.perf_counter() - start, "cells": int(sum(s.cells.size for s in sheets))}


def fastexcel_bare(path: str) -> dict:
    import fastexcel
    import pandas  # noqa: F401 - imported before the clock, as the pipeline's is

    start = time.perf_counter()
    frame = fastexcel.read_excel(path).load_sheet(0).to_pandas()
    return {"seconds": time.perf_counter() - start, "rows": len(frame)}


def openpyxl_bare(path: str) -> dict:
    import openpyxl  # noqa: F401
    import pandas as pd

    start = time.perf_counter()
    frame = pd.read_excel(path, engine="openpyxl")
    return {"seconds": time.perf_counter() - start, "rows": len(frame)}


def read_csv_bare(path: str) -> dict:
    import pandas as pd

    start = time.perf_counter()
    # skiprows=1: the export's title line (a script would skip it the same way)
    frame = pd.read_csv(path, skiprows=1)
    return {"seconds": time.perf_counter() - start, "rows": len(frame)}


def read_csv_text(path: str) -> dict:
    """pandas.read_csv keeping every cell as text (no type guessing, only empty cells missing)."""
    import pandas as pd

    start = time.perf_counter()
    frame = pd.read_csv(path, skiprows=1, dtype=str, keep_default_na=False, na_values=[""])
    return {"seconds": time.perf_counter() - start, "rows": len(frame)}


def _analysis(path: str):
    from markers.pipeline import analyse

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyse(path)


def report_pdf(path: str) -> dict:
    """The whole PDF report of an analysed file (pages written one by one)."""
    from markers.report.document import document as report
    analysis = _analysis(path)
    held = _rss_mb()  # the analysed data, before the first page
    sampler = _RssSampler()
    start = time.perf_counter()
    with sampler, tempfile.TemporaryDirectory() as tmp:
        pages = report.write_report_pdf(
            report.build_report(analysis.dataset, data=analysis.measurements, assessment=analysis.assessment,
                                reference_set=analysis.reference_set),
            Path(tmp) / "report.pdf",
        )
    return {"seconds": time.perf_counter() - start, "pages": pages, "rss_after_analysis_mb": held,
            "report_extra_mb": max(0.0, sampler.peak - held)}


def _rss_mb() -> float:
    """Resident memory now (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class _RssSampler:
    """Samples resident memory every 20 ms in a thread: the peak of one stage, not of the process."""

    def __init__(self) -> None:
        import threading

        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_mb())
            self._stop.wait(0.02)

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def report_pngs(path: str, jobs: str) -> dict:
    """One PNG per patient and cohort figure, on ``jobs`` processes."""
    from markers.report.document import document as report
    analysis = _analysis(path)
    builders = report.figure_jobs(analysis.measurements, therapy=analysis.dataset.therapy,
                                  patients=analysis.dataset.patients, assessment=analysis.assessment)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        written = report.write_pngs(builders, tmp, jobs=int(jobs))
    return {"seconds": time.perf_counter() - start, "pngs": len(written)}


def reference_figures(count: str, fmt: str) -> dict:
    """Bare matplotlib: ``count`` simple figures one after another on one core.

    Each has two log-scale lines, a shaded band, three spans and a legend, and is
    saved as ``fmt`` (one multi-page PDF, or one PNG each), like a report page.
    """
    import numpy as np
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    x = np.arange(20.0)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        pdf = PdfPages(Path(tmp) / "ref.pdf") if fmt == "pdf" else None
        for i in range(int(count)):
            fig = Figure(figsize=(8.27, 11.69))
            ax = fig.add_subplot()
            ax.plot(x, np.exp(np.sin(x + i)) + 1, marker="o", label="VMA")
            ax.plot(x, np.exp(np.cos(x + i)) + 1, marker="s", label="HVA")
            ax.set_yscale("log")
            ax.axhspan(0.5, 2.0, alpha=0.2, label="reference")
            for a, b in ((0, 4), (6, 12), (14, 19)):
                ax.axvspan(a, b, alpha=0.1)
            ax.legend()
            if pdf is not None:
                pdf.savefig(fig)
            else:
                fig.savefig(Path(tmp) / f"ref_{i}.png", dpi=150)
        if pdf is not None:
            pdf.close()
    return {"seconds": time.perf_counter() - start, "figures": int(count)}


STAGES = {
    "pipeline": pipeline,
    "read": read_only,
    "raw": raw,
    "fastexcel": fastexcel_bare,
    "openpyxl": openpyxl_bare,
    "read_csv": read_csv_bare,
    "read_csv_text": read_csv_text,
    "report_pdf": report_pdf,
    "report_pngs": report_pngs,
    "reference_figures": reference_figures,
}


def main(argv: list[str]) -> None:
    stage, *args = argv
    result = STAGES[stage](*args)
    result["peak_rss_mb"] = _peak_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
