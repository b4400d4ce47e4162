"""Execute the chapters' notebooks, deterministically and atomically; or with a reader's own values.

    soft-targets run [NOTEBOOK ...]                  (default: every chapter; python -m derivations run ...)
    soft-targets run --set K=1000 --set EPS=0.05 [--chapters 1,2,3] [--out DIR]
    make run K=1000 EPS=0.05                         (the same, through tools/run_notebooks.py, with the book)

With ``--set NAME=VALUE`` the values replace those of the notebook's one parameters
cell (the code cell tagged ``parameters``; each line keeps its comment), for the
names that chapter reads. The executed copies go to ``build/runs/<values>/`` (or
``--out``), emptied first of what an earlier run left there, with their figures in
``<that>/figures``; the committed notebooks and figures are not touched. Every value
is read from text once, by :meth:`derivations.engine.parameters.Chapters.parse_all`,
before anything runs: an unknown name, a value out of range, or a K above a selected
chapter's maximum is refused with a message naming the parameter and its valid range
(every bad value is named, one line each). From there a value travels as a number:
into the parameters cell, and from it to the notebook's
:meth:`~derivations.engine.parameters.Chapters.check`. The folder for the figures is an
argument too: the runner writes it into the cell's ``FIGURES`` for the run (``figures/``
in place, ``<out>/figures`` otherwise), and stores the notebook with the line as it was.

``--environment`` reads the values as ``make`` hands them over, through the
environment and never through a shell: every parameter name set in the environment
(``make run K=37`` or ``K=37 make run``: both are honoured, and said), ``CHAPTERS``,
``JOBS`` and ``BOOK``, and ``DERIVATIONS_MAKE_NAMES``, the names given on make's
command line, so that a name that is no parameter is refused rather than dropped.
``--refuse-values TARGET`` exits 2 if any parameter is set so (for the targets that read
none: ``make test``, ``make lab``, ...). The book (``--html``, ``BOOK``) is built by
``tools/run_notebooks.py``, which hands :func:`main` a builder: the book's build is no
part of the package.

For each notebook: execute it top to bottom in a fresh kernel (nbclient, no per-cell
timing; the kernel's sockets are files, not TCP ports: :func:`kernel_config`),
normalise the metadata that would differ between machines or runs, and only on
success write the file (temporary file in the same folder + ``os.replace``). A
failing notebook is left byte-for-byte untouched. Notebooks run ``--jobs`` at a time
(default 2); while one runs longer than ``--progress`` seconds (default 10) a line
every that many seconds says which cell it is at, and one line per notebook (name,
seconds, ok or the failing cell and its error) follows as each finishes. Exits 1 if
any failed.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

__all__ = ["kernel_config", "notebook_client", "kernelspec", "normalise", "set_parameters", "run_one", "run_all",
           "parse_chapters", "parse_count", "from_environment", "refuse_values", "main"]

#: The checkout's root when the package runs from one (``None`` for an installed copy).
ROOT = Path(__file__).resolve().parents[1]
ROOT = ROOT if (ROOT / "pyproject.toml").exists() else None

#: The runner's own settings that ``make`` hands over through the environment, beside the parameters.
OWN_SETTINGS = ("CHAPTERS", "JOBS", "BOOK")


# -- a kernel ---------------------------------------------------------------------------------------------------------

def kernel_config():
    """The configuration of one kernel's manager: on POSIX, IPC transport, its sockets files named after a
    connection file of its own, so that kernels started at the same moment (``--jobs``, the test workers) never race
    for a TCP port. Over TCP the manager picks free ports and closes them, and the kernel binds them a second later:
    another process may take one in between (``zmq.error.ZMQError: Address already in use``, then "Kernel died
    before replying to kernel_info": jupyter/jupyter_client#154). Elsewhere (Windows has no IPC transport), TCP.

    >>> a, b = kernel_config(), kernel_config()
    >>> os.name != "posix" or (a.KernelManager.transport == "ipc"
    ...                         and a.KernelManager.connection_file != b.KernelManager.connection_file)
    True
    """
    from jupyter_core.paths import jupyter_runtime_dir
    from traitlets.config import Config

    config = Config()
    if os.name != "posix":
        return config
    folder = Path(jupyter_runtime_dir())
    # a socket's path must stay under the system's limit (104 bytes on macOS): `<folder>/kernel-<12>-ipc-<n>`
    if len(str(folder)) > 64:
        folder = Path(tempfile.gettempdir())
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    config.KernelManager.transport = "ipc"
    config.KernelManager.connection_file = str(folder / f"kernel-{uuid.uuid4().hex[:12]}.json")
    return config


def notebook_client(nb, timeout: int, cwd: Path, **kw):
    """An nbclient ``NotebookClient`` for ``nb`` that runs it in ``cwd`` in a fresh ``python3`` kernel started as
    :func:`kernel_config` says: the runner's, and every test's that executes a notebook."""
    from nbclient import NotebookClient

    return NotebookClient(
        nb, timeout=timeout, kernel_name="python3", config=kernel_config(),
        # every output has come in (each cell ran to its idle status) and every file is written: the kernel is
        # stopped at once, as nbval stops its own, rather than asked to and waited for (0.2 s)
        shutdown_kernel="immediate",
        # the kernel's own start-up warnings are noise here; errors still show
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        resources={"metadata": {"path": str(cwd)}}, **kw)


# -- a notebook -------------------------------------------------------------------------------------------------------

def kernelspec() -> dict:
    """The notebook's ``kernelspec`` as JupyterLab writes it when it saves a notebook: the installed ``python3``
    kernel's display name and language (ipykernel's: "Python 3 (ipykernel)")."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    return {"display_name": spec.display_name, "language": spec.language, "name": "python3"}


