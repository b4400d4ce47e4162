"""``python -m derivations``: run every claim's checks and print the verdicts.

Exit status 0 when every claim's evidence supports its verdict, 1 otherwise.
The mutation test is an audit of the checks, outside the package: ``make mutants`` or, from a clone,
``python -m audit.mutation`` (:func:`audit.mutation.main`).
"""
from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import sys

#: What the engine and the chapters import beyond the library's NumPy, as module -> distribution: the
#: ``companion`` extra of the package (tests/test_packaging.py checks it against pyproject.toml and the imports).
COMPANION = {"sympy": "sympy", "mpmath": "mpmath", "matplotlib": "matplotlib", "threadpoolctl": "threadpoolctl",
             "pylatexenc": "pylatexenc"}
INSTALL = ("pip install 'soft-targets-companion[companion]'  (from a clone: pip install '.[companion]', "
           "or `make`, which installs the pinned uv.lock)")


def missing_companion() -> list[str]:
    """The companion's distributions whose module cannot be found (none is imported to find out)."""
    return [dist for module, dist in COMPANION.items() if importlib.util.find_spec(module) is None]


if missing_companion():                               # the library alone was installed: say what the report needs
    sys.exit(f"python -m derivations needs the companion packages; missing: {', '.join(missing_companion())}. "
             f"Install them with: {INSTALL}")
try:
    import derivations.chapters  # noqa: F401  (the chapters' claims, named to the registry)
    from derivations.engine.registry import claims
    from derivations.engine.report import as_json, as_rows, collect, describe_schema, format_table
except ModuleNotFoundError as err:                    # a companion package present but broken (its own import)
    if err.name.split(".")[0] not in COMPANION:
        raise
    sys.exit(f"python -m derivations needs the companion packages ({err.name} failed to import): {INSTALL}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["mutants"]:
        sys.exit("the mutation test is an audit of the checks and lives outside the package, in audit/ of a clone: "
                 "run `make mutants` or `python -m audit.mutation` from the clone's root")
    parser = argparse.ArgumentParser(
        prog="python -m derivations",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Re-run the symbolic (SymPy) and numeric (NumPy, mpmath) checks of every claim of "
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
                    "from the referee's stated one (the status names the claim and why).",
        epilog="--json prints {\"ok\": bool, \"claims\": [...]}, one object per claim with these fields "
               "(JSON Schema in derivations.engine.report.SCHEMA):\n" + describe_schema(),
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--chapter", type=int, default=None, help="only this chapter's claims")
    parser.add_argument("--claim", action="append", default=[], metavar="ID",
                        help="print this claim in full instead (quotation, verdict, explanation, correction, checks), "
                             "as plain text; may be repeated")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="processes that compute the claims (default: one per core)")
    args = parser.parse_args(argv)
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
    rows = as_rows(collect(args.chapter, args.jobs))
    if not rows:
        print(f"no claims for chapter {args.chapter}", file=sys.stderr)
        return 2
    print(as_json(rows) if args.json else format_table(rows))
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    # SymPy allocates millions of short-lived objects: leave the imported ones out of the collector's passes
    # (freeze) and collect the young generation less often; then skip the interpreter's teardown of that heap
    # (0.2 s) once the output is flushed. Together about 10 % of the run (benchmarks/bench_suite.py).
    claims()                                   # the catalogue imported (registry.add_catalogue) before the freeze
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
