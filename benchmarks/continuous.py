"""The certified continuous optimum against its peers, side by side in one run (issue 12).

For each case (architecture, target, D, loss) on the same data: lptrain's continuous solver
(interval [lower_bound, objective] and seconds), Gurobi and SCIP on the MINLP of
``benchmarks/peers.py`` (relative gap 1e-4, absolute 1e-6, one thread, a time limit each),
and Adam (20 restarts x 3000 steps, projected to the box). Every objective is the risk of
the returned parameters recomputed on the data.

Checks per row: lptrain's interval contains every peer's certified interval's optimum
(``lb_lptrain <= peer_objective`` and ``peer_lb <= obj_lptrain``, up to tolerances), and
lptrain's network is no worse than Adam's best (up to the gap).

Data: x uniform in [-1, 1]^n, y = target(x) + N(0, 0.05^2), clipped to [-1, 1]; one fixed
seed per (target, D).

    python benchmarks/continuous.py                          # the default cases, peers 300 s
    python benchmarks/continuous.py --cases 1-2-1:relu:10 --peer-time-limit 60
    python benchmarks/continuous.py --skip-peers gurobi,scip --record

Progress lines go to stderr; the table to stdout (and to BENCHMARKS.md with --record).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shlex
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

BOX = 1.0
NOISE = 0.05
TARGETS = {
    "relu": lambda x: 0.8 * np.maximum(0.9 * x[:, 0] - 0.2, 0) - 0.6 * np.maximum(-0.7 * x[:, 0] + 0.1, 0) + 0.1,
    "sin": lambda x: 0.7 * np.sin(2 * x[:, 0]),
    "prod": lambda x: 0.5 * x[:, 0] * x[:, 1],
}
SEEDS = {"relu": 1200, "sin": 1300, "prod": 1400}
DEFAULT_CASES = [
    "1-2-1:relu:10", "1-2-1:sin:10", "2-2-1:prod:10",
    "1-2-1:relu:100", "2-2-1:prod:100", "1-3-1:relu:100",
    "1-3-1:relu:10",
]
LOSSES = ("absolute", "quadratic")
PEERS = ("lptrain", "gurobi", "scip", "adam")
REL_TOL = 1e-6      # slack of the containment checks (solver tolerances ~1e-9 on the risk)
ABS_TOL = 1e-8


def make_data(n, target, D, seed=None):
    """The issue's data: x ~ U[-1, 1]^n, y = target(x) + N(0, 0.05^2) clipped to [-1, 1]."""
    rng = np.random.default_rng(SEEDS[target] + D if seed is None else seed)
    X = rng.uniform(-1, 1, (D, n))
    Y = np.clip(TARGETS[target](X) + rng.normal(0, NOISE, D), -1, 1)
    return X, Y


def parse_case(text):
    parts = text.split(":")
    if len(parts) not in (3, 4):
        raise ValueError(f"case {text!r}: want ARCH:TARGET:D[:LOSS]")
    spec, target, D = parts[0], parts[1], int(parts[2])
    widths = [int(t) for t in spec.split("-")]
    if len(widths) != 3 or widths[2] != 1:
        raise ValueError(f"case {text!r}: n-w-1 architectures only")
    if target not in TARGETS or (target == "prod") != (widths[0] == 2) or widths[0] > 2:
        raise ValueError(f"case {text!r}: target must be relu/sin for n = 1, prod for n = 2")
    losses = [parts[3]] if len(parts) == 4 else list(LOSSES)
    for loss in losses:
        if loss not in LOSSES:
            raise ValueError(f"case {text!r}: loss must be absolute or quadratic")
    return [(spec, widths, target, D, loss) for loss in losses]


