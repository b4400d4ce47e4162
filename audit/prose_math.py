"""Mathematics written as ASCII or as code in prose a reader reads: what should have been between ``$...$``.

    python -m audit.prose_math            every offending fragment, where it stands (exit 1 if any)

The reader sees Markdown with LaTeX between ``$...$`` (MathJax in JupyterLab, on GitHub, in the book and its
PDF). A fragment such as ``eps(1-eps)``, ``sum_{l=1}^N H_i``, ``diag(q) - q q^T``, ``M = ||z||_inf`` or a code
span ```H_j(p, q)``` left in the prose shows as ASCII beside the same quantity typeset. :func:`fragments`
finds them in one piece of Markdown:

* mathematics (``$...$``, ``$$...$$``), fenced code, HTML tags and link targets are set aside;
* block quotes of the note (``> ...``) are set aside when the note contains every piece of them (the note's own
  ASCII, "K-1 possibilities", is quoted, never edited);
* a code span is code when it names Python (a name defined or used in the package, the tools or the notebooks'
  code, each called name a function or class), a command (``make ...``, ``python ...``), a path, a file, or an
  exception as Python prints it (``ValueError: ...``);
  any other code span (``H_j(p, q)``, ``eps(1-eps)``, ``z_1 - z_j``) is mathematics written as code;
* what is left must not look like mathematics: Greek letters spelled out (``eps``, ``alpha``, ``Delta``),
  subscripts and superscripts (``z_1``, ``q^T``), norms and bars (``||``, ``y|x``), functions applied
  (``log(``, ``softmax(``, ``E[``), comparisons (``<=``, ``!=``, ``->``), a letter in an equation or an
  arithmetic expression (``K = 3``, ``K - 1``, ``1/K``), numbers in e-notation (``1e-06``), and Unicode
  mathematics outside ``$`` (``ε``, ``≈``, ``‖``).

:func:`surfaces` lists the texts a reader reads: the Markdown cells and the ``text/markdown`` outputs stored
in the notebooks, the texts of every claim of the registry (title, remark, assumption, statements written in
prose), and what :func:`derivations.engine.regimes.describe` says of every regime.
"""
from __future__ import annotations

import ast
import builtins
import functools
import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["PATTERNS", "fragments", "code_span_is_code", "python_names", "surfaces", "notebook_texts",
           "claim_texts", "regime_texts", "main"]

#: Mathematics set aside: display math, inline math (not across a blank line).
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+?\$", re.S)
_FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.S | re.M)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_LINK = re.compile(r"\]\([^)\s]*\)")
_CODE = re.compile(r"(`+)(.+?)\1", re.S)
#: A heading (a page's title, a section's), and TeX in it: a ``$`` or a command.
_TITLE = re.compile(r"^#{1,6} (.*)$", re.M)
_TEX = re.compile(r"\$|\\[A-Za-z]+")

#: What mathematics written as ASCII looks like (searched in prose with math, code and quotations set aside).
PATTERNS: dict[str, re.Pattern] = {
    "a Greek letter spelled out": re.compile(r"\b(eps|epsilon|alpha|Delta|(?<!Kronecker )delta|theta|lambda|sigma|mu|"
                                             r"xi|inf)\b"),
    "a subscript": re.compile(r"(?<![\w.])[A-Za-z]_(\{|[A-Za-z0-9]\b|[A-Za-z0-9]{1,3}\b)|\b(sum|prod|max|min|log)_"),
    "a superscript": re.compile(r"\^"),
    "a norm or a bar": re.compile(r"\|\||\w\|\w|\|_"),
    "a function applied": re.compile(r"\b(log|log2|log1p|exp|max|min|sqrt|softmax|LSE|diag|argmax|tr|Var|Cov|KL|H|Pr|"
                                     r"sum|mean|floor|sign|abs)\(|\bE\[|\b(log|log2|exp) [A-Za-z0-9]\b"),
    "a comparison or an arrow": re.compile(r"<=|>=|!=|=>|->|<-|==|~="),
    "a letter in an equation": re.compile(r"(?<![\w$`'\"-])[A-Za-z]\s*(=|<|>)\s*[-\w(]"),
    "a letter in arithmetic": re.compile(r"(?<![\w-])(?!v/s)[A-Za-z]\s*[-+*/]\s*(\d|[A-Za-z]\b(?![\w-])|\()"
                                         r"|(?<![\w.])\d+\s*[-+*/]\s*[A-Za-z]\b(?![\w-])|\)\s*/\s*[\w(]"
                                         r"|\b[A-Z]\s+x\s+[A-Z]\b"),
    "a number in e-notation": re.compile(r"\b\d+(\.\d+)?e[-+]?\d+\b"),
    "Unicode mathematics outside $": re.compile(r"[≈≤≥≠∞‖Σ∑∂√εαΔδθλμσ∈−]"),
}
#: Unicode mathematics, which a heading may hold (it is never typeset there) while prose may not
_UNICODE_MATH = PATTERNS["Unicode mathematics outside $"]

