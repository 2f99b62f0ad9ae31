"""Speed and memory of markers at registry scale, against bare-library baselines.

Usage::

    python benchmarks/run.py                 # 10k, 100k and 1M rows; reports on 100 and 1,000 patients
    python benchmarks/run.py --quick         # 10k and 100k rows; report on 100 patients
    python benchmarks/run.py --sizes 1000000 --skip reading report startup   # the commands only

First, each command a user runs (``markers validate``, ``normalize``, ``assess``,
``report``) is timed as a whole process from the shell (``commands.py``), on a
registry (many patients, 10 samples each) and a follow-up study (few patients,
250 samples each), CSV and xlsx, against a bare read in a fresh process; then a
scaling curve in the number of patients at 100,000 rows. The API stages
(read + flag, the report's parts) follow as a breakdown.
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

import commands  # noqa: E402
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


def ensure_input(cache: Path, **spec: object) -> Path:
    """The cached input ``spec`` (see ``generate.ensure``), generated in a child process when missing.

    Generating a million rows here would leave this process large, and a child's peak memory
    (``ru_maxrss``) starts from the size of the process that started it: every later
    measurement would report at least that much.
    """
    path = generate.path_for(cache, **spec)
    if not path.exists():
        code = (f"import sys, pathlib; sys.path.insert(0, {str(HERE)!r}); import generate; "
                f"generate.ensure(pathlib.Path({str(cache)!r}), **{spec!r})")
        subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
    return path


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
              baseline: str = "", cpu_ratio: float | None = None) -> None:
        ok = ratio >= limit if at_least else ratio <= limit
        verdict = "PASS" if ok else "FALLS SHORT"
        sign = ">=" if at_least else "<="
        cpu = "" if cpu_ratio is None else f"; CPU time {cpu_ratio:.2f}x"
        print(f"  TARGET {name}: {ratio:.2f}x (target {sign} {limit}x{cpu}) {verdict}")
        self.rows.append({"target": name, "ratio": round(ratio, 3), "limit": limit, "comparison": sign,
                          "verdict": verdict, "markers": ours, "baseline": baseline,
                          "cpu_ratio": None if cpu_ratio is None else round(cpu_ratio, 3)})

    def markdown(self) -> str:
        """The targets as a Markdown table (what the README's performance section shows)."""
        lines = ["| target | markers | baseline | ratio | ratio of CPU time | limit | verdict |",
                 "|---|---|---|---|---|---|---|"]
        for row in self.rows:
            sign = "≥" if row["comparison"] == ">=" else "≤"
            cpu = "" if row.get("cpu_ratio") is None else f"{row['cpu_ratio']:.2f}×"
            lines.append(f"| {row['target']} | {row['markers']} | {row['baseline']} | {row['ratio']:.2f}× | {cpu} | "
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
            path = ensure_input(cache, rows=size, fmt=fmt)
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
        path = ensure_input(cache, rows=patients * ROWS_PER_PATIENT, fmt="csv")
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


#: The follow-up-study shape: few patients, this many rows (half as many samples) each.
FOLLOW_UP_ROWS_PER_PATIENT = 500
#: The scaling curve: distinct patients at a fixed number of rows.
SCALING_PATIENTS = (100, 1_000, 10_000, 50_000)
SCALING_ROWS = 100_000


def _shapes(size: int) -> dict[str, int | None]:
    """Input shapes at ``size`` rows: name -> number of patients (None: the registry's 10 samples each)."""
    return {"registry": None, "follow-up": max(1, size // FOLLOW_UP_ROWS_PER_PATIENT)}


def _cpu(ours: dict, base: dict) -> float:
    return ours["cpu_seconds"] / base["cpu_seconds"]


def _cmd_line(label: str, result: dict, base: dict | None = None) -> None:
    text = (f"  {label:<60} {result['seconds']:8.2f} s (CPU {result['cpu_seconds']:7.2f} s)  "
            f"peak {result['peak_rss_mb']:6.0f} MB")
    if base is not None:
        text += (f"  ({result['seconds'] / base['seconds']:.2f}x time, {_cpu(result, base):.2f}x CPU, "
                 f"{result['peak_rss_mb'] / base['peak_rss_mb']:.2f}x memory)")
    print(text, flush=True)


def bench_commands(sizes: list[int], *, cache: Path, repeat: int, targets: Targets, formats: tuple[str, ...],
                   max_xlsx_rows: int | None = None, max_follow_up_rows: int | None = None) -> dict:
    """validate / normalize / assess as whole processes, per shape, size and format, against the bare read."""
    results: dict = {}
    for size in sizes:
        n = 1 if size >= LARGEST else repeat
        for shape, patients in _shapes(size).items():
            for fmt in formats:
                if fmt == "xlsx" and max_xlsx_rows is not None and size > max_xlsx_rows:
                    continue
                if shape != "registry" and max_follow_up_rows is not None and size > max_follow_up_rows:
                    continue
                if fmt == "xlsx" and shape != "registry" and size >= LARGEST:
                    continue  # the xlsx target is on the registry; a million-row follow-up workbook adds only time
                path = ensure_input(cache, rows=size, fmt=fmt, patients=patients)
                who = f"{size // ROWS_PER_PATIENT:,}" if patients is None else f"{patients:,}"
                # the commands a target judges get as many runs as the bare read: a ratio of two medians
                judged = {"normalize", "assess"} if fmt == "csv" else {"normalize"}
                judged = judged if shape == "registry" and size == max(sizes) else set()
                print(f"\n{shape} {fmt}, {size:,} rows, {who} patients ({path.stat().st_size / 2**20:.1f} MB), "
                      f"whole processes, median of {n} (the bare read"
                      f"{''.join(', ' + name for name in sorted(judged)) if n != repeat else ''}: of {repeat}):",
                      flush=True)
                entry = results[f"{shape}_{fmt}_{size}"] = {"shape": shape, "format": fmt, "rows": size,
                                                            "file": path.name}
                base_name = "fastexcel" if fmt == "xlsx" else "read_csv_text"
                # the bare read is cheap: always the median of `repeat` runs, so that one slow
                # baseline run cannot flatter markers on the sizes its commands run once
                base = entry[base_name] = commands.baseline(base_name, path, repeat=repeat)
                _cmd_line("bare fastexcel read (fresh process)" if fmt == "xlsx"
                          else "bare pandas.read_csv(dtype=str) (fresh process)", base)
                for name in ("validate", "normalize", "assess"):
                    entry[name] = commands.command(name, path, repeat=repeat if name in judged else n)
                    entry[name]["typed"] = commands.typed(name, path)
                    _cmd_line(entry[name]["typed"], entry[name], base)
                if shape == "registry" and size == max(sizes):
                    _command_targets(entry, base, fmt=fmt, size=size, targets=targets)
    return results


def _command_targets(entry: dict, base: dict, *, fmt: str, size: int, targets: Targets) -> None:
    norm, assess = entry["normalize"], entry["assess"]
    what = f"{size:,}-row registry {fmt}"
    if fmt == "csv":
        targets.check(f"`markers normalize` on the {what} vs fresh-process read_csv(dtype=str)",
                      norm["seconds"] / base["seconds"], 4.0, ours=_s(norm), baseline=_s(base),
                      cpu_ratio=_cpu(norm, base))
        targets.check(f"`markers assess` vs `markers normalize` on the {what}",
                      assess["seconds"] / norm["seconds"], 1.3, ours=_s(assess), baseline=_s(norm),
                      cpu_ratio=_cpu(assess, norm))
    else:
        targets.check(f"`markers normalize` on the {what} vs fresh-process bare fastexcel read",
                      norm["seconds"] / base["seconds"], 1.5, ours=_s(norm), baseline=_s(base),
                      cpu_ratio=_cpu(norm, base))
    for name in ("validate", "normalize", "assess"):
        targets.check(f"peak memory of `markers {name}` on the {what} vs the bare read",
                      entry[name]["peak_rss_mb"] / base["peak_rss_mb"], 2.0, ours=_mb(entry[name]),
                      baseline=_mb(base))


def bench_scaling(*, cache: Path, repeat: int, targets: Targets, counts: tuple[int, ...] = SCALING_PATIENTS,
                  names: tuple[str, ...] = ("normalize", "assess")) -> dict:
    """normalize and assess on 100,000-row CSVs with more and more patients: is the cost per patient flat?"""
    results: dict = {}
    print(f"\nscaling: {SCALING_ROWS:,}-row registry CSV by number of patients, median of {repeat}:", flush=True)
    for patients in counts:
        path = ensure_input(cache, rows=SCALING_ROWS, fmt="csv", patients=patients)
        entry = results[str(patients)] = {}
        for name in names:
            entry[name] = commands.command(name, path, repeat=repeat)
            _cmd_line(f"{patients:>6,} patients: markers {name}", entry[name])
    first, last = str(counts[0]), str(counts[-1])
    for name in names:
        times = [results[str(c)][name]["seconds"] for c in counts]
        cpus = [results[str(c)][name]["cpu_seconds"] for c in counts]
        spread = max(abs(t / times[0] - 1) for t in times)
        cpu_spread = max(abs(t / cpus[0] - 1) for t in cpus)
        per_patient_ms = 1000 * (times[-1] - times[0]) / (counts[-1] - counts[0])
        print(f"  markers {name}: {times[-1] / times[0]:.2f}x from {counts[0]:,} to {counts[-1]:,} patients; "
              f"{per_patient_ms:.3f} ms per added patient", flush=True)
        targets.check(f"`markers {name}` time at {SCALING_ROWS:,} rows, {int(last):,} vs {int(first):,} patients "
                      f"(flat within ±20%: largest deviation {spread:.0%})", 1 + spread, 1.2,
                      ours=f"{times[-1]:.2f} s", baseline=f"{times[0]:.2f} s", cpu_ratio=1 + cpu_spread)
    return results


def bench_report_command(patients: int, *, cache: Path, repeat: int, targets: Targets) -> dict:
    """`markers report` (PDF and a PNG per figure, one process) against bare matplotlib drawing as many figures."""
    path = ensure_input(cache, rows=patients * ROWS_PER_PATIENT, fmt="csv")
    print(f"\nreport command on {patients:,} patients, median of {repeat}:", flush=True)
    ours = commands.command("report", path, repeat=repeat)
    ours["typed"] = commands.typed("report", path)
    _cmd_line(ours["typed"], ours)
    bare = commands.bare_figures(ours["pages"], ours["pngs"], repeat=repeat)
    _cmd_line(f"bare matplotlib: {ours['pages']} figures to a PDF + {ours['pngs']} PNGs", bare)
    targets.check(f"`markers report` on {patients:,} patients vs bare matplotlib (same figures, whole processes)",
                  ours["seconds"] / bare["seconds"], 1.2, ours=_s(ours), baseline=_s(bare),
                  cpu_ratio=_cpu(ours, bare))
    return {"report": ours, "bare_matplotlib": bare}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k rows, report on 100 patients")
    parser.add_argument("--sizes", type=int, nargs="+", help="row counts (default 10000 100000 1000000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median; default 3)")
    parser.add_argument("--out", type=Path, default=REPO / "bench_out", help="folder for results.json")
    parser.add_argument("--cache", type=Path, default=HERE / ".cache", help="folder for generated inputs")
    parser.add_argument("--max-xlsx-rows", type=int, default=None,
                        help="no workbook above this many rows (generating a million-row xlsx takes minutes)")
    parser.add_argument("--max-follow-up-rows", type=int, default=None,
                        help="no follow-up-study input above this many rows")
    parser.add_argument("--report-patients", type=int, default=None,
                        help="patients in the timed `markers report` (default 1,000; 100 with --quick)")
    parser.add_argument("--scaling-commands", nargs="+", default=["normalize", "assess"],
                        choices=["normalize", "assess"], help="commands timed on the scaling curve")
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["commands", "xlsx", "scaling", "report-command", "reading", "report", "startup",
                                 "openpyxl"],
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
    formats = ("csv",) if "xlsx" in args.skip else ("csv", "xlsx")
    if "commands" not in args.skip:
        results["commands"] = bench_commands(sizes, cache=args.cache, repeat=args.repeat, targets=targets,
                                             formats=formats, max_xlsx_rows=args.max_xlsx_rows,
                                             max_follow_up_rows=args.max_follow_up_rows)
    if "scaling" not in args.skip:
        results["scaling"] = bench_scaling(cache=args.cache, repeat=1 if args.quick else args.repeat,
                                           targets=targets, counts=SCALING_PATIENTS[:3] if args.quick
                                           else SCALING_PATIENTS, names=tuple(args.scaling_commands))
    if "report-command" not in args.skip:
        results["report_command"] = bench_report_command(args.report_patients or patients[-1], cache=args.cache,
                                                         repeat=args.repeat, targets=targets)
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
