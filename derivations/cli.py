"""The command ``soft-targets`` (also ``python -m derivations``): every claim's verdict, and the notebooks run again.

    soft-targets [verify] [--chapter N] [--json] [--claim ID] [--jobs N]    the verdicts (the default command)
    soft-targets run [--set NAME=VALUE ...] [--chapters 1,2,3] [...]        the notebooks executed (derivations.runner)

``verify`` exits 0 when every claim's evidence supports its verdict, 1 otherwise; ``run`` exits 0 when every notebook
ran. The mutation audit (every wrong variant of each claim's formulas, and which ones its check misses) is no part of
the package: ``make mutants`` (``python -m audit.mutation``) runs it from a clone. This module, above the engine and
the chapters, is where the commands meet.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys

#: What the engine and the chapters import beyond the library's NumPy, as module -> distribution: the
#: ``companion`` extra of the package (tests/test_packaging.py checks it against pyproject.toml and the imports).
COMPANION = {"sympy": "sympy", "mpmath": "mpmath", "matplotlib": "matplotlib", "threadpoolctl": "threadpoolctl",
             "pylatexenc": "pylatexenc"}
#: What ``run`` imports beyond the companion (the ``run`` extra), and the kernel it starts.
RUN = {"nbformat": "nbformat", "nbclient": "nbclient", "jupyter_client": "jupyter-client",
       "jupyter_core": "jupyter-core", "traitlets": "traitlets", "ipykernel": "ipykernel"}
INSTALL = ("pip install 'soft-targets-companion[companion]'  (from a clone: pip install '.[companion]', "
           "or `make`, which installs the pinned uv.lock)")


def missing(packages: dict) -> list[str]:
    """The distributions of ``packages`` whose module cannot be found (none is imported to find out)."""
    return [dist for module, dist in packages.items() if importlib.util.find_spec(module) is None]


#: The commands, each with its one line for ``--help``.
COMMANDS = {
    "verify": "re-run the symbolic and numeric checks of every claim and print each computed verdict (the default)",
    "run": "execute the chapters' notebooks, at their defaults or with your values (make run calls it)",
}

VERIFY = ("Re-run the symbolic (SymPy) and numeric (NumPy, mpmath) checks of every claim of "
          "'Soft Targets v/s Label Flipping' and print each claim's computed verdict: holds, "
          "holds under an assumption, or erratum; a statistical claim whose evidence neither confirms "
          "nor refutes it at its stated false-alarm probability is undecided (never an erratum)."
          "\n\nColumns of the table: claim id; place in the note "
          "(chapter, displayed equation 'eqN' or added result '+N'); computed verdict; what the symbolic "
          "checks established; 'max num. err', the largest numeric discrepancy any of the claim's findings "
          "measured, each in its own unit (a relative error for an agreement with the library, an absolute "
          "one for a gradient against finite differences, and for an inequality its excess over the bound "
          "as a fraction of the rounding slack, where at most 1 passes: so the column compares claims only "
          "roughly; --json gives each finding's error with its statement); status.\n\n"
          "Exits 1 if any claim's evidence fails to support its verdict, or the computed verdict differs "
          "from the referee's stated one (the status names the claim and why).")


def parser(prog: str) -> argparse.ArgumentParser:
    """The command's parser: ``verify``'s options in full; ``run`` is listed here and parsed by the runner."""
    from derivations.chapters import CHAPTERS
    from derivations.engine.report import describe_schema

    top = argparse.ArgumentParser(
        prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The executable companion to the note 'Soft Targets v/s Label Flipping' (2019): each claim "
                    "re-derived and given a verdict, and the chapters' notebooks.",
        epilog=f"With no command, or with verify's options alone, {prog} runs verify ({prog} --chapter 1 is "
               f"{prog} verify --chapter 1). '{prog} COMMAND --help' tells more.\n\nThe mutation audit, every wrong "
               "variant of each claim's formulas and which ones its check misses, is no part of the package: "
               "`make mutants` (python -m audit.mutation) runs it from a clone.")
    commands = top.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    verify = commands.add_parser(
        "verify", help=COMMANDS["verify"], description=VERIFY, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="--json prints {\"ok\": bool, \"claims\": [...]}, one object per claim with these fields "
               "(JSON Schema in derivations.engine.report.SCHEMA):\n" + describe_schema())
    verify.add_argument("--json", action="store_true", help="print JSON instead of a table")
    verify.add_argument("--chapter", type=int, choices=sorted(CHAPTERS), metavar="N",
                        help=f"only this chapter's claims (one of {', '.join(map(str, CHAPTERS))})")
    verify.add_argument("--claim", action="append", default=[], metavar="ID",
                        help="print this claim in full instead (quotation, verdict, explanation, correction, "
                             "checks), as plain text; may be repeated")
    verify.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="processes that compute the claims (default: one per core)")
    commands.add_parser("run", help=COMMANDS["run"], add_help=False)
    return top


def verify(args, parser: argparse.ArgumentParser) -> int:
    from derivations.engine.report import as_json, as_rows, collect

    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1; got {args.jobs}")
    if args.claim:
        from derivations.engine.display import ClaimView
        from derivations.engine.registry import get, run_all

        try:
            wanted = [get(i) for i in args.claim]
        except KeyError as err:
            parser.error(err.args[0])
        outcomes = run_all(wanted, args.jobs)
        print("\n\n".join(repr(ClaimView(o, full=True)) for o in outcomes))
        return 0 if all(o.ok for o in outcomes) else 1
    from derivations.engine.report import format_table

    rows = as_rows(collect(args.chapter, args.jobs))
    if not rows:
        print(f"no claims for chapter {args.chapter}", file=sys.stderr)
        return 2
    print(as_json(rows) if args.json else format_table(rows))
    return 0 if all(r["ok"] for r in rows) else 1


def main(argv: list[str] | None = None, prog: str = "soft-targets") -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if missing(COMPANION):                  # the library alone was installed: say what the commands need
        sys.exit(f"{prog} needs the companion packages; missing: {', '.join(missing(COMPANION))}. "
                 f"Install them with: {INSTALL}")
    try:
        import derivations.chapters  # noqa: F401  (the chapters' claims, named to the registry)
    except ModuleNotFoundError as err:      # a companion package present but broken (its own import)
        if err.name.split(".")[0] not in COMPANION:
            raise
        sys.exit(f"{prog} needs the companion packages ({err.name} failed to import): {INSTALL}")
    if argv[:1] == ["mutants"]:             # where it was once: say where it is
        sys.exit("the mutation test is an audit of the checks and lives outside the package, in audit/ of a clone: "
                 "run `make mutants` or `python -m audit.mutation` from the clone's root")
    if argv[:1] == ["run"]:
        if missing(RUN):
            sys.exit(f"{prog} run needs Jupyter's packages to execute notebooks; missing: {', '.join(missing(RUN))}. "
                     "Install them with: pip install 'soft-targets-companion[companion,run]'")
        from derivations import runner

        return runner.main(argv[1:], prog=f"{prog} run")
    top = parser(prog)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["verify", *argv]            # no command: the verdicts, as `python -m derivations` always printed
    args = top.parse_args(argv)
    return verify(args, top)


def console(prog: str = "soft-targets") -> None:
    """The command's entry point (``[project.scripts]``): :func:`main`, tuned for a process that ends with it."""
    import gc

    if sys.argv[1:2] not in (["run"], ["mutants"]) and not missing(COMPANION):
        # SymPy allocates millions of short-lived objects: leave the imported ones out of the collector's passes
        # (freeze) and collect the young generation less often; then skip the interpreter's teardown of that heap
        # (0.2 s) once the output is flushed. Together about 10 % of the run (benchmarks/bench_suite.py).
        import derivations.chapters  # noqa: F401  (the chapters' claims, named to the registry)
        from derivations.engine.registry import claims

        claims()                           # the catalogue imported (registry.add_catalogue) before the freeze
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
    code = main(prog=prog)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
