"""Benchmark of dataset intake: the full check at N = 10k and 100k synthetic examples, against a
plain datasketch baseline measured in the same run.

    .venv/bin/python bench/intake.py                 # N = 10000 and 100000
    .venv/bin/python bench/intake.py --sizes 20000 --no-baseline

For each N it writes a mixed Japanese/English CSV with planted near duplicates, exact duplicates,
conflicting answers and personal data (``intake_parts/corpus.py``), then runs each method in a
fresh process and reports wall time and CPU time of the timed part (reading the file included,
interpreter start and imports not), peak RSS of the whole process, and recall/precision on the
planted items.

Targets (2-core machine): 100k examples checked in ≤ 20 s and ≤ 1 GiB; near-duplicate recall and
precision ≥ 0.95; at least 5× faster than the datasketch baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]

from intake_parts import corpus, scoring  # noqa: E402

TARGET_SECONDS, TARGET_MIB, TARGET_QUALITY, TARGET_SPEEDUP = 20.0, 1024.0, 0.95, 5.0


def _child(method: str, data: Path, extra: str = "") -> dict[str, Any]:
    """Run one step in a fresh interpreter; its peak RSS is read from the kernel on exit. The
    parent stays small while children run (a forked child's peak RSS starts with the parent's)."""
    with tempfile.NamedTemporaryFile("r", suffix=".json") as result:
        process = subprocess.Popen(
            [sys.executable, __file__, "--child", method, str(data), result.name, extra],
            cwd=BENCH.parent,
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            raise SystemExit(f"{method} run failed with exit code {process.returncode}")
        measured: dict[str, Any] = json.load(result)
    measured["process_peak_rss_mib"] = usage.ru_maxrss / 1024
    measured["process_cpu"] = usage.ru_utime + usage.ru_stime
    return measured


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def _report(
    size: int, ours: dict[str, Any], base: dict[str, Any] | None, truth: scoring.Truth
) -> list[str]:
    lines = [
        f"\n== N = {size:,} examples ({ours['rows']:,} rows read, {ours['findings']:,} findings) =="
    ]
    header = (
        f"{'method':<34}{'wall s':>8}{'CPU s':>7}{'peak RSS MiB':>14}"
        f"{'near-dup stage s':>18}{'near recall':>13}{'prec. planted':>15}"
        f"{'prec. J>=0.8':>14}"
    )
    lines.append(header)
    runs = [("TuneDesk full check", ours), ("TuneDesk read + duplicates only", ours["same_work"])]
    runs += [("datasketch baseline", base)] if base else []
    for name, run in runs:
        quality = scoring.score_duplicates(truth, run)
        run["quality"] = quality
        lines.append(
            f"{name:<34}{run['wall']:>8.2f}{run['cpu']:>7.1f}"
            f"{run['process_peak_rss_mib']:>14.0f}{run['stage']:>18.2f}"
            f"{_fmt(quality['near_recall']):>13}{_fmt(quality['near_precision_planted']):>15}"
            f"{_fmt(quality['near_precision_jaccard']):>14}"
        )
    q = ours["quality"]
    extra = scoring.score_conflicts_and_pii(truth, ours)
    lines += [
        f"TuneDesk: reading {ours['read']:.2f} s of {ours['wall']:.2f} s; "
        f"{q['near_truth_pairs']:,} planted near pairs, {q['near_reported_pairs']:,} reported",
        f"exact duplicates recall {_fmt(q['exact_recall'])} precision {_fmt(q['exact_precision'])}"
        f" · conflicts recall {_fmt(extra['conflict_recall'])} precision "
        f"{_fmt(extra['conflict_precision'])} · personal data recall {_fmt(extra['pii_recall'])} "
        f"precision {_fmt(extra['pii_precision'])}",
    ]
    if base:
        same = ours["same_work"]
        lines.append(
            f"speed-up vs datasketch: same work (read + keys + duplicates) "
            f"{base['wall'] / same['wall']:.1f}×, near-dup stage alone "
            f"{base['stage'] / same['stage']:.1f}×; even our full check (every check) is "
            f"{base['wall'] / ours['wall']:.1f}× faster than the baseline's duplicates-only run"
        )
    return lines


def _targets(size: int, ours: dict[str, Any], base: dict[str, Any] | None) -> list[str]:
    q = ours["quality"]
    lines = []
    if size >= 100_000:
        lines.append(
            f"target ≤ {TARGET_SECONDS:.0f} s: {ours['wall']:.2f} s — "
            f"{_verdict(ours['wall'] <= TARGET_SECONDS)}"
        )
        lines.append(
            f"target ≤ 1 GiB: {ours['process_peak_rss_mib']:.0f} MiB — "
            f"{_verdict(ours['process_peak_rss_mib'] <= TARGET_MIB)}"
        )
    quality_ok = min(q["near_recall"] or 0, q["near_precision_planted"] or 0) >= TARGET_QUALITY
    lines.append(f"target recall and precision ≥ {TARGET_QUALITY}: {_verdict(quality_ok)}")
    if base:
        speedup = base["wall"] / ours["same_work"]["wall"]
        lines.append(
            f"target ≥ {TARGET_SPEEDUP:.0f}× faster than datasketch (same work): "
            f"{speedup:.1f}× — {_verdict(speedup >= TARGET_SPEEDUP)}"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--no-baseline", action="store_true", help="skip datasketch")
    parser.add_argument(
        "--child", nargs=4, metavar=("STEP", "DATA", "OUT", "EXTRA"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        return _run_child(*args.child)
    print(
        f"Python {sys.version.split()[0]} · {os.cpu_count()} CPUs · load average "
        f"{os.getloadavg()[0]:.1f} (other work on the machine slows wall times)"
    )
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="intake-bench-") as folder:
            _child("generate", Path(folder), str(size))
            data = Path(folder) / "examples.csv"
            ours = _child("ours", data)
            ours["same_work"] = _child("ours-dedup", data)
            base = None if args.no_baseline else _child("baseline", data)
            rows, truth_data = corpus.read(Path(folder))
            truth = scoring.Truth(rows, truth_data)
            print(
                "\n".join(_report(size, ours, base, truth) + _targets(size, ours, base)), flush=True
            )
    return 0


def _run_child(step: str, data: str, out: str, extra: str) -> int:
    if step == "generate":
        corpus.write(corpus.generate(int(extra)), Path(data))
        Path(out).write_text("{}")
        return 0
    from intake_parts import runners

    run = {
        "ours": runners.run_ours,
        "ours-dedup": runners.run_ours_dedup,
        "baseline": runners.run_baseline,
    }[step]
    Path(out).write_text(json.dumps(run(Path(data))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
