"""Command-line interface: argument parsing and printing only; the work is in ``api``.

Every command takes ``--json PATH`` (machine-readable results, written atomically) and
prints a readable summary.  User errors print one line on stderr and exit non-zero;
no output file is left behind.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
import warnings

import numpy as np

from . import __version__, api
from .bignum import json_int, sci, sci_log10
from .data import Dataset, default_header, read_dataset, read_table
from .exceptions import InputError, LPTrainError, RoundingWarning
from .fileio import atomic_write_text
from .grid import MAX_BITS, Grid
from .network import Network
from .polytope import Polytope
from .rounding import RoundingReport
from .sizes import DEFAULT_MAX_EVALUATIONS, DEFAULT_MEMORY, big, human_bytes
from .sizes import parse_memory as _parse_memory


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        sub = self.prog.split()[1:]
        raise InputError(f"{' '.join(sub)}: {message}" if sub else message)


def parse_memory(text: str) -> int:
    """``--memory``: :func:`lptrain.sizes.parse_memory` with argparse's error type."""
    try:
        return _parse_memory(text)
    except InputError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def positive_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def _number(test, what):
    def parse(text):
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not (math.isfinite(v) and test(v)):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return v

    return parse


positive_float = _number(lambda v: v > 0, "a positive number")
nonneg_float = _number(lambda v: v >= 0, "a number >= 0")


def _common(p):
    p.add_argument("--json", metavar="PATH", help="write machine-readable results to PATH")
    p.add_argument("--memory", type=parse_memory, default=DEFAULT_MEMORY,
                   help="memory limit for tables and explicit LPs (default 2G)")


def _model_args(p, samples=False):
    p.add_argument("--arch", required=True, help="widths n-w1-...-m, e.g. 1-2-1, or an architecture .json file")
    p.add_argument("--activation", default="relu", help="relu, leaky_relu, elu or tanh (hidden layers)")
    p.add_argument("--loss", default="quadratic", help="absolute, quadratic, hinge or cross_entropy")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--bits", type=positive_int, help="bits per number (default 2 when --epsilon is not given)")
    g.add_argument("--epsilon", type=positive_float, help="accuracy; bits = ceil(log2(2L/epsilon))")
    p.add_argument("--form", default="compact", choices=["compact", "literal"],
                   help="compact (default) or literal (Thm 2.8 with leaf bags)")
    p.add_argument("--reg", choices=["l1", "l2"], help="regularizer R(phi) (App. B)")
    p.add_argument("--lam", type=nonneg_float, default=0.0, help="regularization weight")
    if samples:
        p.add_argument("--samples", type=positive_int, required=True, help="sample size D")


def _evaluations(text):
    if text.strip().lower() == "none":
        return None
    try:
        v = float(text) if "_" not in text else math.nan
    except ValueError:
        v = math.nan
    if not (math.isfinite(v) and v >= 1 and v == int(v)):
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1 (e.g. 1e14) or none, got {text!r}")
    return int(v)


def _solve_args(p):
    p.add_argument("--solver", default="auto", help="auto, highs, structured, bnb, dask or gpu")
    p.add_argument("--model", metavar="PATH", help="write the trained network (JSON) to PATH")
    p.add_argument("--scale", action="store_true",
                   help="map each column affinely onto the grid's range [-1, 1 - 2 gamma] "
                        "(stored in the model: predict takes and returns raw units)")
    p.add_argument("--no-check", action="store_true", help="skip the certificate check")
    p.add_argument("--max-evaluations", type=_evaluations, default=DEFAULT_MAX_EVALUATIONS, metavar="N",
                   help="refuse a scan scoring more (grid point, data point) pairs (default 1e13, "
                        "an hour or two on two cores; 'none' for no limit)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="shard the scan over a dask.distributed cluster (implies --solver dask; "
                        "default from LPTRAIN_SCHEDULER); with --continuous: bound the search's "
                        "nodes (patterns and spatial) on that cluster")
    p.add_argument("--workers", type=positive_int, help="with --solver dask and no scheduler: a LocalCluster of K workers; "
                   "with --continuous: K threads bounding nodes (default every core)")


def _parallel_args(p):
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="bound the search's nodes (patterns and spatial) on this dask.distributed "
                        "cluster (default from LPTRAIN_SCHEDULER unless --workers is given)")
    p.add_argument("--workers", type=positive_int, help="K threads bounding nodes (default every core)")


def _continuous_args(p, box_default=1.0):
    p.add_argument("--gap", type=nonneg_float, default=1e-4,
                   help="continuous: stop at this relative gap (default 1e-4)")
    p.add_argument("--abs-gap", type=nonneg_float, default=1e-6,
                   help="continuous: stop at this absolute gap (default 1e-6)")
    p.add_argument("--time-limit", type=positive_float, metavar="S",
                   help="continuous: stop after S seconds with the interval proven so far")
    p.add_argument("--box", type=positive_float, default=box_default, metavar="B",
                   help="continuous: parameters in [-B, B] (default 1)")
    p.add_argument("--proof", metavar="PATH", help="continuous: write the proof (npz) to PATH")
    p.add_argument("--method", default="auto", choices=["auto", "patterns", "spatial"],
                   help="continuous: patterns (one hidden ReLU layer) or spatial branch-and-bound")


