"""Benchmark: rlsp_verifiers against HuggingFace Math-Verify on the labelled corpus.

Each verifier runs in its own process (one process each, sequential checks), started by this
script; the parent collects per-case results and writes
``benchmarks/results/verifier_bench.{json,md,png}``.

    python benchmarks/verifier_bench.py                  # the whole corpus, both verifiers
    python benchmarks/verifier_bench.py --limit 200      # a quick run
    python benchmarks/verifier_bench.py --engines ours   # only ours

Math-Verify usage (its documented API): ``verify(parse("$" + gold + "$"), parse(response))``,
with ``parse("\\boxed{gold}")`` when the first parse of the gold finds nothing. It has no strict
mode, so it reads unboxed answers in every category.

Metrics per category and overall: accepted when it should (TP), rejected when it should (TN),
false positives, false negatives, crashes, timeouts (a check longer than its timeout), accuracy,
checks/s, p50/p99/max latency.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent
CORPUS = ROOT / "data" / "verifier_corpus.jsonl"
RESULTS = ROOT / "results"
TIMEOUT_S = 5.0
ENGINES = ("ours", "math_verify")
LABELS = {"ours": "rlsp_verifiers", "math_verify": "Math-Verify 0.9.0"}


# ---------------------------------------------------------------- workers (one process each)


def _worker(engine: str, corpus: Path, out: Path, limit: int | None) -> None:
    cases = [json.loads(line) for line in corpus.open(encoding="utf-8")]
    if limit:
        cases = cases[:limit]
    if engine == "ours":
        from rlsp_verifiers import verify

        def check(c: dict) -> tuple[bool | None, str]:
            v = verify(c["response"], c["gold"], mode=c["mode"], timeout_s=TIMEOUT_S)
            if v.reason == "internal_error":
                return None, "crash"
            if v.reason == "timeout":
                return False, "timeout"
            return v.correct, v.reason

    else:
        import logging

        from math_verify import parse, verify

        logging.disable(logging.CRITICAL)

        def check(c: dict) -> tuple[bool | None, str]:
            try:
                gold = parse("$" + c["gold"] + "$", parsing_timeout=int(TIMEOUT_S))
                if not gold:
                    gold = parse("\\boxed{" + c["gold"] + "}", parsing_timeout=int(TIMEOUT_S))
                ans = parse(c["response"], parsing_timeout=int(TIMEOUT_S))
                return bool(verify(gold, ans, timeout_seconds=int(TIMEOUT_S))), ""
            except Exception as e:  # noqa: BLE001 - a crash is a result here
                return None, f"crash: {type(e).__name__}"

    # warm up imports and caches outside the timed loop (both engines alike)
    for c in cases[:5]:
        check(c)
    rows = []
    try:
        from tqdm import tqdm

        it = tqdm(cases, desc=engine, file=sys.stderr, mininterval=2)
    except ImportError:
        it = cases
    t_all = time.perf_counter()
    for c in it:
        t0 = time.perf_counter()
        pred, why = check(c)
        dt = time.perf_counter() - t0
        timeout = why == "timeout" or dt > TIMEOUT_S
        rows.append({"id": c["id"], "pred": pred, "why": why, "latency_s": dt, "timeout": timeout})
    total = time.perf_counter() - t_all
    out.write_text(json.dumps({"engine": engine, "total_s": total, "rows": rows}))


# ---------------------------------------------------------------- report


def _metrics(cases: list[dict], rows: list[dict]) -> dict:
    tp = tn = fp = fn = crash = timeout = 0
    for c, r in zip(cases, rows):
        if r["pred"] is None:
            crash += 1
            pred = False
        else:
            pred = r["pred"]
        timeout += bool(r["timeout"])
        if c["expected"]:
            tp += pred
            fn += not pred
        else:
            tn += not pred
            fp += pred
    lat = sorted(r["latency_s"] for r in rows)
    n = len(rows)
    return {
        "n": n,
        "accept_ok": tp,
        "reject_ok": tn,
        "false_pos": fp,
        "false_neg": fn,
        "crashes": crash,
        "timeouts": timeout,
        "accuracy": (tp + tn) / n if n else 0.0,
        "checks_per_s": n / sum(lat) if lat and sum(lat) > 0 else 0.0,
        "p50_ms": 1000 * statistics.median(lat) if lat else 0.0,
        "p99_ms": 1000 * lat[min(n - 1, int(0.99 * n))] if lat else 0.0,
        "max_ms": 1000 * lat[-1] if lat else 0.0,
    }


def _report(cases: list[dict], results: dict[str, dict], cmd: str) -> dict:
    by_cat: dict[str, list[int]] = defaultdict(list)
    for k, c in enumerate(cases):
        by_cat[c["category"]].append(k)
    report: dict = {"command": cmd, "timeout_s": TIMEOUT_S, "n_cases": len(cases), "engines": {}}
    for eng, res in results.items():
        rows = res["rows"]
        per = {
            cat: _metrics([cases[k] for k in ks], [rows[k] for k in ks])
            for cat, ks in sorted(by_cat.items())
        }
        overall = _metrics(cases, rows)
        overall["wall_checks_per_s"] = len(rows) / res["total_s"] if res["total_s"] else 0.0
        report["engines"][eng] = {"overall": overall, "categories": per}
    if set(results) == set(ENGINES):
        o, m = report["engines"]["ours"], report["engines"]["math_verify"]
        adv_fp = sum(v["false_pos"] for k, v in o["categories"].items() if k.startswith("adv_"))
        worse = [
            k
            for k in o["categories"]
            if o["categories"][k]["accuracy"] < m["categories"][k]["accuracy"] - 1e-12
        ]
        speedup = o["overall"]["checks_per_s"] / max(m["overall"]["checks_per_s"], 1e-9)
        report["bars"] = {
            "zero_fp_on_adversarial": {"ok": adv_fp == 0, "adversarial_false_positives": adv_fp},
            "at_least_math_verify_accuracy_every_category": {
                "ok": not worse,
                "categories_below": worse,
            },
            "higher_overall_accuracy": {
                "ok": o["overall"]["accuracy"] > m["overall"]["accuracy"],
                "ours": o["overall"]["accuracy"],
                "math_verify": m["overall"]["accuracy"],
            },
            "throughput_5x": {"ok": speedup >= 5, "speedup": speedup},
            "p99_under_100ms": {
                "ok": o["overall"]["p99_ms"] < 100,
                "p99_ms": o["overall"]["p99_ms"],
            },
            "no_check_over_timeout": {
                "ok": o["overall"]["max_ms"] <= 1000 * TIMEOUT_S,
                "max_ms": o["overall"]["max_ms"],
            },
        }
    return report


def _markdown(report: dict) -> str:
    lines = [
        "# Verifier benchmark: rlsp_verifiers vs Math-Verify",
        "",
        f"Command: `{report['command']}`  ",
        f"Cases: {report['n_cases']} (benchmarks/data/verifier_corpus.jsonl); per-check timeout {report['timeout_s']} s; "
        "one process per verifier, sequential checks.",
        "",
    ]
    engs = list(report["engines"])
    lines += [
        "## Overall",
        "",
        "| verifier | accuracy | TP | TN | FP | FN | crashes | timeouts | checks/s | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in engs:
        o = report["engines"][e]["overall"]
        lines.append(
            f"| {LABELS[e]} | {o['accuracy']:.3f} | {o['accept_ok']} | {o['reject_ok']} | {o['false_pos']} | {o['false_neg']} | "
            f"{o['crashes']} | {o['timeouts']} | {o['checks_per_s']:.1f} | {o['p50_ms']:.2f} | {o['p99_ms']:.2f} | {o['max_ms']:.1f} |"
        )
    lines += ["", "## Per category", ""]
    header = (
        "| category | n | "
        + " | ".join(f"{LABELS[e]} acc (FP/FN/crash/timeout)" for e in engs)
        + " |"
    )
    lines += [header, "|---|---|" + "---|" * len(engs)]
    cats = report["engines"][engs[0]]["categories"]
    for cat in cats:
        cells = []
        for e in engs:
            m = report["engines"][e]["categories"][cat]
            cells.append(
                f"{m['accuracy']:.3f} ({m['false_pos']}/{m['false_neg']}/{m['crashes']}/{m['timeouts']})"
            )
        lines.append(f"| {cat} | {cats[cat]['n']} | " + " | ".join(cells) + " |")
    if "bars" in report:
        lines += ["", "## Bars", ""]
        for name, b in report["bars"].items():
            detail = ", ".join(
                f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in b.items()
                if k != "ok"
            )
            lines.append(f"- {'PASS' if b['ok'] else 'MISS'} `{name}`: {detail}")
    return "\n".join(lines) + "\n"


def _plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    engs = list(report["engines"])
    cats = list(report["engines"][engs[0]]["categories"])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(15, 5.5), gridspec_kw={"width_ratios": [4, 1]})
    w = 0.8 / len(engs)
    for i, e in enumerate(engs):
        accs = [report["engines"][e]["categories"][c]["accuracy"] for c in cats]
        ax1.bar([k + i * w for k in range(len(cats))], accs, w, label=LABELS[e])
    ax1.set_xticks([k + w * (len(engs) - 1) / 2 for k in range(len(cats))])
    ax1.set_xticklabels(cats, rotation=45, ha="right", fontsize=8)
    ax1.set_ylabel("accuracy")
    ax1.set_ylim(0, 1.05)
    ax1.set_title("accuracy per category (adv_*: reward hacks, all must be rejected)")
    ax1.legend(loc="lower left", framealpha=0.95)
    rates = [report["engines"][e]["overall"]["checks_per_s"] for e in engs]
    ax2.bar([LABELS[e] for e in engs], rates, color=["C0", "C1"][: len(engs)])
    ax2.set_yscale("log")
    ax2.set_ylim(1, max(rates) * 3)
    ax2.set_ylabel("checks/s (log)")
    ax2.set_title("throughput, one process")
    for k, r in enumerate(rates):
        ax2.text(k, r, f"{r:.0f}", ha="center", va="bottom")
    ax2.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--limit", type=int, default=None, help="only the first N cases")
    ap.add_argument("--engines", default=",".join(ENGINES), help="comma list of: ours, math_verify")
    ap.add_argument("--out-dir", type=Path, default=RESULTS)
    ap.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    ap.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        _worker(args.worker, args.corpus, args.worker_out, args.limit)
        return 0
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for e in engines:
        if e not in ENGINES:
            ap.error(f"unknown engine {e!r}")
    if not args.corpus.exists():
        ap.error(
            f"corpus not found: {args.corpus} (build it with benchmarks/verifier_corpus_build.py)"
        )
    cases = [json.loads(line) for line in args.corpus.open(encoding="utf-8")]
    if args.limit:
        cases = cases[: args.limit]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    for e in engines:
        tmp = args.out_dir / f".verifier_bench_{e}.json"
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            e,
            "--worker-out",
            str(tmp),
            "--corpus",
            str(args.corpus),
        ]
        if args.limit:
            cmd += ["--limit", str(args.limit)]
        print(f"[bench] running {LABELS[e]} on {len(cases)} cases", file=sys.stderr)
        subprocess.run(cmd, check=True, timeout=3600, env={**os.environ, "PYTHONHASHSEED": "0"})
        results[e] = json.loads(tmp.read_text())
        tmp.unlink()
    shown = (
        "python benchmarks/verifier_bench.py"
        + (" " + " ".join(argv) if argv else " " + " ".join(sys.argv[1:])).rstrip()
    )
    report = _report(cases, results, shown.strip())
    report["cases"] = [
        {
            "id": c["id"],
            "category": c["category"],
            "expected": c["expected"],
            **{f"{e}_pred": results[e]["rows"][k]["pred"] for e in results},
            **{f"{e}_why": results[e]["rows"][k]["why"] for e in results},
        }
        for k, c in enumerate(cases)
    ]
    (args.out_dir / "verifier_bench.json").write_text(json.dumps(report, indent=1))
    md = _markdown(report)
    (args.out_dir / "verifier_bench.md").write_text(md)
    _plot(report, args.out_dir / "verifier_bench.png")
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
