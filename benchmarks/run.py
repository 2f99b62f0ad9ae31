"""Speed and memory of markers at registry scale, against bare-library baselines.

Usage::

    python benchmarks/run.py                 # 10k, 100k and 1M rows; reports on 100 and 1,000 patients
    python benchmarks/run.py --quick         # 10k and 100k rows; report on 100 patients
    python benchmarks/run.py --sizes 100000 --repeat 5 --out bench_out

Inputs are generated deterministically (seeded numpy, see ``generate.py``) into
the cache folder and reused between runs. Every measurement runs in a fresh
interpreter (``_child.py``) so its peak memory is its own; the median of
``--repeat`` runs is reported. Ratios compare markers with baselines measured
in the same run on the same machine, so they mean something on any machine.
Results are printed and written to ``<out>/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

CHILD = HERE / "_child.py"
REPO = HERE.parent
LARGEST = 1_000_000
REPORT_PATIENTS = (100, 1000)
ROWS_PER_PATIENT = 2 * generate.SAMPLES_PER_PATIENT


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("MPLBACKEND", "Agg")
    return env


#: A stage whose first run takes longer than this is not repeated (the median of one run):
#: the slowest baselines (openpyxl on a million rows, a thousand figures) would otherwise
#: make the full run take most of an hour, for no change in the ratios' meaning.
LONG_RUN_SECONDS = 60.0


def measure(stage: str, *args: object, repeat: int = 3) -> dict:
    """Median seconds and median peak RSS of ``repeat`` fresh-process runs of one stage."""
    runs = []
    for _ in range(repeat):
        if runs and runs[0]["seconds"] > LONG_RUN_SECONDS:
            break
        proc = subprocess.run([sys.executable, str(CHILD), stage, *map(str, args)], capture_output=True,
                              text=True, env=_env(), cwd=REPO, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{stage} {args} failed:\n{proc.stderr[-3000:]}")
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    out = dict(runs[0])
    out["seconds"] = statistics.median(r["seconds"] for r in runs)
    out["peak_rss_mb"] = statistics.median(r["peak_rss_mb"] for r in runs)
    out["runs"] = [round(r["seconds"], 4) for r in runs]
    return out


def startup(command: list[str], *, repeat: int) -> dict:
    """Median wall time of a whole command, interpreter start-up included."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, env=_env(), cwd=REPO, check=True)
        times.append(time.perf_counter() - start)
    return {"seconds": statistics.median(times), "runs": [round(t, 4) for t in times]}