def build_parser():
    p = _Parser(prog="lptrain", description="Train neural networks by linear programming "
                "(Bienstock, Munoz, Pokutta): one data-independent polytope, one face per data set.")
    p.add_argument("--version", action="version", version=f"lptrain {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    b = sub.add_parser("build", help="write the data-independent polytope P to a file")
    _model_args(b, samples=True)
    b.add_argument("--out", required=True, metavar="PATH", help="polytope file (.npz)")
    b.add_argument("--mps", metavar="PATH", help="also write P's explicit LP in MPS")
    _common(b)

    s = sub.add_parser("solve", help="solve a data set on its face of a built polytope")
    s.add_argument("polytope")
    s.add_argument("data")
    _solve_args(s)
    s.add_argument("--mps", metavar="PATH", help="also write the face LP in MPS")
    _common(s)

    t = sub.add_parser("train", help="build and solve in one go (only the data's face is evaluated)")
    t.add_argument("data")
    _model_args(t)
    _solve_args(t)
    t.add_argument("--bnn", action="store_true",
                   help="binarized units, parameters in {-1,1}, 0/1 data, exact (App. C)")
    t.add_argument("--continuous", action="store_true",
                   help="the certified optimum over continuous parameters in [-B, B]^N, no grid")
    _continuous_args(t)
    _common(t)

    gp = sub.add_parser("gap", help="how far a network is from the best of its architecture, certified")
    gp.add_argument("model", help="lptrain model (.json) or ONNX file (.onnx)")
    gp.add_argument("data", help="CSV: the network's inputs then outputs")
    gp.add_argument("--loss", help="default: the model's training loss, else quadratic")
    gp.add_argument("--reg", choices=["l1", "l2"], help="regularizer R(phi) (App. B)")
    gp.add_argument("--lam", type=nonneg_float, default=0.0, help="regularization weight")
    _continuous_args(gp, box_default=None)
    _parallel_args(gp)
    gp.add_argument("--model-out", metavar="PATH", help="write the best network found (JSON) to PATH")
    _common(gp)

    cp = sub.add_parser("check-proof", help="replay a continuous proof file (--proof) on its data, independently")
    cp.add_argument("proof", help="proof file written by train --continuous --proof or gap --proof")
    cp.add_argument("data", help="CSV the solver saw: inputs then outputs")
    cp.add_argument("--scale", action="store_true", help="the data was given with --scale")
    _common(cp)

    z = sub.add_parser("size", help="sizes of P and Thm 3.1(a)'s bounds, nothing built")
    _model_args(z, samples=True)
    _common(z)

    r = sub.add_parser("predict", help="apply a trained model to a CSV of inputs")
    r.add_argument("model")
    r.add_argument("data")
    r.add_argument("--out", metavar="PATH", help="write predictions as CSV to PATH (default: stdout)")
    _common(r)

    a = sub.add_parser("arch", help="write architecture files for common shapes (conv1d, resnet)")
    asub = a.add_subparsers(dest="shape", metavar="SHAPE", parser_class=_Parser)
    asub.required = True
    c1 = asub.add_parser("conv1d", help="one 1-D convolution (shared weights) and dense outputs")
    c1.add_argument("--inputs", type=positive_int, required=True)
    c1.add_argument("--kernel", type=positive_int, required=True)
    c1.add_argument("--channels", type=positive_int, default=1)
    c1.add_argument("--stride", type=positive_int, default=1)
    c1.add_argument("--outputs", type=positive_int, default=1)
    rn = asub.add_parser("resnet", help="a layered net with skip edges from two layers back")
    rn.add_argument("--widths", required=True, help="e.g. 2-2-2-1")
    for q in (c1, rn):
        q.add_argument("--activation", default="relu")
        q.add_argument("--out", required=True, metavar="PATH", help="architecture file (.json)")
        _common(q)

    t1 = sub.add_parser("table1", help="the paper's Table 1: formulas, numbers, exact sizes")
    t1.add_argument("--arch", required=True)
    t1.add_argument("--activation", default="relu")
    t1.add_argument("--epsilon", type=positive_float, required=True)
    t1.add_argument("--samples", type=positive_int, default=1000)
    _common(t1)

    g = sub.add_parser("sample-size", help="Thm 6.2's sample size for generalization and its LP size")
    g.add_argument("--arch", required=True)
    g.add_argument("--activation", default="relu")
    g.add_argument("--loss", default="quadratic")
    g.add_argument("--epsilon", type=positive_float, required=True)
    g.add_argument("--alpha", type=positive_float, required=True, help="failure probability in (0, 1)")
    g.add_argument("--sigma2", type=positive_float, help="variance bound (default: from the loss range)")
    g.add_argument("--reg", choices=["l1", "l2"])
    g.add_argument("--lam", type=nonneg_float, default=0.0)
    _common(g)

    ac = sub.add_parser("achievable", help="Remark 3.3: is a loss level achievable on this sample? witness or certificate")
    ac.add_argument("polytope")
    ac.add_argument("data")
    tg = ac.add_mutually_exclusive_group(required=True)
    tg.add_argument("--average", type=float, metavar="T", help="target mean loss")
    tg.add_argument("--losses", metavar="FILE", help="CSV with a header and one column: a loss per data point")
    ac.add_argument("--scale", action="store_true")
    _common(ac)

    st_ = sub.add_parser("structure", help="Sec. 5: the network-structure formulation's treewidth, measured")
    st_.add_argument("--arch", required=True)
    st_.add_argument("--activation", default="relu")
    st_.add_argument("--bits", type=positive_int, default=1)
    st_.add_argument("--samples", type=positive_int, required=True)
    _common(st_)

    pl = sub.add_parser("plot", help="PNG figures: polytope size, loss against epsilon, a 1-D fit")
    psub = pl.add_subparsers(dest="kind", metavar="KIND", parser_class=_Parser)
    psub.required = True
    p1 = psub.add_parser("size", help="size of P against D (linear) and against bits")
    p1.add_argument("--arch", required=True)
    p1.add_argument("--loss", default="quadratic")
    p1.add_argument("--bits", type=positive_int, default=2)
    p2 = psub.add_parser("epsilon", help="train loss of the grid optimum against epsilon, with 2 epsilon")
    p2.add_argument("data")
    p2.add_argument("--arch", required=True)
    p2.add_argument("--loss", default="quadratic")
    p2.add_argument("--activation", default="relu")
    p2.add_argument("--max-bits", type=positive_int, default=3)
    p2.add_argument("--scale", action="store_true")
    p3 = psub.add_parser("fit", help="one-input data and the trained network's function")
    p3.add_argument("model")
    p3.add_argument("data")
    for q in (p1, p2, p3):
        q.add_argument("--out", required=True, metavar="PATH", help="PNG file")
        _common(q)

    ex = sub.add_parser("export", help="export a trained model to ONNX or PyTorch")
    ex.add_argument("model")
    ex.add_argument("--onnx", metavar="PATH")
    ex.add_argument("--torch", metavar="PATH",
                    help="torch.export program, float64 (.pt2; torch.export.load(PATH).module())")
    ex.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                    help="ONNX input and output type (default float32; grid weights are exact in it)")
    _common(ex)

    d = sub.add_parser("demo", help="train on the shipped demo data and print the network")
    d.add_argument("--solver", default="auto", help="auto, highs or structured")
    d.add_argument("--model", metavar="PATH", help="write the trained network (JSON) to PATH")
    _common(d)
    return p