def run_lptrain(spec, loss, X, Y, time_limit, workers=1):
    """lptrain's continuous solver, imported lazily; None if the branch lacks it."""
    try:
        from lptrain.continuous import solve_continuous as solve
    except ImportError:
        try:
            from lptrain.continuous.patterns import solve
        except ImportError:
            return None
    from lptrain import api

    arch = api.architecture(spec)
    t0, c0 = time.perf_counter(), time.process_time()
    kw = {} if workers is None else {"workers": workers}
    try:
        res = solve(arch, loss, X, Y.reshape(-1, 1), box=BOX, gap=peers.GAP, abs_gap=peers.ABS_GAP,
                    time_limit=time_limit, **kw)
    except TypeError:  # a branch whose solver takes no workers= (one thread)
        res = solve(arch, loss, X, Y.reshape(-1, 1), box=BOX, gap=peers.GAP, abs_gap=peers.ABS_GAP,
                    time_limit=time_limit)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    widths = [int(t) for t in spec.split("-")]
    obj = peers.risk(np.clip(np.asarray(res.params, float), -BOX, BOX), X, Y, widths, loss)
    return dict(status=res.status, objective=obj, reported=float(res.objective),
                lower_bound=float(res.lower_bound), seconds=float(res.solve_seconds), wall=wall, cpu_seconds=cpu,
                nodes=int(res.nodes))


def _tol(x):
    return ABS_TOL + REL_TOL * abs(x)


def contains(lp, peer):
    """lptrain's interval against a peer's: may both contain the true optimum?

    Always: lb_lptrain <= peer_objective (the peer's network is feasible). When the peer
    certified optimality, also peer_lb <= obj_lptrain. Returns True/False, or None when
    there is nothing to compare.
    """
    if lp is None or peer is None or "objective" not in lp or not math.isfinite(peer.get("objective", math.nan)):
        return None
    ok = lp["lower_bound"] <= peer["objective"] + _tol(peer["objective"])
    if math.isfinite(peer.get("lower_bound", math.nan)):
        ok = ok and peer["lower_bound"] <= lp["objective"] + _tol(lp["objective"])
    return bool(ok)


def fmt_interval(r):
    if r is None:
        return "not available"
    if r.get("status") == "skipped":
        return "skipped"
    if not math.isfinite(r.get("objective", math.nan)):
        return r.get("status", "no solution")
    lb = r.get("lower_bound", math.nan)
    tag = "" if r["status"] == "optimal" else f" ({r['status'].replace('_', ' ')})"
    return f"[{lb:.7g}, {r['objective']:.7g}]{tag}"


def fmt_seconds(r):
    if r is None or "seconds" not in r or not math.isfinite(r.get("objective", math.nan)):
        return "—"
    s = f"{r['seconds']:.2f}"
    extra = []
    if "cpu_seconds" in r:
        extra.append(f"cpu {r['cpu_seconds']:.1f}")
    if r.get("nodes"):
        extra.append(f"{r['nodes']:,} nodes")
    return s + (f" ({', '.join(extra)})" if extra else "")


HEADER = ("| case | D | loss | lptrain interval | s | Gurobi interval | s | SCIP interval | s | "
          "Adam best (s) | speed-up vs Gurobi | contains peers | ≤ Adam + gap |")