class Targets:
    """Collects each target's measured ratio and verdict (and the two figures behind the ratio)."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def check(self, name: str, ratio: float, limit: float, *, at_least: bool = False, ours: str = "",
              baseline: str = "") -> None:
        ok = ratio >= limit if at_least else ratio <= limit
        verdict = "PASS" if ok else "FALLS SHORT"
        sign = ">=" if at_least else "<="
        print(f"  TARGET {name}: {ratio:.2f}x (target {sign} {limit}x) {verdict}")
        self.rows.append({"target": name, "ratio": round(ratio, 3), "limit": limit, "comparison": sign,
                          "verdict": verdict, "markers": ours, "baseline": baseline})

    def markdown(self) -> str:
        """The targets as a Markdown table (what the README's performance section shows)."""
        lines = ["| target | markers | baseline | ratio | limit | verdict |", "|---|---|---|---|---|---|"]
        for row in self.rows:
            sign = "≥" if row["comparison"] == ">=" else "≤"
            lines.append(f"| {row['target']} | {row['markers']} | {row['baseline']} | {row['ratio']:.2f}× | "
                         f"{sign} {row['limit']}× | {row['verdict'].lower()} |")
        return "\n".join(lines)


def _s(result: dict) -> str:
    return f"{result['seconds']:.2f} s"


def _mb(result: dict) -> str:
    return f"{result['peak_rss_mb']:.0f} MB"


def _line(label: str, result: dict, base: dict | None = None) -> None:
    text = f"  {label:<44} {result['seconds']:9.3f} s  peak {result['peak_rss_mb']:8.1f} MB" \
        if "peak_rss_mb" in result else f"  {label:<44} {result['seconds']:9.3f} s"
    if base is not None:
        text += f"  ({result['seconds'] / base['seconds']:.2f}x time"
        if "peak_rss_mb" in result and "peak_rss_mb" in base:
            text += f", {result['peak_rss_mb'] / base['peak_rss_mb']:.2f}x memory"
        text += ")"
    print(text, flush=True)


def bench_reading(sizes: list[int], *, cache: Path, repeat: int, quick: bool, targets: Targets,
                  with_openpyxl: bool) -> dict:
    results: dict = {}
    for size in sizes:
        n = 1 if (quick and size >= LARGEST) else repeat
        for fmt in ("xlsx", "csv"):
            path = generate.ensure(cache, rows=size, fmt=fmt)
            print(f"\n{fmt} {size:,} rows ({path.stat().st_size / 2**20:.1f} MB), median of {n}:", flush=True)
            entry = results.setdefault(f"{fmt}_{size}", {})
            if fmt == "xlsx":
                base = entry["fastexcel"] = measure("fastexcel", path, repeat=n)
                _line("bare fastexcel read_excel().to_pandas()", base)
                if with_openpyxl:
                    # the slowest baseline: once for the largest file, it takes minutes
                    entry["openpyxl"] = measure("openpyxl", path, repeat=1 if size >= LARGEST else n)
                    _line("bare pandas.read_excel(engine='openpyxl')", entry["openpyxl"], base)
            else:
                base = entry["read_csv"] = measure("read_csv", path, repeat=n)
                _line("bare pandas.read_csv", base)
                # context, not a target: the same read keeping every cell as text ("0042", "<0.5"),
                # which is what markers must start from
                entry["read_csv_text"] = measure("read_csv_text", path, repeat=n)
                _line("bare pandas.read_csv(dtype=str)", entry["read_csv_text"], base)
            entry["raw"] = measure("raw", path, repeat=n)
            _line("markers.readers.files.read_raw", entry["raw"], base)
            entry["pipeline"] = measure("pipeline", path, repeat=n)
            _line("markers read + flag", entry["pipeline"], base)
            if "read_csv_text" in entry:
                text = entry["read_csv_text"]
                print(f"  {'markers read + flag vs read_csv(dtype=str)':<44} "
                      f"{entry['pipeline']['seconds'] / text['seconds']:9.2f}x time", flush=True)
            if size == max(sizes):
                pipe = entry["pipeline"]
                if fmt == "xlsx":
                    targets.check(f"{size:,}-row xlsx pipeline vs bare fastexcel",
                                  pipe["seconds"] / base["seconds"], 1.5, ours=_s(pipe), baseline=_s(base))
                    if "openpyxl" in entry:
                        targets.check(f"{size:,}-row xlsx pipeline vs openpyxl script",
                                      pipe["seconds"] / entry["openpyxl"]["seconds"], 0.15, ours=_s(pipe),
                                      baseline=_s(entry["openpyxl"]))
                    targets.check(f"{size:,}-row xlsx pipeline peak memory vs bare fastexcel",
                                  pipe["peak_rss_mb"] / base["peak_rss_mb"], 1.5, ours=_mb(pipe), baseline=_mb(base))
                else:
                    targets.check(f"{size:,}-row csv pipeline vs bare read_csv",
                                  pipe["seconds"] / base["seconds"], 4.0, ours=_s(pipe), baseline=_s(base))
    return results


def bench_report(patient_counts: tuple[int, ...], *, cache: Path, repeat: int, targets: Targets) -> dict:
    try:
        from markers.report.document import document as report
    except ImportError as exc:
        print(f"\nreport: not available yet ({exc})")
        return {"available": False}
    if not all(hasattr(report, name) for name in ("build_report", "write_report_pdf", "write_pngs", "figure_jobs")):
        print("\nreport: not available yet")
        return {"available": False}
    results: dict = {"available": True}
    for patients in patient_counts:
        path = generate.ensure(cache, rows=patients * ROWS_PER_PATIENT, fmt="csv")
        print(f"\nreport on {patients:,} patients, median of {repeat}:", flush=True)
        entry = results[str(patients)] = {}
        pdf = entry["pdf"] = measure("report_pdf", path, repeat=repeat)
        _line(f"PDF report ({pdf['pages']} pages)", pdf)
        print(f"  {'pages per second':<44} {pdf['pages'] / pdf['seconds']:9.1f}")
        print(f"  {'memory held by the analysed data':<44} {pdf['rss_after_analysis_mb']:9.1f} MB; "
              f"the report's own peak above it: {pdf['report_extra_mb']:.1f} MB")
        one = entry["pngs_1"] = measure("report_pngs", path, 1, repeat=repeat)
        _line(f"PNGs ({one['pngs']}) on 1 process", one)
        two = entry["pngs_2"] = measure("report_pngs", path, 2, repeat=repeat)
        _line(f"PNGs ({two['pngs']}) on 2 processes", two)
        ref_pdf = entry["reference_pdf"] = measure("reference_figures", pdf["pages"], "pdf", repeat=repeat)
        _line(f"bare matplotlib: {pdf['pages']} figures to one PDF", ref_pdf)
        ref_png = entry["reference_png"] = measure("reference_figures", one["pngs"], "png", repeat=repeat)
        _line(f"bare matplotlib: {one['pngs']} figures to PNG", ref_png)
        whole = pdf["seconds"] + one["seconds"]
        bare = ref_pdf["seconds"] + ref_png["seconds"]
        entry["whole_vs_reference"] = whole / bare
        print(f"  {'whole report (PDF + PNGs, 1 core)':<44} {whole:9.3f} s  ({whole / bare:.2f}x bare matplotlib)")
    largest, smallest = str(max(patient_counts)), str(min(patient_counts))
    big = results[largest]
    targets.check(f"{int(largest):,}-patient PNGs speed-up on 2 processes",
                  big["pngs_1"]["seconds"] / big["pngs_2"]["seconds"], 1.8, at_least=True,
                  ours=f"{_s(big['pngs_2'])} on 2", baseline=f"{_s(big['pngs_1'])} on 1")
    targets.check(f"{int(largest):,}-patient report (PDF and PNGs) vs bare matplotlib",
                  big["whole_vs_reference"], 1.2,
                  ours=f"{big['pdf']['seconds'] + big['pngs_1']['seconds']:.1f} s",
                  baseline=f"{big['reference_pdf']['seconds'] + big['reference_png']['seconds']:.1f} s")
    if largest != smallest:
        growth = big["pdf"]["peak_rss_mb"] / results[smallest]["pdf"]["peak_rss_mb"]
        targets.check(f"report peak memory, {int(largest):,} vs {int(smallest):,} patients", growth, 1.15,
                      ours=_mb(big["pdf"]), baseline=_mb(results[smallest]["pdf"]))
    return results


def bench_startup(*, repeat: int, targets: Targets) -> dict:
    script = shutil.which("markers", path=str(Path(sys.executable).parent))
    command = [script, "--help"] if script else [sys.executable, "-m", "markers", "--help"]
    print(f"\nstart-up, median of {repeat}:", flush=True)
    base = startup([sys.executable, "-c", "import click"], repeat=repeat)
    _line("python -c 'import click'", base)
    cli = startup(command, repeat=repeat)
    _line("markers --help", cli, base)
    targets.check("markers --help vs bare click start-up", cli["seconds"] / base["seconds"], 1.5,
                  ours=f"{cli['seconds']:.3f} s", baseline=f"{base['seconds']:.3f} s")
    return {"click": base, "markers_help": cli}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k rows, report on 100 patients")
    parser.add_argument("--sizes", type=int, nargs="+", help="row counts (default 10000 100000 1000000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median; default 3)")
    parser.add_argument("--out", type=Path, default=REPO / "bench_out", help="folder for results.json")
    parser.add_argument("--cache", type=Path, default=HERE / ".cache", help="folder for generated inputs")
    parser.add_argument("--skip", nargs="*", default=[], choices=["reading", "report", "startup", "openpyxl"],
                        help="sections to leave out")
    args = parser.parse_args(argv)
    sizes = args.sizes or ([10_000, 100_000] if args.quick else [10_000, 100_000, LARGEST])
    patients = REPORT_PATIENTS[:1] if args.quick else REPORT_PATIENTS
    targets = Targets()
    results: dict = {
        "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
        "sizes": sizes, "repeat": args.repeat, "quick": args.quick,
    }
    started = time.perf_counter()
    if "reading" not in args.skip:
        results["reading"] = bench_reading(sizes, cache=args.cache, repeat=args.repeat, quick=args.quick,
                                           targets=targets, with_openpyxl="openpyxl" not in args.skip)
    if "report" not in args.skip:
        results["report"] = bench_report(patients, cache=args.cache, repeat=args.repeat, targets=targets)
    if "startup" not in args.skip:
        results["startup"] = bench_startup(repeat=max(args.repeat, 5), targets=targets)
    results["targets"] = targets.rows
    results["total_seconds"] = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print("\n" + targets.markdown())
    print(f"\n{sum(t['verdict'] == 'PASS' for t in targets.rows)}/{len(targets.rows)} targets met; "
          f"results in {args.out / 'results.json'} ({results['total_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