# -- helpers ------------------------------------------------------------------------


def _check_out(*paths):
    for path in paths:
        if path is None:
            continue
        if os.path.isdir(path):
            raise InputError(f"{path}: is a folder; give a file path")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise InputError(f"{path}: folder {folder} does not exist")


def _progress(args):
    return not args.json


def _write_json(path, obj):
    if hasattr(obj, "to_dict"):
        obj = obj.to_dict()
    if isinstance(obj, dict) and _CAUGHT and ("warnings" in obj or any(map(_ours, _CAUGHT[-1]))):
        obj = {**obj, "warnings": [str(w.message) for w in _CAUGHT[-1] if _ours(w)]}
    if path:
        atomic_write_text(path, json.dumps(_jsonable(obj), indent=1, allow_nan=False) + "\n")


def _jsonable(o):
    if isinstance(o, dict):
        return {k: _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, bool):
        return o
    if isinstance(o, (int, np.integer)):
        return json_int(int(o))
    if isinstance(o, (float, np.floating)):
        f = float(o)
        return f if math.isfinite(f) else None
    return o


def _bits_eps(args):
    if args.bits is None and args.epsilon is None:
        args.bits = 2
    return args.bits, args.epsilon


def _fmt(x):
    """An exact count with thousands separators, a power of ten when long (never inf)."""
    return f"{x:,}" if isinstance(x, int) and x < 10**15 else (big(x) if isinstance(x, int) else f"{x:.6g}")


def _print_sizes(r, out):
    print(f"polytope P ({r['form']} form): {r['architecture']}, {r['loss']} loss, D = {r['samples']}", file=out)
    print(f"  grid: {r['bits']} bits ({r['grid_values']} values per number), {r['parameters']} parameters", file=out)
    lpap = r.get("lipschitz_paper")
    lp = f", paper's Cor. 4.2 constant {lpap:.6g}" if lpap and math.isfinite(lpap) else ""
    if r["lipschitz"] is None:
        print("  Lipschitz constant: not known (an activation is not declared a contraction); no epsilon", file=out)
    else:
        print(f"  Lipschitz constant L = {r['lipschitz']:.6g}{lp}; epsilon = 2 gamma L = {r['epsilon']:.6g}", file=out)
    print(f"  variables   {_fmt(r['variables']):>16}   (Thm 3.1(a) bound {_fmt(r['bound_variables'])})", file=out)
    print(f"  constraints {_fmt(r['constraints']):>16}   (Thm 3.1(a) bound {_fmt(r['bound_constraints'])})", file=out)
    print(f"  nonzeros    {_fmt(r['nonzeros']):>16}", file=out)
    print(f"  evaluations of f and l: {_fmt(r['evaluations'])} (one bag, independent of D)", file=out)
    print(f"  memory: table {human_bytes(r['table_bytes'])}, explicit LP about {human_bytes(r['lp_bytes'])}", file=out)


