"""The weight of the house (issue 35, item 2): lines of Python that git tracks, by folder, and what they are.

    .venv/bin/python benchmarks/bench_weight.py [--aim 18000]

Every line of every tracked ``*.py`` file counts (what ``wc -l`` counts, the issue's measure), split into code,
docstrings (a module's, class's or function's first statement when it is a string), comments and blank lines. The
notebooks are not Python files and do not count. Prints a Markdown table; exits 1 when the total is above ``--aim``.
"""
from __future__ import annotations

import argparse
import ast
import collections
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("code", "docstring", "comment", "blank")


def folder(path: str) -> str:
    """The row a file counts in: its top folder, or the package's second level (``derivations/engine``)."""
    parts = path.split("/")
    if len(parts) == 1:
        return "(root)"
    return "/".join(parts[:2]) if parts[0] == "derivations" and len(parts) > 2 else parts[0]


def kinds(source: str) -> collections.Counter:
    """Each line of ``source`` by kind.

    >>> sorted(kinds("'A module.'\\n\\n# a note\\nx = 1\\n").items())
    [('blank', 1), ('code', 1), ('comment', 1), ('docstring', 1)]
    """
    docs = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                docs.update(range(first.lineno, first.end_lineno + 1))
    out = collections.Counter()
    for i, line in enumerate(source.splitlines(), 1):
        s = line.strip()
        out["blank" if not s else "docstring" if i in docs else "comment" if s.startswith("#") else "code"] += 1
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--aim", type=int, default=18_000, help="issue 35's aim for the total (default 18,000)")
    args = parser.parse_args()
    files = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    rows: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for path in files.split():
        counted = kinds((ROOT / path).read_text(encoding="utf-8"))
        rows[folder(path)] += counted
        rows["all"] += counted
    print("| folder | lines | " + " | ".join(KINDS) + " |\n|---|---|" + "---|" * len(KINDS))
    for name in sorted(rows, key=lambda n: (n == "all", n)):
        c = rows[name]
        print(f"| {name} | {sum(c.values()):,} | " + " | ".join(f"{c[k]:,}" for k in KINDS) + " |")
    total = sum(rows["all"].values())
    print(f"\n{total:,} lines against an aim of {args.aim:,}: {'met' if total <= args.aim else 'not met'}")
    return 0 if total <= args.aim else 1


if __name__ == "__main__":
    sys.exit(main())
