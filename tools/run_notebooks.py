"""Execute notebooks in place, deterministically and atomically; or with a reader's own values.

    python tools/run_notebooks.py [NOTEBOOK ...]          (default: every chapter, notebooks/*.ipynb)
    python tools/run_notebooks.py --set K=1000 --set EPS=0.05 [--chapters 1,2,3]

With ``--set NAME=VALUE`` the values override the notebook's parameters cell
(the code cell tagged ``parameters``): a cell tagged ``injected-parameters`` is
inserted after it, for the names that chapter reads. The executed copies go to
``build/runs/<values>/`` (or ``--out``), with their figures in ``<that>/figures``;
the committed notebooks and figures are not touched. Every value is checked
against :mod:`derivations.engine.parameters` before anything runs: an unknown name, a
value out of range, or a K above a selected chapter's maximum is refused with
a message naming the parameter and its valid range.

For each notebook: execute it top to bottom in a fresh kernel (nbclient, no
per-cell timing), normalise the metadata that would differ between machines
or runs, and only on success write the file (temporary file in the same
folder + ``os.replace``). A failing notebook is left byte-for-byte untouched.
Notebooks run ``--jobs`` at a time (default 2). Prints one line per notebook
(name, seconds, ok or the failing cell and its error) and exits 1 if any failed.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

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
    """Describe the first code cell with an error output: its index, first line and the error."""
    code_index = 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        code_index += 1
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
                value = out.get("evalue", "")
                head, _, rest = value.partition("\n")
                detail = "".join(f"\n      {ln}" for ln in rest.splitlines()[:12])
                return (f"cell {i} (code cell {code_index}: {first[:60]!r}): {out.get('ename')}: "
                        f"{head[:300]}{detail}")
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
        # every output has come in (each cell ran to its idle status) and every file is written: the kernel is
        # stopped at once, as nbval stops its own, rather than asked to and waited for (0.2 s)
        shutdown_kernel="immediate",
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


def _timed(path: Path, timeout: int, out_path: Path | None, settings: dict) -> tuple[bool, str, float]:
    t = time.perf_counter()
    ok, msg = run_one(path, timeout, out_path, settings)
    return ok, msg, time.perf_counter() - t


def chapters_of(paths: list[Path]) -> list[int] | None:
    """The chapter numbers of these notebooks, or ``None`` if any is not a chapter of the registry."""
    from derivations.chapters import CHAPTERS

    by_stem = {c.notebook: n for n, c in CHAPTERS.items()}
    found = [by_stem.get(p.stem) for p in paths]
    return None if None in found else found


def parse_chapters(text: str) -> list[int]:
    from derivations.chapters import CHAPTERS

    try:
        out = [int(t) for t in text.replace(",", " ").split()]
    except ValueError:
        out = []
    if not out or any(c not in CHAPTERS for c in out):
        raise ValueError(f"CHAPTERS must list chapter numbers among {', '.join(map(str, CHAPTERS))} "
                         f"(e.g. CHAPTERS=1,2,3); got {text!r}")
    return sorted(set(out))


def main(argv: list[str] | None = None) -> int:
    from derivations.chapters import CHAPTERS, PARAMETERS, parse_all, run_folder_name

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help=f"override a parameter ({', '.join(PARAMETERS)}); the results go to build/runs/<values>/")
    ap.add_argument("--chapters", help="run only these chapters, e.g. 1,2,3 (default: all)")
    ap.add_argument("--out", type=Path, help="write executed notebooks (and figures/) here instead of in place")
    ap.add_argument("--jobs", type=int, default=2, help="notebooks run at the same time (default 2)")
    ap.add_argument("--html", action="store_true", help="also build the book (tools/book.py) from the executed notebooks into <out>/html/")
    args = ap.parse_args(argv)
    try:
        if args.chapters and args.notebooks:
            raise ValueError("give notebooks or --chapters, not both")
        selected = parse_chapters(args.chapters) if args.chapters else None
        paths = args.notebooks or [ROOT / CHAPTERS[c].path for c in (selected or sorted(CHAPTERS))]
        settings = parse_all(args.set, selected if selected is not None else chapters_of(paths))
    except ValueError as e:
        print(f"error: {e}; no notebook was run", file=sys.stderr)
        return 2
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"error: no such notebook: {', '.join(map(str, missing))}; no notebook was run", file=sys.stderr)
        return 2
    out = args.out
    if settings and out is None:
        out = ROOT / "build" / "runs" / run_folder_name(settings)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        os.environ["DERIVATIONS_FIGURES"] = str((out / "figures").resolve())
        print(f"values: {run_folder_name(settings) or 'defaults'}; results in {os.path.relpath(out, Path.cwd())}/",
              flush=True)
    failed = 0
    jobs = max(1, min(args.jobs, len(paths)))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [(p, pool.submit(_timed, p, args.timeout, out / p.name if out else None, settings)) for p in paths]
        for p, fut in futures:
            ok, msg, secs = fut.result()
            failed += not ok
            name = os.path.relpath(p, Path.cwd())
            print(f"{name:<40} {secs:6.1f} s  {'ok' if ok else 'FAILED at ' + msg}", flush=True)
    if failed:
        print(f"{failed} of {len(paths)} notebook(s) failed; failing notebooks were left unchanged.", file=sys.stderr)
        return 1
    if args.html:
        from tools.book import build

        t = time.perf_counter()
        site = (out or ROOT / "build") / "html"
        build((out or ROOT / "notebooks").resolve(), site.resolve(), ROOT / "build" / "npm")
        print(f"{os.path.relpath(site / 'index.html', Path.cwd()):<40} {time.perf_counter() - t:6.1f} s  ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
