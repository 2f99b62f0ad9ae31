"""Size and writing time of the HTML report against the PDF report, on a generated cohort.

Usage::

    python benchmarks/html_vs_pdf.py --patients 1000 --format html   # or --format pdf

Each format is measured in its own process (run the two one after the other, or side by side
on an idle machine); the input is the seeded cohort of ``generate.py`` that ``run.py`` uses.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import generate  # noqa: E402

from markers.pipeline import analyse, write_html, write_report  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--format", choices=["html", "pdf"], required=True)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "markers-bench")
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    source = generate.ensure(args.cache, rows=args.patients * 2 * generate.SAMPLES_PER_PATIENT, fmt="csv")
    out = args.cache / f"report_{args.patients}.{args.format}"
    started = time.perf_counter()
    analyse([source])
    analysed = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    writer = write_html if args.format == "html" else write_report
    writer([source], out)
    total, cpu = time.perf_counter() - started, time.process_time() - cpu
    # on a shared machine the CPU time of this process says more than the wall-clock time
    print(json.dumps({"format": args.format, "patients": args.patients, "bytes": out.stat().st_size,
                      "seconds_total": round(total, 1), "cpu_seconds_total": round(cpu, 1),
                      "seconds_analysis": round(analysed, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