def normalise(nb) -> None:
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


def failing_cell(nb) -> str:
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


def write_atomically(nb, path: Path) -> None:
    import nbformat

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            nbformat.write(nb, f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


#: ``NAME = value  # comment`` or ``NAME: type = value  # comment``, a line of a parameters cell.
_ASSIGNMENT = re.compile(r"^(?P<lead>(?P<name>[A-Za-z_]\w*)\s*(?::\s*\w+\s*)?=\s*)(?P<value>[^#]*?)(?P<gap>\s*)"
                         r"(?P<comment>#.*)?$")


def _literal(value, like: str) -> str:
    """``value`` as Python source, in the style of the literal it replaces (``200_000`` keeps its underscores)."""
    if isinstance(value, int) and not isinstance(value, bool) and "_" in like:
        return f"{value:_}"
    return repr(value)


def say(line: str) -> None:
    """``line`` on standard output in one write: the workers' progress and the runner's lines share the stream, and
    ``print`` writes a line and its end separately (another process's line could come between them)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _parameters_cell(nb):
    return next((c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])), None)


def set_parameters(nb, settings: dict) -> list[str]:
    r"""Write ``settings`` into the notebook's one ``parameters`` cell in place of its values (each line keeps its
    comment, at the same column where the new value fits); return the names this notebook reads.

    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     "# Parameters\nK: int = 10      # classes\nN_MC = 100_000  # flips", metadata={"tags": ["parameters"]})])
    >>> set_parameters(nb, {"K": 37, "N_MC": 1000000, "EPS": 0.5})
    ['K', 'N_MC']
    >>> print(nb.cells[0].source)
    # Parameters
    K: int = 37      # classes
    N_MC = 1_000_000  # flips
    """
    cell = _parameters_cell(nb)
    if not settings or cell is None:
        return []
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


class Progress:
    """While a notebook runs, a line every ``every`` seconds (none for a notebook done sooner): the notebook, the
    code cell it is at (or that its kernel is starting) and the time so far, indented under the runner's lines
    (``  05_real_data.ipynb: code cell 14 of 41, 30 s``). nbclient's ``on_cell_start`` hook says which cell."""

    def __init__(self, name: str, nb, every: float):
        self.name, self.every, self.at = name, every, 0
        self.code = {i: n for n, i in enumerate((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), 1)}
        self._done = threading.Event()

    def on_cell_start(self, cell, cell_index: int) -> None:
        self.at = self.code.get(cell_index, self.at)

    def _tick(self) -> None:
        start = time.perf_counter()
        while not self._done.wait(self.every):
            where = f"code cell {self.at} of {len(self.code)}" if self.at else "starting its kernel"
            say(f"  {self.name}: {where}, {time.perf_counter() - start:.0f} s")

    def __enter__(self):
        if self.every > 0:
            threading.Thread(target=self._tick, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()


def run_one(path: Path, timeout: int, out_path: Path | None = None, settings: dict | None = None,
            figures: Path | None = None, progress: float = 0) -> tuple[bool, str]:
    """Execute the notebook at ``path`` with ``settings`` in its parameters cell and ``figures`` as the folder of its
    figures (its ``FIGURES``, for this run: the notebook is stored with the line as it was); write it to
    ``out_path`` (default: in place) only if every cell ran. Returns ``(ok, "ok" or what failed)``."""
    import nbformat
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    set_parameters(nb, settings or {})
    cell = _parameters_cell(nb)
    stored = cell.source if cell is not None else None
    if figures is not None:
        set_parameters(nb, {"FIGURES": str(figures)})
    with Progress(path.name, nb, progress) as shown:
        client = notebook_client(nb, timeout, path.parent, record_timing=False, on_cell_start=shown.on_cell_start)
        try:
            client.execute()
        except CellExecutionError:
            return False, failing_cell(nb)
        except (CellTimeoutError, DeadKernelError) as e:
            return False, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    if cell is not None:
        cell.source = stored
    normalise(nb)
    write_atomically(nb, out_path or path)
    return True, "ok"


def _timed(path: Path, timeout: int, out_path: Path | None, settings: dict, figures: Path | None,
           progress: float) -> tuple[bool, str, float]:
    t = time.perf_counter()
    ok, msg = run_one(path, timeout, out_path, settings, figures, progress)
    return ok, msg, time.perf_counter() - t


def run_all(paths: list[Path], timeout: int, out: Path | None, settings: dict, figures: Path | None, jobs: int,
            progress: float = 0):
    """Run ``paths``, ``jobs`` at a time, each in its own process and kernel; yield ``(path, ok, message, seconds)``
    as each finishes."""
    with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(paths)))) as pool:
        futures = {pool.submit(_timed, p, timeout, out / p.name if out else None, settings, figures, progress): p
                   for p in paths}
        for fut in as_completed(futures):
            yield (futures[fut], *fut.result())


