"""Execute notebooks in place, deterministically and atomically.

    python tools/run_notebooks.py [NOTEBOOK ...]     (default: notebooks/*.ipynb)

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


def run_one(path: Path, timeout: int, out_path: Path | None = None) -> tuple[bool, str]:
    nb = nbformat.read(path, as_version=4)
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
    args = ap.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not paths:
        print("no notebooks found", file=sys.stderr)
        return 1
    failed = 0
    for p in paths:
        t = time.perf_counter()
        ok, msg = run_one(p, args.timeout)
        failed += not ok
        name = os.path.relpath(p, Path.cwd())
        print(f"{name:<40} {time.perf_counter() - t:6.1f} s  {'ok' if ok else 'FAILED at ' + msg}", flush=True)
    if failed:
        print(f"{failed} of {len(paths)} notebook(s) failed; failing notebooks were left unchanged.", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