#: Names of other libraries' APIs that the text quotes as code (their documentation's own words).
QUOTED_API = {"num_categories", "label_smoothing", "smooth_labels", "CrossEntropyLoss", "CategoricalCrossentropy",
              "cross_entropy", "torch", "nn", "functional", "tf", "keras", "losses", "optax", "labels", "logits"}
#: Commands a code span may start with.
_COMMANDS = ("make ", "make\t", "python ", "python3 ", "pip ", "pytest", ".venv/", "git ", "bash ", "npm ", "jupyter ",
             "uv ", "chromium", "sphinx")
_FILE = re.compile(r"^[\w.@/-]+\.(py|md|toml|cff|txt|yml|yaml|ipynb|bib|png|svg|pdf|css|js|html|json|sh|cfg)$")
#: Lower-case one-letter names with a short subscript (``z_1``, ``p_j``): mathematics even where code uses them.
_MATHY_NAME = re.compile(r"^[a-z](_\w{1,3})?$")


@functools.lru_cache(maxsize=1)
def python_names() -> tuple[frozenset, frozenset, frozenset]:
    """``(names, callables, all_names)``: every name the package, the tools and the notebooks' code define or use
    (lower-case one-letter names such as ``z`` or ``p_j`` left out: on their own they are mathematics), those that
    are functions or classes (defined, imported, or called somewhere), and every name, one-letter ones included
    (arguments of a call: ``flip_labels(y, K, eps, rng)``)."""
    import nbformat

    sources = [p.read_text(encoding="utf-8") for folder in ("derivations", "tools", "audit", "book")
               for p in sorted((ROOT / folder).rglob("*.py"))]
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        sources += [c.source for c in nbformat.read(nb, as_version=4).cells if c.cell_type == "code"]
    names, called = set(dir(builtins)), set(dir(builtins))
    for src in sources:
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
                called.add(node.name)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, ast.alias):
                for n in node.name.split(".") + ([node.asname] if node.asname else []):
                    names.add(n)
                    called.add(n)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.update(node.module.split("."))
            elif isinstance(node, ast.keyword) and node.arg:
                names.add(node.arg)
            if isinstance(node, ast.Call):
                f = node.func
                called.add(f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else "")
    names |= QUOTED_API
    called |= QUOTED_API
    return (frozenset(n for n in names if not _MATHY_NAME.match(n) or n in {"np", "sp"}), frozenset(called),
            frozenset(names))


def code_span_is_code(span: str) -> bool:
    """Is the content of a code span code (Python names, a command, a path, a file), not mathematics?

    >>> code_span_is_code("smoothed_cross_entropy(logits, labels, eps)"), code_span_is_code("make run K=3")
    (True, True)
    >>> code_span_is_code("H_j(p, q)"), code_span_is_code("eps(1-eps)"), code_span_is_code("diag(q) - q q^T")
    (False, False, False)
    """
    s = span.strip()
    if re.match(r"[A-Z]\w*(Error|Exception|Warning): ", s):          # an exception, as Python prints it
        return True
    if s.startswith(_COMMANDS) or "/" in s and " " not in s or _FILE.match(s) or re.fullmatch(r"[A-Z_]+=\S*", s):
        return True
    if re.fullmatch(r"-{1,2}[\w-]+(=\S+)?", s):                   # a command-line option
        return True
    try:
        tree = ast.parse(s)
    except SyntaxError:
        return False
    names, callables, every = python_names()
    if any(isinstance(node, ast.Call) for node in ast.walk(tree)):
        names = every                                             # a call's arguments may be one-letter names
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in names:
            return False
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            if name is None or name not in callables:
                return False
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitXor):
            return False
    return True


def _note_quotation(line: str) -> bool:
    """A block-quote line whose every piece (split at ellipses) the note contains."""
    from derivations.engine import note

    body = line.lstrip("> ").strip()
    pieces = [p.strip(" .,;:‘’'\"“”") for p in re.split(r"…|\.\.\.", body)]
    pieces = [p for p in pieces if p]
    return bool(pieces) and all(note.contains(p) for p in pieces)


