"""Execute notebooks in place, deterministically and atomically; or with a reader's own values.

    python tools/run_notebooks.py [NOTEBOOK ...]          (default: every chapter, notebooks/*.ipynb)
    python tools/run_notebooks.py --set K=1000 --set EPS=0.05 [--chapters 1,2,3] [--html]
    python tools/run_notebooks.py --environment          (what `make run` calls: the values from the environment)

With ``--set NAME=VALUE`` the values replace those of the notebook's one parameters
cell (the code cell tagged ``parameters``; each line keeps its comment), for the
names that chapter reads. The executed copies go to ``build/runs/<values>/`` (or
``--out``), emptied first of what an earlier run left there, with their figures in
``<that>/figures`` and, with ``--html``, their book in ``<that>/html`` (a banner with
the values on every page); the committed notebooks and figures are not touched.
Every value is checked against :mod:`derivations.engine.parameters` before anything
runs: an unknown name, a value out of range, or a K above a selected chapter's
maximum is refused with a message naming the parameter and its valid range (every
bad value is named, one line each).

``--environment`` reads the values as ``make`` hands them over, through the
environment and never through a shell: every parameter name set in the environment
(``make run K=37`` or ``K=37 make run``: both are honoured, and said), ``CHAPTERS``,
``JOBS`` and ``BOOK`` (``BOOK=0``: no book; default: a book for a rerun), and
``DERIVATIONS_MAKE_NAMES``, the names given on make's command line, so that a name
that is no parameter is refused rather than dropped. ``--refuse-values TARGET`` exits 2
if any parameter is set so (for the targets that read none: ``make test``, ``make lab``, ...).

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
import re
import shutil
import subprocess
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

def kernelspec() -> dict:
    """The notebook's ``kernelspec`` as JupyterLab writes it when it saves a notebook: the installed ``python3``
    kernel's display name and language (ipykernel's: "Python 3 (ipykernel)")."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    return {"display_name": spec.display_name, "language": spec.language, "name": "python3"}


def normalise(nb: nbformat.NotebookNode) -> None:
    """Store the metadata as JupyterLab writes it, so that opening a notebook in Lab and saving it changes nothing
    (``kernelspec``; ``language_info`` as the kernel reported it, which nbclient has stored); collapse in Jupyter
    each cell the book hides (tag ``remove-input``: the plumbing); and drop what varies between runs: timing."""
    nb.metadata["kernelspec"] = kernelspec()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if "remove-input" in cell.metadata.get("tags", []):        # hidden in the book: collapsed in Jupyter
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
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


_ASSIGNMENT = re.compile(r"^(?P<lead>(?P<name>[A-Za-z_]\w*)\s*=\s*)(?P<value>[^#]*?)(?P<gap>\s*)(?P<comment>#.*)?$")


def _literal(value, like: str) -> str:
    """``value`` as Python source, in the style of the literal it replaces (``200_000`` keeps its underscores)."""
    if isinstance(value, int) and not isinstance(value, bool) and "_" in like:
        return f"{value:_}"
    return repr(value)


def set_parameters(nb: nbformat.NotebookNode, settings: dict) -> list[str]:
    r"""Write ``settings`` into the notebook's one ``parameters`` cell in place of its values (each line keeps its
    comment, at the same column where the new value fits); return the names this notebook reads.

    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     "# Parameters\nK = 10          # classes\nN_MC = 100_000  # flips", metadata={"tags": ["parameters"]})])
    >>> set_parameters(nb, {"K": 37, "N_MC": 1000000, "EPS": 0.5})
    ['K', 'N_MC']
    >>> print(nb.cells[0].source)
    # Parameters
    K = 37          # classes
    N_MC = 1_000_000  # flips
    """
    if not settings:
        return []
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            lines, used = cell.source.split("\n"), []
            for i, line in enumerate(lines):
                m = _ASSIGNMENT.match(line)
                if not (m and m["name"] in settings):
                    continue
                new = _literal(settings[m["name"]], m["value"])
                gap = " " * max(len(m["value"]) + len(m["gap"]) - len(new), 2) if m["comment"] else ""
                lines[i] = f"{m['lead']}{new}{gap}{m['comment'] or ''}"
                used.append(m["name"])
            cell.source = "\n".join(lines)
            return [k for k in settings if k in used]
    return []


def run_one(path: Path, timeout: int, out_path: Path | None = None, settings: dict | None = None) -> tuple[bool, str]:
    nb = nbformat.read(path, as_version=4)
    set_parameters(nb, settings or {})
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


