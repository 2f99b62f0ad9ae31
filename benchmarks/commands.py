"""Each ``markers`` command as a user runs it: a whole process from the shell, wall time and peak memory.

A measurement is one fresh process (interpreter start-up and imports included), started
with :class:`subprocess.Popen` and reaped with :func:`os.wait4`, so its peak resident
memory (``ru_maxrss``) is that process's own. Baselines are whole processes too
(``python -c "pandas.read_csv(...)"``), so every ratio compares like with like.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

#: The commands the benchmark runs, as a user types them (FILE and OUT are filled in).
COMMANDS = {
    "validate": ["markers", "validate", "{file}"],
    "normalize": ["markers", "normalize", "{file}", "-o", "{out}/measurements.csv"],
    "assess": ["markers", "assess", "{file}", "-o", "{out}/assessment.csv"],
    "report": ["markers", "report", "{file}", "-o", "{out}/report.pdf", "--png-dir", "{out}/png", "--jobs", "1",
               "--quiet"],
}

#: Bare-library baselines, each a whole Python process.
BASELINES = {
    "read_csv_text": "import pandas as pd; pd.read_csv({path!r}, skiprows=1, dtype=str)",
    "fastexcel": "import fastexcel; fastexcel.read_excel({path!r}).load_sheet(0).to_pandas()",
}

#: A command whose first run takes longer than this is not repeated.
LONG_RUN_SECONDS = 60.0


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _markers() -> list[str]:
    script = shutil.which("markers", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "markers"]


def run_process(argv: list[str]) -> dict:
    """Wall seconds, CPU seconds (user + system), peak RSS (MB) and exit code of one process, and
    its stderr's tail. On a shared machine the CPU time is the steadier figure: it does not
    count the time the process waited for a core."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=_env(), cwd=REPO)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: KiB on Linux, bytes on macOS
    return {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": usage.ru_maxrss * scale / 2**20, "code": proc.returncode, "stderr": stderr[-2000:]}


def _median(argv: list[str], *, repeat: int, ok_codes: tuple[int, ...] = (0,)) -> dict:
    runs = []
    for _ in range(repeat):
        if runs and runs[0]["seconds"] > LONG_RUN_SECONDS:
            break
        run = run_process(argv)
        if run["code"] not in ok_codes:
            raise RuntimeError(f"{' '.join(argv)} exited {run['code']}:\n{run['stderr']}")
        runs.append(run)
    return {"seconds": statistics.median(r["seconds"] for r in runs),
            "cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
            "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs),
            "runs": [round(r["seconds"], 3) for r in runs], "stderr": runs[-1]["stderr"]}


def command(name: str, path: Path, *, repeat: int) -> dict:
    """Median of ``repeat`` runs of ``markers <name> path ...`` (outputs in a scratch folder)."""
    with tempfile.TemporaryDirectory() as out:
        argv = _markers() + [a.format(file=path, out=out) for a in COMMANDS[name][1:]]
        # validate exits 1 when rows were rejected (the generated files have QNS rows): not a failure
        result = _median(argv, repeat=repeat, ok_codes=(0, 1) if name == "validate" else (0,))
        if name == "report":
            result["pngs"] = len(list(Path(out, "png").glob("*.png")))
            found = re.search(r"(\d+) pages", result["stderr"])
            result["pages"] = int(found.group(1)) if found else 0
    return result


def baseline(name: str, path: Path, *, repeat: int) -> dict:
    """Median of ``repeat`` fresh-process runs of a bare-library read of ``path``."""
    return _median([sys.executable, "-c", BASELINES[name].format(path=str(path))], repeat=repeat)


def bare_figures(pages: int, pngs: int, *, repeat: int) -> dict:
    """Bare matplotlib in one process: ``pages`` simple figures to one PDF, then ``pngs`` PNGs."""
    script = (f"import sys; sys.path.insert(0, {str(HERE)!r}); import _child; "
              f"_child.reference_figures({str(pages)!r}, 'pdf'); _child.reference_figures({str(pngs)!r}, 'png')")
    return _median([sys.executable, "-c", script], repeat=repeat)


def typed(name: str, path: Path) -> str:
    """The command line as a user types it (file name only)."""
    argv = [a.format(file=path.name, out=".") for a in COMMANDS[name]]
    return " ".join(a.replace("./", "") for a in argv)