def _print_result(rep, net, out):
    print(f"status: {rep['status']}   solver: {rep['solver']}", file=out)
    if rep.get("solver_note"):
        print(f"  ({rep['solver_note']})", file=out)
    si = rep.get("solver_info") or {}
    if "evaluated_fraction" in si:
        print(f"  branch-and-bound: {si['evaluated']:,} of {si['grid_points']:,} grid points evaluated "
              f"({100 * si['evaluated_fraction']:.3g} %), {si['boxes']:,} boxes bounded", file=out)
    print(f"objective (face LP optimum = mean loss on the rounded data): {rep['objective']:.10g}", file=out)
    print(f"train loss (mean loss on the original data):                {rep['train_loss']:.10g}", file=out)
    if rep["epsilon"] is None:
        print(f"grid: {rep['bits']} bits; no epsilon (an activation is not declared 1-Lipschitz with "
              f"a(0) = 0, which Lemma 3.5's guarantee assumes)", file=out)
    else:
        print(f"grid: {rep['bits']} bits, L = {rep['lipschitz']:.6g}, epsilon = {rep['epsilon']:.6g} "
              f"(the optimum is within 2 epsilon of the best network, Lemma 3.5)", file=out)
    print(f"data: {rep['samples']} samples, {rep['distinct_points']} distinct after rounding; "
          f"{_fmt(rep['grid_points'])} grid points of the parameters searched", file=out)
    c = rep.get("certificate")
    if c:
        verdict = "valid" if c["valid"] else f"INVALID ({c['reason']})"
        print(f"certificate: {verdict} ({c['method']} check: primal residual {c['primal_residual']:.2g}, "
              f"dual violation {c['dual_violation']:.2g}, gap {c['gap']:.2g})", file=out)
    print("network:", file=out)
    print(net.describe(), file=out)
    if rep.get("notes"):
        print(RoundingReport(notes=rep["notes"]).summary(), file=sys.stderr)


# -- commands -------------------------------------------------------------------------


def cmd_size(args):
    bits, eps = _bits_eps(args)
    p = api.polytope(args.arch, args.loss, args.samples, bits, eps, args.form, args.reg,
                     args.lam, args.activation)
    r = api.size_report(p, eps, args.memory)
    _print_sizes(r, sys.stdout)
    _write_json(args.json, r)
    return 0


def cmd_build(args):
    _check_out(args.out, args.json, args.mps)
    bits, eps = _bits_eps(args)
    p = api.polytope(args.arch, args.loss, args.samples, bits, eps, args.form, args.reg,
                     args.lam, args.activation)
    p.check_buildable(args.memory)
    t0 = time.perf_counter()
    p.build(args.memory, progress=_progress(args))
    r = api.describe_polytope(p, eps)
    r["build_seconds"] = time.perf_counter() - t0
    r["out"] = args.out
    lp = p.lp(args.memory) if args.mps else None
    p.save(args.out)
    if lp is not None:
        from .solvers.highs import write_mps

        write_mps(lp, args.mps)
        r["mps"] = args.mps
    _print_sizes(r, sys.stdout)
    print(f"wrote {args.out} ({human_bytes(os.path.getsize(args.out))}) in {r['build_seconds']:.3g} s")
    _write_json(args.json, r)
    return 0


def _save_model(path, network, rep):
    """Write the model unless the independent check rejected it (then say so on stderr)."""
    if not path:
        return
    if rep["status"] == "certificate_failed":
        print(f"lptrain: warning: {path} not written: the certificate check failed", file=sys.stderr)
        rep["model"] = None
        return
    network.save(path)
    rep["model"] = path


def _proof_written(path, rep):
    """Say on stderr when the proof was not written (its replay failed, as for the model)."""
    if path and rep.get("proof") is None:
        print(f"lptrain: warning: {path} not written: the certificate check failed", file=sys.stderr)


def _finish(args, res):
    _save_model(args.model, res.network, res.report)
    rep = res.report.to_dict()
    _print_result(rep, res.network, sys.stdout)
    _write_json(args.json, rep)
    return 0 if rep["status"] == "optimal" else 1


def cmd_solve(args):
    _check_out(args.model, args.json, args.mps)
    solver, options = api.distributed_choice(args.solver, args.scheduler, args.workers)
    p = Polytope.load(args.polytope)
    ds = read_dataset(args.data, p.n, p.m, scale=args.scale, grid=p.grid)
    res = api.solve_face(p, ds, solver, args.memory, not args.no_check, _progress(args),
                         solver_options=options, max_evaluations=args.max_evaluations)
    if args.mps:
        from .solvers.highs import write_mps

        write_mps(res.face.lp(args.memory), args.mps)
        res.report.extra["mps"] = args.mps
    return _finish(args, res)


def cmd_train(args):
    _check_out(args.model, args.json)
    if args.continuous:
        return _train_continuous(args)
    if args.bnn:
        return _train_bnn(args)
    solver, options = api.distributed_choice(args.solver, args.scheduler, args.workers)
    bits, eps = _bits_eps(args)
    arch = api.architecture(args.arch, args.activation)
    grid = api.grid_for(arch, args.loss, bits, eps, args.reg, args.lam)
    ds = read_dataset(args.data, arch.n_inputs, arch.n_outputs, scale=args.scale, grid=grid)
    res = api.train(ds, arch, loss=args.loss, bits=bits, epsilon=eps, activation=args.activation,
                    solver=solver, form=args.form, reg=args.reg, lam=args.lam, memory=args.memory,
                    certify=not args.no_check, progress=_progress(args), solver_options=options,
                    max_evaluations=args.max_evaluations)
    return _finish(args, res)