# -- what to run, with which values -----------------------------------------------------------------------------------

def chapters_of(paths: list[Path]) -> list[int] | None:
    """The chapter numbers of these notebooks, or ``None`` if any is not a chapter of the registry."""
    from derivations.chapters import CHAPTERS

    by_stem = {c.notebook: n for n, c in CHAPTERS.items()}
    found = [by_stem.get(p.stem) for p in paths]
    return None if None in found else found


def parse_chapters(text: str) -> list[int]:
    """``"1,2,3"`` (or ``"1 2 3"``) as chapter numbers, each a registered chapter's; ``ValueError`` naming them.

    >>> parse_chapters("3,1 3")
    [1, 3]
    >>> parse_chapters("9")
    Traceback (most recent call last):
    ...
    ValueError: CHAPTERS must list chapter numbers among 0, 1, 2, 3, 4, 5 (e.g. CHAPTERS=1,2,3); got '9'
    """
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


def parser(prog: str | None = None, book: bool = False) -> argparse.ArgumentParser:
    """The runner's options (``soft-targets run``; with ``book``, ``tools/run_notebooks.py``'s, which builds it)."""
    from derivations.chapters import PARAMETERS

    ap = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: every chapter's)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help=f"a parameter's value ({', '.join(PARAMETERS)}); the results go to build/runs/<values>/")
    ap.add_argument("--chapters", help="run only these chapters, e.g. 1,2,3 (default: all)")
    ap.add_argument("--out", type=Path, help="write executed notebooks (and figures/) here instead of in place")
    ap.add_argument("--jobs", help="notebooks run at the same time (default 2)")
    ap.add_argument("--progress", type=float, default=10, metavar="SECONDS",
                    help="while a notebook runs, a line every SECONDS saying which cell it is at (default 10; 0: none)")
    if book:
        ap.add_argument("--html", action="store_true", help="also build the book from the executed notebooks into "
                                                            "<out>/html/")
        ap.add_argument("--no-html", action="store_true", help="no book, even for a rerun")
    ap.add_argument("--environment", action="store_true",
                    help="take the values from the environment, as `make run` hands them over (see above)")
    ap.add_argument("--check", action="store_true", help="check the values, say what would run, and stop")
    ap.add_argument("--refuse-values", metavar="TARGET", help="exit 2 if any parameter is set in the environment")
    return ap