def parse_count(name: str, text: str, low: int, high: int) -> int:
    """An integer setting of the runner's own (JOBS, BOOK), refused as a parameter would be."""
    t = str(text).strip()
    if not t.isdigit() or not low <= int(t) <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}]; got {text!r}")
    return int(t)


#: The runner's own settings that ``make`` hands over through the environment, beside the parameters.
OWN_SETTINGS = ("CHAPTERS", "JOBS", "BOOK")


def from_environment(environ) -> tuple[list[str], dict, list[str], list[str]]:
    """What ``make`` handed over: ``(["K=37", ...], {"CHAPTERS": "1,2", ...}, names from the environment, errors)``.

    Every parameter set in ``environ`` is taken as typed (a value is data: whatever it holds, it is checked,
    never run); ``DERIVATIONS_MAKE_NAMES`` lists the names given on make's command line, and one that is
    neither a parameter nor the runner's own is an error, not a value dropped.
    """
    from derivations.chapters import PARAMETERS

    given = str(environ.get("DERIVATIONS_MAKE_NAMES", "")).split()
    errors = [f"unknown parameter {n!r}; known: {', '.join(PARAMETERS)} (and {', '.join(OWN_SETTINGS)})"
              for n in given if n not in PARAMETERS and n not in OWN_SETTINGS]
    items = [f"{n}={environ[n]}" for n in PARAMETERS if n in environ]
    own = {n: environ[n] for n in OWN_SETTINGS if n in environ}
    from_env = [n for n in list(PARAMETERS) + list(OWN_SETTINGS) if n in environ and n not in given]
    return items, own, from_env, errors


def parse_settings(items: list[str], chapters) -> tuple[dict, list[str]]:
    """Every ``NAME=VALUE`` checked (:func:`derivations.chapters.parse`): the values and one error per bad one."""
    from derivations.chapters import PARAMETERS, parse

    out, errors = {}, []
    for item in items:
        name, sep, text = str(item).partition("=")
        name = name.strip()
        try:
            if not sep:
                raise ValueError(f"a setting is NAME=VALUE; got {item!r}")
            if name in out:
                raise ValueError(f"{name} is set twice")
            out[name] = parse(name, text, chapters)
        except ValueError as e:
            errors.append(str(e))
    return {n: out[n] for n in PARAMETERS if n in out}, errors


def refuse_values(target: str, environ) -> int:
    """For a target that reads no parameter: exit status 2 and a message if one is set (else 0)."""
    items, _, from_env, errors = from_environment(environ)
    if not items:
        return 0
    where = {"make test": "checks the committed notebooks at their defaults",
             "make lab": "opens the notebooks as committed: type your values in a notebook's parameters cell (its "
                         "first code cell) and run it",
             "make sweep": "draws its own value sets"}.get(target, "reads no parameter")
    shown = " ".join(f"{i}{' (from the environment)' if i.partition('=')[0] in from_env else ''}" for i in items)
    print(f"error: {target} {where}; it does not use {shown}. To run the notebooks with these values: make run "
          + " ".join(i for i in items), file=sys.stderr)
    return 2


def clean_out(out: Path) -> None:
    """Empty ``out`` of what a run writes there (notebooks, figures, the book and its sources): each run starts clean,
    so nothing of an earlier run, and no warning Sphinx gave only then, can survive into this one."""
    for sub in ("html", "html.src", "figures"):
        shutil.rmtree(out / sub, ignore_errors=True)
    for nb in out.glob("*.ipynb"):
        nb.unlink()


def banner(settings: dict, chapters: list[int], where: str) -> str:
    """The line every page of a rerun's book opens with: the values, the chapters, and where the run is (HTML)."""
    from html import escape

    values = " ".join(f"{n}={v!r}" for n, v in settings.items())
    which = (f"chapter{'s' if len(chapters) > 1 else ''} " + ", ".join(map(str, chapters))) if chapters else "every chapter"
    return (f'<span class="rerun-banner">A rerun with your values: <code>{escape(values)}</code> ({escape(which)}; '
            f"every other value is its chapter's default), in <code>{escape(where)}/</code>. "
            "The committed book, at the defaults: <code>make html</code>.</span>")


def _need_npm() -> None:
    """The book needs npm (MathJax for the offline site): installed with tools/ensure_system.sh when missing."""
    if shutil.which("npm") is None:
        subprocess.run(["bash", str(ROOT / "tools" / "ensure_system.sh"), "npm"], check=True)