def fragments(markdown: str) -> list[str]:
    """The pieces of ``markdown`` that write mathematics as ASCII or as code, each with a little context.

    >>> fragments(r"the loss is $\\mathcal{L} = \\sum_j H_j$, computed by `smoothed_cross_entropy`")
    []
    >>> sorted({f.split(":")[0] for f in fragments("off by eps(1-eps) m for each of the K - 1 classes")})
    ['a Greek letter spelled out', 'a letter in arithmetic']
    >>> fragments("# The other $K - 1$ classes")
    ['TeX in a heading: The other $K - 1$ classes']
    >>> fragments("# Hard labels and log-sum-exp ≈ max")
    []
    >>> fragments("## The loss at eps = 0")[0].split(":")[0]
    'a Greek letter spelled out'
    >>> fragments("the per-class term `H_j(p, q)`")
    ['mathematics as code: `H_j(p, q)`']
    """
    out = []
    text = _FENCE.sub(" ", markdown)
    # a heading is plain text: the browser's tab, the sidebars, search results and the PDF's bookmarks show it
    # where no mathematics is typeset, so it writes mathematics in Unicode (≈, ε), never TeX
    headings = _TITLE.findall(text)
    for title in headings:
        if _TEX.search(title):
            out.append(f"TeX in a heading: {title.strip()}")
    text = _TITLE.sub(" ", text) + "\n" + "\n".join(_UNICODE_MATH.sub(" ", h) for h in headings)   # read as prose
    text = "\n".join(" " if ln.lstrip().startswith(">") and _note_quotation(ln) else ln for ln in text.split("\n"))
    text = _MATH.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = _LINK.sub("]", text)

    def code(m: re.Match) -> str:
        if not code_span_is_code(m.group(2)):
            out.append(f"mathematics as code: `{m.group(2)}`")
        return " "
    text = _CODE.sub(code, text)
    for what, pattern in PATTERNS.items():
        for m in pattern.finditer(text):
            a, b = max(0, m.start() - 30), min(len(text), m.end() + 30)
            out.append(f"{what}: …{' '.join(text[a:b].split())}…")
    return out


# -- what a reader reads --------------------------------------------------------------------------------
def notebook_texts(path: Path) -> Iterator[tuple[str, str]]:
    """``(where, markdown)``: each Markdown cell and each stored ``text/markdown`` output of a notebook."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for i, c in enumerate(nb.cells):
        if c.cell_type == "markdown":
            yield f"{path.name} cell {i} (Markdown)", c.source
        elif c.cell_type == "code":
            for o in c.get("outputs", []):
                md = o.get("data", {}).get("text/markdown")
                if md:
                    yield f"{path.name} cell {i} (output)", md if isinstance(md, str) else "".join(md)


def claim_texts(claims=None) -> Iterator[tuple[str, str]]:
    """``(where, text)``: each claim's title, remark and assumption, and its statement and corrected form where
    they are prose (added results stated in words; a corrected wording of the note)."""
    if claims is None:
        import derivations.chapters  # noqa: F401  (the chapters' claims, named to the registry)
        from derivations.engine.registry import claims as all_claims

        claims = all_claims()
    for c in claims:
        yield f"{c.id} title", c.title
        if c.remark:
            yield f"{c.id} remark", c.remark
        if c.assumption:
            yield f"{c.id} assumption", c.assumption
        for name in ("printed", "corrected"):
            text = getattr(c, name)
            if text and c.source == "added" or name == "corrected" and text and "$" in text:
                if "$" in text or not re.search(r"[\\_^]", text):             # prose, not a bare formula
                    yield f"{c.id} {name}", text


def regime_texts() -> Iterator[tuple[str, str]]:
    """``(where, text)``: :func:`~derivations.engine.regimes.describe` at a value of every regime, and K = 2."""
    from derivations.engine.regimes import describe

    for K, eps in ((10, 0.0), (10, 0.1), (10, 0.9), (10, 0.95), (10, 1.0), (2, 1.0), (2, 0.3)):
        yield f"describe(K={K}, eps={eps})", describe(K, eps)


def surfaces(notebooks: list[Path] | None = None) -> Iterator[tuple[str, str]]:
    """Every text a reader reads: the notebooks (all of ``notebooks/`` by default), the claims, the regimes."""
    for path in notebooks if notebooks is not None else sorted((ROOT / "notebooks").glob("*.ipynb")):
        yield from notebook_texts(path)
    yield from claim_texts()
    yield from regime_texts()


def main(argv: list[str] | None = None) -> int:
    found = 0
    for where, text in surfaces():
        for f in fragments(text):
            print(f"{where}: {f}")
            found += 1
    print(f"{found} fragment(s) of mathematics written as ASCII or code", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