def main(argv: list[str] | None = None, environ=None, book=None, prog: str | None = None) -> int:
    """Run the notebooks as the arguments say (see above); ``book``: an object with ``prepare()`` (before anything
    runs) and ``build(settings, chapters, out)`` that makes the book of a run (``tools/run_notebooks.py``'s; ``out``
    is ``None`` for a run in place); without one there is no book."""
    from derivations.chapters import CHAPTERS, run_folder_name
    from derivations.engine.figures import committed_figures
    from derivations.engine.parameters import BadValues

    environ = os.environ if environ is None else environ
    args = parser(prog, book is not None).parse_args(argv)
    if args.refuse_values:
        return refuse_values(args.refuse_values, environ)
    errors, items, from_env = [], list(args.set), []
    own = {"CHAPTERS": args.chapters, "JOBS": args.jobs}
    if args.environment:
        env_items, env_own, from_env, errors = from_environment(environ)
        items += env_items
        own.update({k: v for k, v in env_own.items() if own.get(k) is None and (k != "BOOK" or book is not None)})
    selected, jobs, with_book = None, 2, None
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
                jobs, with_book = (value, with_book) if name == "JOBS" else (jobs, value)
            except ValueError as e:
                errors.append(str(e))
    from derivations.engine.cells import notebooks_folder

    paths = args.notebooks or [notebooks_folder() / f"{CHAPTERS[c].notebook}.ipynb"
                               for c in (selected or sorted(CHAPTERS))]
    try:
        settings = CHAPTERS.parse_all(items, selected if selected is not None else chapters_of(paths))
    except BadValues as e:
        settings = {}
        errors += e.errors
    if errors:
        for e in errors:
            print(f"error: {e}; no notebook was run", file=sys.stderr)
        return 2
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"error: no such notebook: {', '.join(map(str, missing))}; no notebook was run", file=sys.stderr)
        return 2
    html = False
    if book is not None:
        html = (args.html or (args.environment and bool(settings))) if with_book is None else bool(with_book)
        html = html and not args.no_html
    out = args.out
    if out is None and (settings or ROOT is None):                  # never in place in an installed copy
        out = (ROOT / "build" / "runs" if ROOT is not None else Path.cwd() / "runs") / (
            run_folder_name(settings) or "defaults")
    folder = run_folder_name(settings) or "defaults"
    said = "".join(f"; {n} from the environment" for n in from_env if n in settings or n in OWN_SETTINGS)
    if args.check:
        where = os.path.relpath(out, Path.cwd()) + "/" if out else "in place"
        print(f"values: {folder}{said}; would run {len(paths)} notebook(s) ({', '.join(p.stem for p in paths)}), "
              f"{'with' if html else 'without'} the book, {where}")
        return 0
    if html:
        book.prepare()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        clean_out(out)
        figures = (out / "figures").resolve()
        say(f"values: {folder}{said}; results in {os.path.relpath(out, Path.cwd())}/")
    else:
        # in place (`make run`): the committed figures/; a notebook whose own values are not its chapter's defaults
        # never writes there (derivations.engine.figures.destination)
        figures = committed_figures()
    failed = 0
    for p, ok, msg, secs in run_all(paths, args.timeout, out, settings, figures, jobs, args.progress):
        failed += not ok
        say(f"{os.path.relpath(p, Path.cwd()):<40} {secs:6.1f} s  {'ok' if ok else 'FAILED at ' + msg}")
    if failed:
        print(f"{failed} of {len(paths)} notebook(s) failed; failing notebooks were left unchanged.", file=sys.stderr)
        return 1
    if html:
        chapters = selected if selected is not None else chapters_of(paths)
        book.build(settings, chapters, out)
    return 0