def row(case, res):
    spec, widths, target, D, loss = case
    lp, gu, sc, ad = (res.get(k) for k in PEERS)
    speed = "—"
    if lp and gu and gu.get("status") not in (None, "skipped", "licence limit") and gu.get("seconds") and lp.get("seconds"):
        speed = f"{gu['seconds'] / lp['seconds']:.1f}x"
        if gu.get("status") != "optimal":
            speed = ">" + speed
    checks = [contains(lp, p) for p in (gu, sc)]
    checks = [c for c in checks if c is not None]
    cont = "—" if not checks else ("yes" if all(checks) else "NO")
    vs_adam = "—"
    if lp and "objective" in lp and ad and "objective" in ad:
        g = max(lp["objective"] - lp["lower_bound"], 0.0)
        vs_adam = "yes" if lp["objective"] <= ad["objective"] + g + _tol(ad["objective"]) else "NO"
    adam_s = (f"{ad['objective']:.7g} ({ad['seconds']:.1f})" if ad and "objective" in ad
              else (ad or {}).get("status", "not available"))
    return (f"| {spec} {target} | {D} | {loss} | {fmt_interval(lp)} | {fmt_seconds(lp)} | "
            f"{fmt_interval(gu)} | {fmt_seconds(gu)} | {fmt_interval(sc)} | {fmt_seconds(sc)} | "
            f"{adam_s} | {speed} | {cont} | {vs_adam} |")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run_case(case, args, skip):
    spec, widths, target, D, loss = case
    X, Y = make_data(widths[0], target, D)
    limit = args.peer_time_limit if D <= 10 else args.peer_time_limit_large
    out = {}
    name = f"{spec} {target} D={D} {loss}"
    for peer in PEERS:
        if peer in skip:
            out[peer] = dict(status="skipped")
            continue
        log(f"{name}: {peer} ... (limit {limit:g} s)" if peer in ("gurobi", "scip") else f"{name}: {peer} ...")
        try:
            if peer == "lptrain":
                r = run_lptrain(spec, loss, X, Y, args.lptrain_time_limit, args.lptrain_workers)
            elif peer == "gurobi":
                r = peers.gurobi_solve(X, Y, widths, loss, box=BOX, time_limit=limit, clock=args.peer_clock)
            elif peer == "scip":
                r = peers.scip_solve(X, Y, widths, loss, box=BOX, time_limit=limit, clock=args.peer_clock)
            else:
                r = peers.adam(X, Y, widths, loss, restarts=args.adam_restarts, steps=args.adam_steps,
                               seed=SEEDS[target] + D, box=BOX)
                r["status"] = "done"
        except ImportError as exc:
            log(f"{name}: {peer} not available ({exc})")
            r = None
        except Exception as exc:  # a peer failing must not stop the run
            log(f"{name}: {peer} failed: {type(exc).__name__}: {exc}")
            r = dict(status=f"error: {type(exc).__name__}")
        if r is not None and "objective" in r:
            log(f"{name}: {peer} {r.get('status')} obj={r['objective']:.9g} "
                f"lb={r.get('lower_bound', math.nan):.9g} {r.get('seconds', math.nan):.2f}s "
                f"(cpu {r.get('cpu_seconds', math.nan):.1f}s, {r.get('nodes', 0)} nodes)")
        out[peer] = r
    return out


def _plain(r):
    if r is None:
        return None
    return {k: (np.asarray(v).tolist() if isinstance(v, np.ndarray) else v) for k, v in r.items()}


def write_json(path, obj):
    import json

    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1, allow_nan=True)
    os.replace(tmp, path)


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}"


def versions():
    out = []
    for mod, label in (("gurobipy", "Gurobi"), ("pyscipopt", "PySCIPOpt"), ("torch", "PyTorch")):
        try:
            m = __import__(mod)
            if mod == "gurobipy":
                v = ".".join(str(t) for t in m.gurobi.version())
            elif mod == "pyscipopt":
                v = f"{m.__version__} (SCIP {m.Model().version()})"
            else:
                v = m.__version__
            out.append(f"{label} {v}")
        except Exception:
            out.append(f"{label} not installed")
    return ", ".join(out)


SECTION = "## The continuous optimum against Gurobi, SCIP and Adam (`benchmarks/continuous.py`)"