def _train_bnn(args):
    arch = api.architecture(args.arch, args.activation)
    header, table = read_table(args.data, arch.n_inputs + arch.n_outputs)
    ds = Dataset(table[:, : arch.n_inputs], table[:, arch.n_inputs:],
                 header or default_header(table.shape[1], arch.n_inputs))
    res = api.train_bnn(ds, arch, loss=args.loss, form=args.form, solver=args.solver,
                        memory=args.memory, certify=not args.no_check, bits=args.bits,
                        epsilon=args.epsilon, reg=args.reg, scale=args.scale)
    rep, cert, sz = res.report, res.certificate, res.report.polytope
    print(f"binarized network (App. C), exact: mean wrong output bits {rep.objective:.6g} on {rep.samples} samples")
    print(f"polytope: {sz['variables']:,} variables ({sz['evaluations']:,} evaluations); "
          f"Thm C.1's stated size 2^p |V(G)| D = {sz['thm_c1_size']:,} (p = {sz['fan_in']})")
    if cert is not None:
        print(f"certificate: {'valid' if cert.valid else 'INVALID (' + cert.reason + ')'} ({cert.method} check)")
    print("network:")
    print(res.network.describe())
    _save_model(args.model, res.network, rep)
    _write_json(args.json, rep.to_dict())
    return 0 if rep.status == "optimal" else 1


def _print_continuous(rep, out):
    c = rep.get("certificate")
    cert = "not checked" if not c else ("valid" if c["valid"] else f"INVALID ({c['reason']})")
    print(f"status: {rep['status']}   method: {rep['method']}   box: [-{rep['box']:g}, {rep['box']:g}]", file=out)
    print(f"objective (risk of the network returned, original data): {rep['objective']:.10g}", file=out)
    lb_label = ("certified lower bound over the box:      " if c and c["valid"] else
                "lower bound claimed (NOT certified):     ")
    print(f"{lb_label}                 {rep['lower_bound']:.10g}", file=out)
    print(f"gap: {rep['objective'] - rep['lower_bound']:.3g}   nodes: {rep['nodes']:,}   "
          f"solve {rep['solve_seconds']:.3g} s, check {rep['check_seconds'] or 0:.3g} s", file=out)
    print(f"certificate: {cert}" + (f" ({c['method']})" if c else ""), file=out)


def _train_continuous(args):
    if args.bnn or args.bits is not None or args.epsilon is not None:
        raise InputError("train --continuous uses no grid: --bits, --epsilon and --bnn do not apply")
    if args.form != "compact" or args.solver != "auto":
        raise InputError("train --continuous: --form and --solver do not apply")
    _check_out(args.proof)
    arch = api.architecture(args.arch, args.activation)
    ds = read_dataset(args.data, arch.n_inputs, arch.n_outputs, scale=args.scale)
    res = api.train_continuous(ds, arch, loss=args.loss, activation=args.activation, reg=args.reg,
                               lam=args.lam, box=args.box, gap=args.gap, abs_gap=args.abs_gap,
                               time_limit=args.time_limit, proof=args.proof, method=args.method,
                               certify=not args.no_check, progress=_progress(args),
                               workers=args.workers, scheduler=args.scheduler)
    rep = res.report
    _save_model(args.model, res.network, rep)
    _proof_written(args.proof, rep)
    _print_continuous(rep, sys.stdout)
    print("network:")
    print(res.network.describe())
    _write_json(args.json, rep)
    return 0 if rep["status"] == "optimal" else 1


