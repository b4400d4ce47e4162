"""Execute notebooks in place, deterministically and atomically.

    python tools/run_notebooks.py [NOTEBOOK ...]     (default: notebooks/*.ipynb)
    python tools/run_notebooks.py --set K=1000 --set EPS=0.05 --out build/runs/K=1000_EPS=0.05

With ``--set NAME=VALUE`` the values override the notebook's parameters cell
(the code cell tagged ``parameters``): a cell tagged ``injected-parameters`` is
inserted after it, for the names that chapter defines. The executed copies go
to ``--out`` (with their figures in ``--out/figures``); the committed notebooks
and figures are not touched. Values are validated before anything runs.

For each notebook: execute it top to bottom in a fresh kernel (nbclient, no
per-cell timing), normalise the metadata that would differ between machines
or runs, and only on success replace the file (temporary file in the same
folder + ``os.replace``). A failing notebook is left byte-for-byte untouched.
Prints one line per notebook (name, seconds, ok or the failing cell) and
exits 1 if any notebook failed.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parents[1]
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def normalise(nb: nbformat.NotebookNode) -> None:
    """Drop what varies between runs or machines: timing, versions, ids of outputs."""
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            for out in cell.get("outputs", []):
                out.get("metadata", {}).pop("execution", None)


def failing_cell(nb: nbformat.NotebookNode) -> str:
    """Describe the first code cell with an error output: its index and first line."""
    code_index = 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        code_index += 1
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
                return f"cell {i} (code cell {code_index}: {first[:60]!r}): {out.get('ename')}: {out.get('evalue', '')[:200]}"
    return "unknown cell"


def write_atomically(nb: nbformat.NotebookNode, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            nbformat.write(nb, f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


#: Validators for the parameters a reader may set: name -> (parse, description of the valid range).
PARAMETERS = {
    "K": (lambda v: _int_at_least(v, 2), "an integer >= 2"),
    "EPS": (lambda v: _float_in(v, 0.0, 1.0), "a number in [0, 1]"),
    "SEED": (lambda v: _int_at_least(v, 0), "an integer >= 0"),
    "N_SAMPLES": (lambda v: _int_at_least(v, 1), "an integer >= 1"),
}


def _int_at_least(text: str, lo: int) -> int:
    v = int(text)
    if v < lo:
        raise ValueError
    return v


def _float_in(text: str, lo: float, hi: float) -> float:
    v = float(text)
    if not lo <= v <= hi:
        raise ValueError
    return v


def parse_settings(items: list[str]) -> dict[str, int | float]:
    """``["K=1000", "EPS=0.05"]`` -> ``{"K": 1000, "EPS": 0.05}``; ``ValueError`` naming a bad value."""
    out: dict[str, int | float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep:
            raise ValueError(f"--set takes NAME=VALUE; got {item!r}")
        if name not in PARAMETERS:
            raise ValueError(f"unknown parameter {name!r}; known: {', '.join(PARAMETERS)}")
        parse, valid = PARAMETERS[name]
        try:
            out[name] = parse(text.strip())
        except ValueError:
            raise ValueError(f"{name} must be {valid}; got {text.strip()!r}") from None
    return out


def inject(nb: nbformat.NotebookNode, settings: dict) -> list[str]:
    """Insert the overrides after the ``parameters`` cell; return the names this notebook uses."""
    if not settings:
        return []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            defined = {ln.split("=")[0].strip() for ln in cell.source.splitlines() if "=" in ln.split("#")[0]}
            used = [k for k in settings if k in defined]
            src = "# Parameters injected by tools/run_notebooks.py\n" + "".join(f"{k} = {settings[k]!r}\n" for k in used)
            nb.cells.insert(i + 1, nbformat.v4.new_code_cell(src, metadata={"tags": ["injected-parameters"]}))
            return used
    return []


def run_one(path: Path, timeout: int, out_path: Path | None = None, settings: dict | None = None) -> tuple[bool, str]:
    nb = nbformat.read(path, as_version=4)
    inject(nb, settings or {})
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", record_timing=False,
        # the kernel's own start-up warnings (e.g. about TCP transport) are noise here; errors still show
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except CellExecutionError:
        return False, failing_cell(nb)
    except (CellTimeoutError, DeadKernelError) as e:
        return False, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    normalise(nb)
    write_atomically(nb, out_path or path)
    return True, "ok"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--timeout", type=int, default=300, help="seconds per cell (default 300)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help=f"override a parameter ({', '.join(PARAMETERS)}); needs --out")
    ap.add_argument("--out", type=Path, help="write executed notebooks (and figures/) here instead of in place")
    args = ap.parse_args(argv)
    try:
        settings = parse_settings(args.set)
    except ValueError as e:
        print(f"error: {e}; no notebook was run", file=sys.stderr)
        return 2
    if settings and args.out is None:
        print("error: --set needs --out (the committed notebooks are never run with other values)", file=sys.stderr)
        return 2
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not paths:
        print("no notebooks found", file=sys.stderr)
        return 1
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        os.environ["DERIVATIONS_FIGURES"] = str((args.out / "figures").resolve())
    failed = 0
    for p in paths:
        t = time.perf_counter()
        ok, msg = run_one(p, args.timeout, args.out / p.name if args.out else None, settings)
        failed += not ok
        name = os.path.relpath(p, Path.cwd())
        print(f"{name:<40} {time.perf_counter() - t:6.1f} s  {'ok' if ok else 'FAILED at ' + msg}", flush=True)
    if failed:
        print(f"{failed} of {len(paths)} notebook(s) failed; failing notebooks were left unchanged.", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