def main(argv: list[str] | None = None, environ=None) -> int:
    from derivations.chapters import CHAPTERS, PARAMETERS, run_folder_name

    environ = os.environ if environ is None else environ
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help=f"override a parameter ({', '.join(PARAMETERS)}); the results go to build/runs/<values>/")
    ap.add_argument("--chapters", help="run only these chapters, e.g. 1,2,3 (default: all)")
    ap.add_argument("--out", type=Path, help="write executed notebooks (and figures/) here instead of in place")
    ap.add_argument("--jobs", help="notebooks run at the same time (default 2)")
    ap.add_argument("--html", action="store_true", help="also build the book (book/builder.py) from the executed notebooks into <out>/html/")
    ap.add_argument("--no-html", action="store_true", help="no book, even for a rerun")
    ap.add_argument("--environment", action="store_true",
                    help="take the values from the environment, as `make run` hands them over (see above)")
    ap.add_argument("--check", action="store_true", help="check the values, say what would run, and stop")
    ap.add_argument("--refuse-values", metavar="TARGET", help="exit 2 if any parameter is set in the environment")
    args = ap.parse_args(argv)
    if args.refuse_values:
        return refuse_values(args.refuse_values, environ)
    errors, items, from_env = [], list(args.set), []
    own = {"CHAPTERS": args.chapters, "JOBS": args.jobs}
    if args.environment:
        env_items, env_own, from_env, errors = from_environment(environ)
        items += env_items
        own.update({k: v for k, v in env_own.items() if own.get(k) is None})
    selected, jobs, book = None, 2, None
    try:
        if own.get("CHAPTERS") is not None and args.notebooks:
            raise ValueError("give notebooks or --chapters, not both")
        if own.get("CHAPTERS") is not None:
            selected = parse_chapters(own["CHAPTERS"])
    except ValueError as e:
        errors.append(str(e))
    for name, low, high in (("JOBS", 1, 64), ("BOOK", 0, 1)):
        if own.get(name) is not None:
            try:
                value = parse_count(name, own[name], low, high)
                jobs, book = (value, book) if name == "JOBS" else (jobs, value)
            except ValueError as e:
                errors.append(str(e))
    paths = args.notebooks or [ROOT / CHAPTERS[c].path for c in (selected or sorted(CHAPTERS))]
    settings, bad = parse_settings(items, selected if selected is not None else chapters_of(paths))
    errors += bad
    if errors:
        for e in errors:
            print(f"error: {e}; no notebook was run", file=sys.stderr)
        return 2
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"error: no such notebook: {', '.join(map(str, missing))}; no notebook was run", file=sys.stderr)
        return 2
    html = (args.html or (args.environment and bool(settings))) if book is None else bool(book)
    html = html and not args.no_html
    out = args.out
    if settings and out is None:
        out = ROOT / "build" / "runs" / run_folder_name(settings)
    folder = run_folder_name(settings) or "defaults"
    said = "".join(f"; {n} from the environment" for n in from_env if n in settings or n in OWN_SETTINGS)
    if args.check:
        where = os.path.relpath(out, Path.cwd()) + "/" if out else "in place"
        print(f"values: {folder}{said}; would run {len(paths)} notebook(s) ({', '.join(p.stem for p in paths)}), "
              f"{'with' if html else 'without'} the book, {where}")
        return 0
    if html:
        _need_npm()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        clean_out(out)
        os.environ["DERIVATIONS_FIGURES"] = str((out / "figures").resolve())
        print(f"values: {folder}{said}; results in {os.path.relpath(out, Path.cwd())}/", flush=True)
    else:
        # in place (`make run`): the committed figures/, unless the caller chose (the tests choose a temporary folder);
        # a notebook whose own values are not its chapter's defaults never writes there (figures.figures_dir)
        os.environ.setdefault("DERIVATIONS_FIGURES", str(ROOT / "figures"))
    failed = 0
    jobs = max(1, min(jobs, len(paths)))
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
    if html:
        from book.builder import build

        t = time.perf_counter()
        site = (out or ROOT / "build") / "html"
        chapters = selected if selected is not None else chapters_of(paths)
        build((out or ROOT / "notebooks").resolve(), site.resolve(), ROOT / "build" / "npm",
              announcement=banner(settings, chapters if chapters and len(chapters) < len(CHAPTERS) else [],
                                  os.path.relpath(out, ROOT) if out.resolve().is_relative_to(ROOT) else str(out))
              if settings and out is not None else None)
        print(f"{os.path.relpath(site / 'index.html', Path.cwd()):<40} {time.perf_counter() - t:6.1f} s  ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