def record(path, lines, args_text, limits, adam_text, note=""):
    intro = [
        "",
        SECTION,
        "",
        f"Machine: {machine()}, shared with other jobs (timings are loaded-machine wall clock), "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. {versions()}.",
        f"Command: `python benchmarks/continuous.py {args_text}`.",
        "",
        "Same data for every column (x ~ U[-1, 1]^n, noise N(0, 0.05²), clipped; fixed seeds). "
        "Gurobi (NonConvex = 2) and SCIP solve the MINLP of `benchmarks/peers.py` (ReLU as big-M "
        f"binaries, the output layer bilinear) with relative gap 1e-4, absolute 1e-6, one thread, {limits}; "
        "their interval is [dual bound, risk of their network recomputed on the data]. "
        "`s`: wall seconds (in brackets the solving process's CPU seconds -- the fairer figure on a loaded "
        "machine -- and branch-and-bound nodes). "
        f"Adam: {adam_text}. "
        "`contains peers`: lptrain's lower bound ≤ each peer's objective and each peer's lower bound ≤ "
        "lptrain's objective. `not available`: the solver was not on the branch that ran." + note,
        "",
    ]
    body = "\n".join(intro + lines) + "\n"
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    if SECTION in text:
        start = text.index(SECTION)
        # the section's own text ends at the next heading; "###" subsections after it are kept
        ends = [i for i in (text.find("\n## ", start + len(SECTION)),
                            text.find("\n### ", start + len(SECTION))) if i >= 0]
        nxt = min(ends) if ends else -1
        text = text[:start].rstrip("\n") + "\n" + body + ("" if nxt < 0 else text[nxt:])
    else:
        text = text.rstrip("\n") + "\n" + body
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default=",".join(DEFAULT_CASES),
                    help="comma-separated ARCH:TARGET:D[:LOSS] (targets relu, sin for n = 1; prod for 2-2-1)")
    ap.add_argument("--peer-time-limit", type=float, default=300.0, help="seconds per Gurobi/SCIP solve, D <= 10")
    ap.add_argument("--json", metavar="PATH", help="write every solver's figures per case as JSON")
    ap.add_argument("--peer-time-limit-large", type=float, default=60.0,
                    help="seconds per Gurobi/SCIP solve, D > 10")
    ap.add_argument("--peer-clock", choices=("wall", "cpu"), default="wall",
                    help="the peers' limits in wall seconds (bounded run time) or in their CPU seconds "
                         "(fair on a loaded machine, unbounded wall time)")
    ap.add_argument("--lptrain-time-limit", type=float, default=600.0)
    ap.add_argument("--lptrain-workers", type=int, default=1,
                    help="threads for lptrain's node LPs (default 1, like the peers)")
    ap.add_argument("--skip-peers", default="", help="comma-separated of lptrain,gurobi,scip,adam")
    ap.add_argument("--adam-restarts", type=int, default=20)
    ap.add_argument("--adam-steps", type=int, default=3000)
    ap.add_argument("--record", action="store_true", help="append/replace the section in BENCHMARKS.md")
    ap.add_argument("--benchmarks-file", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                              "..", "BENCHMARKS.md"))
    args = ap.parse_args(argv)
    try:
        cases = [c for text in args.cases.split(",") if text.strip() for c in parse_case(text.strip())]
        skip = {s.strip() for s in args.skip_peers.split(",") if s.strip()}
        bad = skip - set(PEERS)
        if bad:
            raise ValueError(f"--skip-peers: unknown {sorted(bad)}")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    lines = [HEADER, "|" + "---|" * HEADER.count(" | ") + "---|"]
    print(lines[0])
    print(lines[1], flush=True)
    t_all = time.perf_counter()
    failed = False
    path = os.path.normpath(args.benchmarks_file)
    limits = (f"{args.peer_time_limit:g} s limit for D ≤ 10 and {args.peer_time_limit_large:g} s for larger D "
              f"({'CPU' if args.peer_clock == 'cpu' else 'wall-clock'} seconds)")
    command = " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    adam_text = (f"best risk of {args.adam_restarts} restarts x {args.adam_steps} full-batch steps "
                 "(lr 0.01, float64, uniform start in the box, clipped to it after every step)")
    everything = []
    for k, case in enumerate(cases):
        res = run_case(case, args, skip)
        everything.append(dict(case=list(case), **{p: _plain(r) for p, r in res.items()}))
        if args.json:
            write_json(args.json, everything)
        line = row(case, res)
        failed |= "| NO |" in line
        lines.append(line)
        print(line, flush=True)
        if args.record:  # after every row, so an interrupted run keeps what it measured
            done = k + 1 == len(cases)
            record(path, lines, command, limits, adam_text,
                   "" if done else f" (Partial: {k + 1} of {len(cases)} rows; the run goes on.)")
    log(f"all cases in {time.perf_counter() - t_all:.0f} s")
    if args.record:
        log(f"recorded in {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