def cmd_gap(args):
    _check_out(args.json, args.proof, args.model_out)
    from .continuous.importers import import_network

    imp = import_network(args.model)
    n, m = imp.arch.n_inputs, imp.arch.n_outputs
    _, table = read_table(args.data, n + m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", api.BoxWarning)
        r = api.gap(_as_network(imp), table[:, :n], table[:, n:], loss=args.loss, box=args.box,
                    reg=args.reg, lam=args.lam, gap=args.gap, abs_gap=args.abs_gap,
                    time_limit=args.time_limit, proof=args.proof, method=args.method,
                    progress=_progress(args), workers=args.workers, scheduler=args.scheduler)
    rep = r.report
    for w in rep.get("warnings", []):
        print(f"lptrain: warning: {w}", file=sys.stderr)
    print(f"network {args.model}: {rep['architecture']}, {rep['loss']} loss, {rep['samples']} points")
    print(f"loss of the network:                    {r.loss:.10g}")
    certified = r.certificate is not None and r.certificate.valid
    print(f"{'certified' if certified else 'NOT certified'} lower bound (best in the box): {r.lower_bound:.10g}")
    print(f"gap = loss - lower bound:                {r.gap:.6g}"
          + (f" ({100 * r.gap / r.loss:.3g} % of its loss)" if r.loss > 0 else ""))
    _print_continuous(rep, sys.stdout)
    _save_model(args.model_out, r.best, rep)
    _proof_written(args.proof, rep)
    _write_json(args.json, rep)
    c = rep.get("certificate")
    return 0 if (c is None or c["valid"]) else 1


def cmd_check_proof(args):
    _check_out(args.json)
    from .continuous import load_proof

    _, problem = load_proof(args.proof)
    arch = api.architecture(api.Architecture.from_dict(problem.get("architecture")))
    ds = read_dataset(args.data, arch.n_inputs, arch.n_outputs, scale=args.scale)
    rep = api.check_proof(args.proof, ds)
    print(f"proof {args.proof}: {rep['architecture']}, {rep['loss']} loss, {rep['samples']} points, "
          f"box [-{rep['box']:g}, {rep['box']:g}]")
    print(f"claimed interval: [{rep['lower_bound']:.10g}, {rep['objective']:.10g}] (gap {rep['gap']:.3g}, "
          f"status {rep['status']})")
    tol = (f"gap {rep['requested_gap']:g}, abs-gap {rep['requested_abs_gap']:g}"
           if rep["derived_status"] is not None else "no valid tolerances stored")
    print(f"re-derived status: {rep['derived_status'] or 'unknown'} ({tol})")
    print(f"replay: {'valid' if rep['valid'] else 'INVALID (' + rep['reason'] + ')'} "
          f"({rep['method']}, {rep['check_seconds']:.3g} s)")
    _write_json(args.json, rep)
    return 0 if rep["valid"] else 1


def _as_network(imp):
    return Network(imp.arch, imp.params, imp.scaling, info={"loss": imp.loss} if imp.loss else {})


def cmd_predict(args):
    _check_out(args.out, args.json)
    net = Network.load(args.model)
    n, m = net.n_inputs, net.n_outputs
    header, table = read_table(args.data, accept={n, n + m})
    pred = net.predict(table[:, :n])
    names = [f"o{j + 1}" for j in range(m)]
    lines = [",".join((header or default_header(n, n))[:n] + names)]
    for xr, zr in zip(table[:, :n], pred):
        lines.append(",".join(repr(float(v)) for v in list(xr) + list(zr)))
    text = "\n".join(lines) + "\n"
    if args.out:
        atomic_write_text(args.out, text)
        print(f"wrote {len(pred)} predictions to {args.out}")
    else:
        sys.stdout.write(text)
    _write_json(args.json, {"predictions": pred.tolist(), "inputs": table[:, :n].tolist()})
    return 0


def cmd_demo(args):
    _check_out(args.json)
    path = api.demo_data_path()
    ds = read_dataset(path, 1, 1)
    print(f"lptrain demo: 1-2-1 ReLU network, quadratic loss, 3 bits, on the shipped data "
          f"({ds.samples} points of y = 0.5 relu(-x) + 0.25 relu(x) - 0.5 + noise, {path})")
    res = api.train(ds, "1-2-1", loss="quadratic", bits=3, solver=args.solver, memory=args.memory,
                    progress=_progress(args))
    p = res.report["polytope"]
    print(f"polytope for D = {p['samples']}: {p['variables']:,} variables, {p['constraints']:,} "
          f"constraints (Thm 3.1(a) bounds {p['bound_variables']:,} / {p['bound_constraints']:,}); "
          f"{p['evaluations']:,} evaluations of f and l, independent of D\n")
    code = _finish(args, res)
    _demo_continuous(args, ds, res)
    return code


DEMO_TIME = 3.0


def _demo_continuous(args, ds, grid_res):
    """The continuous optimum beside the grid one: the paper's epsilon against the measured gap."""
    c = api.train_continuous(ds, "1-2-1", loss="quadratic", time_limit=DEMO_TIME,
                             incumbent=np.clip(grid_res.network.params, -1, 1))
    rep = c.report
    grid_loss = grid_res.report["train_loss"]
    print("\ncontinuous optimum over all parameters in [-1, 1] (lptrain train --continuous):")
    print(f"  grid optimum (3 bits), loss on the original data: {grid_loss:.6g}")
    print(f"  best continuous network found:                    {rep['objective']:.6g}")
    label = "certified lower bound over the box:" if rep["status"] != "certificate_failed" else \
        "lower bound (NOT certified):       "
    print(f"  {label}               {rep['lower_bound']:.6g} "
          f"({rep['status']}, {rep['method']}, {rep['nodes']:,} nodes, {rep['solve_seconds']:.2g} s)")
    if rep["status"] == "certificate_failed":
        print("  the certificate check failed: no proven distance to the best network")
    else:
        print(f"  the grid network is at most {grid_loss - rep['lower_bound']:.3g} above the best network "
              f"there is (the paper's a-priori guarantee: 2 epsilon = {2 * grid_res.report['epsilon']:.3g})")
    grid_res.report.extra["continuous"] = rep.to_dict()
    _write_json(args.json, grid_res.report.to_dict())


def cmd_arch(args):
    from . import architectures

    _check_out(args.out, args.json)
    if args.shape == "conv1d":
        arch = architectures.conv1d(args.inputs, args.kernel, args.channels, args.stride,
                                    args.outputs, args.activation)
    else:
        arch = architectures.resnet(api.parse_widths(args.widths), args.activation)
    d = arch.dag_dict()
    atomic_write_text(args.out, json.dumps(d, indent=1) + "\n")
    info = {"out": args.out, "kind": arch.kind, "inputs": arch.n_inputs, "outputs": arch.n_outputs,
            "nodes": len(arch.nodes), "edges": arch.n_edges, "parameters": arch.n_params,
            "max_in_degree": arch.max_in_degree, "depth": arch.depth}
    print(f"wrote {args.out}: {arch.kind}, {info['nodes']} nodes, {info['edges']} edges, "
          f"{info['parameters']} distinct parameters, max in-degree {info['max_in_degree']}")
    _write_json(args.json, info)
    return 0


def cmd_table1(args):
    from .table1 import table1

    arch = api.architecture(args.arch, args.activation)
    r = table1(arch, args.epsilon, args.samples)
    print(f"Table 1 for {r['architecture']} ({r['kind']}): n={r['n']} m={r['m']} N={r['N']} "
          f"(edges {r['edges']}) k={r['k']} w={r['w']} Delta={r['Delta']}, eps={r['epsilon']:g}, D={r['samples']}")
    print(f"{'type':<7} {'loss':<25} {'size (paper, Table 1)':<44} value, O(.)=1")
    for row in r["rows"]:
        print(f"{row['type']:<7} {row['loss']:<25} {row['formula']:<44} {sci_log10(row['log10_value'])}")
    print(f"\nexact sizes for this architecture (base raised to n+m+N = {r['exponent']}):")
    print(f"{'loss':<14} {'Table 1 value':>14} {'paper L':>10} {'4D(2L/eps)^e':>14} {'lptrain L':>10} "
          f"{'bits':>4} {'Thm 3.1(a)':>12} {'variables':>12}")
    for e in r["sizes"]:
        print(f"{e['loss']:<14} {sci_log10(e['log10_table1_value']):>14} {e['paper_lipschitz']:>10.4g} "
              f"{sci_log10(e['log10_paper_bound']):>14} {e['lipschitz']:>10.4g} {e['bits']:>4} "
              f"{sci(e['bound_variables']):>12} {sci(e['variables']):>12}")
    _write_json(args.json, r)
    return 0


def cmd_sample_size(args):
    from .table1 import sample_size

    arch = api.architecture(args.arch, args.activation)
    r = sample_size(arch, args.loss, args.epsilon, args.alpha, args.sigma2, args.reg, args.lam)
    print(f"samples D = ceil(4 sigma^2 / eps^2 * (N ln(2L/eps) + ln(1/alpha))) = {_fmt(r['samples'])}")
    print(f"  sigma^2 = {r['sigma2']:.6g} ({r['sigma2_source']}), N = {r['N']}, L = {r['lipschitz']:.6g}, "
          f"eps = {r['epsilon']:g}, alpha = {r['alpha']:g}")
    note = "" if r["bits_supported"] else f"; lptrain builds grids of at most {MAX_BITS} bits"
    print(f"  LP for that D (Cor. 6.3): {_fmt(r['variables'])} variables, {_fmt(r['constraints'])} constraints, "
          f"{_fmt(r['evaluations'])} evaluations ({r['bits']} bits{note})")
    print(f"  {r['guarantee']}")
    _write_json(args.json, r)
    return 0


def cmd_achievable(args):
    from . import achievability
    from .face import Face

    _check_out(args.json)
    p = Polytope.load(args.polytope)
    ds = read_dataset(args.data, p.n, p.m, scale=args.scale, grid=p.grid)
    face = Face(p, ds.x, ds.y)
    if args.losses is not None:
        _, t = read_table(args.losses, 1)
        r = achievability.losses(face, t[:, 0], args.memory)
        what = f"the loss vector of {args.losses}"
    else:
        r = achievability.average(face, args.average, args.memory)
        what = f"a mean loss <= {args.average:g}"
    print(f"{what}: {'ACHIEVABLE' if r.achievable else 'NOT achievable'} on this sample "
          f"(certificate checked: {r.checked}, by {r.check_method})")
    if r.witness and "params" in r.witness:
        print(f"  witness network: params {r.witness['params']}, mean loss {r.witness['mean_loss']:.6g}")
    elif r.witness:
        print(f"  witness: a mixture of {len(r.witness['networks'])} grid network(s)")
    else:
        print(f"  certificate: weights w >= 0 with min_a sum_d w_d l_d(a) - sum_d w_d t_d = "
              f"{r.certificate['margin']:.6g} > 0")
    _write_json(args.json, r.to_dict())
    return 0 if r.checked else 1


def cmd_structure(args):
    from .structure import measure

    arch = api.architecture(args.arch, args.activation)
    r = measure(arch, args.bits, args.samples)
    print(f"Sec. 5 formulation of {r['architecture']}, {r['bits']} bit(s), D = {r['samples']}: "
          f"intersection graph {r['graph_vertices']} vertices, {r['graph_edges']} edges")
    print(f"  measured width {r['measured_width']} (heuristics {r['heuristic_widths']}; "
          f"decompositions valid: {r['decomposition_valid']})")
    print(f"  proven lower bound {r['lower_bound']} (K_(BN,D) minor: {r['minor_lower_bound']})")
    print(f"  paper's claimed width B (tw(Gamma_phi) + |V(G)| + n + m) = {r['claimed_width']} "
          f"(tw(Gamma_phi) = {r['tw_phi']}): {r['claim']}")
    pc = "valid" if r["paper_construction_valid"] else f"INVALID: {r['paper_construction_violation']}"
    print(f"  paper's copy-the-decomposition construction: {pc}")
    _write_json(args.json, r)
    return 0


def cmd_plot(args):
    from . import plots

    _check_out(args.out, args.json)
    if args.kind == "size":
        r = plots.size_plot(args.arch, args.loss, args.bits, args.out)
    elif args.kind == "epsilon":
        arch = api.architecture(args.arch)
        ds = read_dataset(args.data, arch.n_inputs, arch.n_outputs, scale=args.scale,
                          grid=Grid(args.max_bits))
        r = plots.epsilon_plot(ds, arch, args.loss, args.out, tuple(range(1, args.max_bits + 1)))
    else:
        net = Network.load(args.model)
        _, table = read_table(args.data, accept={net.n_inputs + net.n_outputs})
        r = plots.fit_plot(net, table[:, : net.n_inputs], table[:, net.n_inputs:], args.out)
    print(f"wrote {args.out}")
    _write_json(args.json, r)
    return 0


def cmd_export(args):
    from . import export

    if not args.onnx and not args.torch:
        raise InputError("export: give --onnx PATH and/or --torch PATH")
    _check_out(args.onnx, args.torch, args.json)
    net = Network.load(args.model)
    if args.torch:
        export.torch_module()  # refuse before the ONNX file is written
    out = {}
    if args.onnx:
        export.to_onnx(net, args.onnx, args.dtype)
        out["onnx"] = args.onnx
    if args.torch:
        export.save_torch(net, args.torch)
        out["torch"] = args.torch
    print("wrote " + ", ".join(out.values()) + (f" (ONNX in {args.dtype})" if args.onnx else ""))
    if args.onnx:
        out["onnx_dtype"] = args.dtype
    _write_json(args.json, out)
    return 0


COMMANDS = {"build": cmd_build, "solve": cmd_solve, "train": cmd_train, "size": cmd_size,
            "predict": cmd_predict, "demo": cmd_demo, "arch": cmd_arch, "table1": cmd_table1,
            "sample-size": cmd_sample_size, "achievable": cmd_achievable, "structure": cmd_structure,
            "plot": cmd_plot, "export": cmd_export, "gap": cmd_gap,
            "check-proof": cmd_check_proof}


def cli_reference() -> str:
    """The CLI reference (docs/cli.md), generated from the parser itself."""
    p = build_parser()
    out = ["# Command-line reference", "",
           "Generated from the parser (`lptrain.cli.cli_reference`); a test keeps it current.", ""]

    def walk(parser, title):
        out.extend([f"## {title}", "", "```", parser.format_help().rstrip().replace("\t", " "), "```", ""])
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sp in action.choices.items():
                    walk(sp, f"{title} {name}")

    cols = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        walk(p, "lptrain")
    finally:
        if cols is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = cols
    return "\n".join(out)


# Library messages name Python parameters (memory=, solver='structured', scale=True); the
# command line shows its flags instead.
_FLAG = re.compile(r"\b(memory|solver|scale|bits|epsilon|reg|lam|loss|scheduler|workers|max_evaluations)="
                   r"(?:'([^']*)'|([^\s,;)']*))")


def flagged(message: str) -> str:
    """``message`` with Python parameters replaced by the CLI's flags (``memory=`` -> ``--memory``)."""

    def flag(m):
        value = m.group(2) if m.group(2) is not None else m.group(3)
        name = m.group(1).replace("_", "-")
        return f"--{name}" if value in ("", "True") else f"--{name} {value}"

    return _FLAG.sub(flag, message)


_CAUGHT: list = []  # the warnings recorded by the running main(), for _write_json


def main(argv=None) -> int:
    others = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RoundingWarning)
            _CAUGHT.append(caught)
            try:
                return _main(argv)
            finally:
                _show_warnings()
                others = list(caught)
                _CAUGHT.pop()
    finally:  # other libraries' warnings, shown as Python would have shown them
        for w in others:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)


def _ours(w) -> bool:
    return issubclass(w.category, RoundingWarning)


def _show_warnings():
    """Print lptrain's warnings recorded so far, one line each, and forget them."""
    caught = _CAUGHT[-1]
    for w in caught:
        if _ours(w):
            print(f"lptrain: warning: {flagged(str(w.message))}", file=sys.stderr)
    caught[:] = [w for w in caught if not _ours(w)]


def _main(argv) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except LPTrainError as e:
        _show_warnings()
        print(f"lptrain: error: {flagged(str(e))}", file=sys.stderr)
        return e.exit_code
    except MemoryError:
        print("lptrain: error: out of memory; lower --memory, the bits or the sample size", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("lptrain: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # pragma: no cover - a bug: still one line, traceback on request
        if os.environ.get("LPTRAIN_DEBUG"):
            raise
        print(f"lptrain: internal error ({type(e).__name__}: {e}); set LPTRAIN_DEBUG=1 for a traceback",
              file=sys.stderr)
        return 70


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
