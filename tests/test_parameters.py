"""The parameter registry: one home for names, ranges and defaults, kept in step with the notebooks."""
import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from derivations.chapters import CHAPTERS, PARAMETERS, check, parse, parse_all, run_folder_name

ROOT = Path(__file__).resolve().parents[1]


def parameters_cell(chapter):
    nb = nbformat.read(ROOT / CHAPTERS[chapter].path, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    return nb, cells


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_notebook_parameters_are_the_registry_defaults(chapter):
    nb, cells = parameters_cell(chapter)
    defaults = CHAPTERS[chapter].defaults
    if not defaults:
        assert not cells
        return
    assert len(cells) == 1, "exactly one cell tagged 'parameters'"
    assigned = {}
    for node in ast.parse(cells[0].source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and ast.unparse(node) == "FIGURES = None":
            continue                          # where the figures go: the run's (the runner's, or None by hand)
        assert isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name), \
            "one NAME: type = value per line (the runner injects by name)"
        assert ast.unparse(node.annotation) == PARAMETERS[node.target.id].kind.__name__, ast.unparse(node)
        assigned[node.target.id] = ast.literal_eval(node.value)
    assert assigned == defaults


@pytest.mark.parametrize("chapter", [c for c in sorted(CHAPTERS) if CHAPTERS[c].defaults])
def test_notebook_checks_its_values_first(chapter):
    """The first statement after the parameters cell that is not an import checks every parameter."""
    nb, cells = parameters_cell(chapter)
    code = [c for c in nb.cells if c.cell_type == "code"]
    following = [node for c in code[code.index(cells[0]) + 1:] for node in ast.parse(c.source).body]
    first = next(node for node in following if not isinstance(node, (ast.Import, ast.ImportFrom)))
    names = ", ".join(f"{n}={n}" for n in CHAPTERS[chapter].defaults)
    call = first.value if isinstance(first, ast.Assign) else first       # values = check(...), or check(...)
    figures = ", figures=FIGURES" if "FIGURES" in cells[0].source else ""
    assert ast.unparse(call) == f"check({chapter}, {names}{figures})"


#: papermill's reading of a parameters cell line (papermill 2.7.0, ``translators.PythonTranslator``: its pattern as
#: written there), so that ``papermill --help-notebook`` lists each parameter with its type, default and help.
PAPERMILL = re.compile(r"^(?P<target>\w[\w_]*)\s*(:\s*[\"']?(?P<annotation>\w[\w_\[\],\s]*)[\"']?\s*)?=\s*(?P<value>.*?)"
                       r"(\s*#\s*(type:\s*(?P<type_comment>[^\s]*)\s*)?(?P<help>.*))?$")


@pytest.mark.parametrize("chapter", [c for c in sorted(CHAPTERS) if CHAPTERS[c].defaults])
def test_papermill_reads_every_parameter_with_its_type_and_help(chapter):
    """What ``papermill --help-notebook`` reads, as papermill reads it (``PythonTranslator.inspect``): comment and
    blank lines skipped; a line holding more than one '=' (a comment's 'a = b' included) dropped with a warning;
    the rest matched by its pattern. Each parameter comes out with its registry type, its default and a help."""
    _, (cell,) = parameters_cell(chapter)
    found = {}
    for line in cell.source.splitlines():
        if not line.strip() or line.strip().startswith("#"):
            continue
        assert line.count("=") == 1, f"papermill drops a line with more than one '=': {line!r}"
        m = PAPERMILL.match(line)
        assert m, line
        found[m["target"]] = m
    assert set(found) == set(CHAPTERS[chapter].defaults) | ({"FIGURES"} & set(found)), found
    for name, m in found.items():
        assert m["help"].strip(), f"{name} has no help"
        if name != "FIGURES":
            assert m["annotation"].strip() == PARAMETERS[name].kind.__name__, name   # papermill strips it
            assert ast.literal_eval(m["value"]) == CHAPTERS[chapter].defaults[name]


def test_defaults_are_valid():
    for c in CHAPTERS.values():
        assert check(c.number, **c.defaults) == c.defaults


@pytest.mark.parametrize("name, text, message", [
    ("K", "1", "K must be an integer >= 2; got '1'"),
    ("K", "2.5", "K must be an integer >= 2; got '2.5'"),
    ("K", "1e3", "K must be an integer >= 2; got '1e3'"),
    ("EPS", "nan", "EPS must be a number in [0, 1]; got 'nan'"),
    ("EPS", "-0.1", "EPS must be a number in [0, 1]; got '-0.1'"),
    ("SEED", "-1", "SEED must be an integer >= 0; got '-1'"),
    ("N_MC", "10", "N_MC must be an integer in [100, 1e+07]; got '10'"),
    ("N_FREE", "5000", "N_FREE must be an integer in [50, 2000]; got '5000'"),
    ("Q", "1", "unknown parameter 'Q'"),
])
def test_bad_values_are_refused_with_the_range(name, text, message):
    with pytest.raises(ValueError) as e:
        parse(name, text)
    assert message in str(e.value)


def test_k_above_a_chapter_maximum_names_the_chapter():
    assert parse("K", "100000", chapters=[1, 2, 3]) == 100_000
    with pytest.raises(ValueError, match=r"\[2, 1000\] for chapter 4 .* CHAPTERS=1,2,3"):
        parse("K", "1001")
    with pytest.raises(ValueError, match=r"\[2, 100000\] for chapter 1"):
        parse("K", "100001", chapters=[1])


def test_a_parameter_no_selected_chapter_reads_is_refused():
    with pytest.raises(ValueError, match="N_MC is read only by chapter"):
        parse("N_MC", "1000", chapters=[1, 4])


def test_parse_all_is_canonical_and_refuses_repeats():
    assert list(parse_all(["SEED=3", "EPS=0.5", "K=7"])) == ["K", "EPS", "SEED"]
    with pytest.raises(ValueError, match="set twice"):
        parse_all(["K=3", "K=4"])
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_all(["K"])
    assert run_folder_name(parse_all(["EPS=0.05", "K=1000"])) == "K=1000_EPS=0.05"


def test_check_refuses_what_the_runner_refuses():
    with pytest.raises(ValueError, match="EPS must be"):
        check(2, K=10, EPS=True, SEED=0)
    with pytest.raises(ValueError, match="K must be an integer in"):
        check(4, K=5000, EPS=0.1, SEED=0, N_FREE=400, N_TRAIN=2000, N_TEST=2000)
    with pytest.raises(ValueError, match="missing"):
        check(1, K=10)


def test_every_parameter_is_read_by_some_chapter():
    read = {n for c in CHAPTERS.values() for n in c.defaults}
    assert read == set(PARAMETERS)


def _make(*args, env=None):
    """``make`` in the checkout with this interpreter and its venv, which it must not set up again (``-o``)."""
    venv, minor = Path(sys.prefix), "%d.%d" % sys.version_info[:2]
    return subprocess.run(["make", "--no-print-directory", "-o", f"{venv}/.installed-{minor}", *args,
                           f"PYTHON={sys.executable}", f"VENV={venv}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)


def test_values_are_data_never_shell(tmp_path):
    """Whatever a value holds reaches the runner as typed (make hands it over through the environment, never a
    command line): each of these is refused with the message of any bad value, and none runs."""
    mark = tmp_path / "ran"
    values = {"K": f"10;touch {mark}1;", "EPS": f"$(shell touch {mark}2)", "SEED": f"`touch {mark}3`",
              "N_DRAWS": "1'0\"0", "N_MC": "1000 #", "CHAPTERS": f"3 $$(touch {mark}4)", "BOOK": f"0\ntouch {mark}5"}
    r = _make("run", *(f"{k}={v}" for k, v in values.items()), "k=3")
    assert r.returncode == 2, r.stdout + r.stderr
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")]
    for name, value in values.items():
        if name == "CHAPTERS":
            assert f"CHAPTERS must list chapter numbers among 0, 1, 2, 3, 4, 5 (e.g. CHAPTERS=1,2,3); got {value!r}" \
                in r.stderr
        elif name == "BOOK":
            assert f"BOOK must be an integer in [0, 1]; got {value!r}" in r.stderr
        else:
            assert f"{name} must be {PARAMETERS[name].valid()}; got {value!r}" in r.stderr, name
    assert "unknown parameter 'k'" in r.stderr                # a name that is no parameter: refused, not dropped
    assert len(errors) == len(values) + 1 and all(e.endswith("no notebook was run") for e in errors)
    assert not list(tmp_path.iterdir()), "a value ran as a command"
    env = {**os.environ, "K": f"$(touch {mark}6)", "EPS": f"0.1\ntouch {mark}7"}     # from the environment: the same
    r = _make("run", "CHAPTERS=2", env=env)
    assert r.returncode == 2 and f"got {env['K']!r}" in r.stderr and f"got {env['EPS']!r}" in r.stderr
    assert not list(tmp_path.iterdir())


def test_a_value_in_the_environment_is_honoured_or_refused(capsys):
    from tools.run_notebooks import main

    assert main(["--environment", "--check"], environ={"K": "37", "CHAPTERS": "1", "DERIVATIONS_MAKE_NAMES": "CHAPTERS"}) == 0
    out = capsys.readouterr().out
    assert out.startswith("values: K=37; K from the environment; would run 1 notebook(s) (01_hard_labels), with the book")
    assert main(["--environment", "--check"], environ={"K": "37", "BOOK": "0", "DERIVATIONS_MAKE_NAMES": "K BOOK"}) == 0
    assert "without the book" in capsys.readouterr().out
    # a target that reads no parameter refuses one, from the command line or the environment
    assert main(["--refuse-values", "make test"], environ={"EPS": "0.2"}) == 2
    err = capsys.readouterr().err
    assert "make test checks the committed notebooks at their defaults; it does not use EPS=0.2 (from the environment)" \
        in err and "make run EPS=0.2" in err
    assert main(["--refuse-values", "make test"], environ={"HOME": "/root"}) == 0


def test_the_readme_table_states_the_registry():
    """README's parameter table is a second copy of the registry: it must state the same ranges and defaults."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| `")}
    for name, p in PARAMETERS.items():
        row = next((r for key, r in rows.items() if f"`{name}`" in key), None)
        assert row is not None, f"README has no row for {name}"
        for c in CHAPTERS.values():
            if name in c.defaults:
                v = c.defaults[name]
                assert (f"{v:,}" if isinstance(v, int) else f"{v:g}") in row, (name, v)
                if name == "K":
                    assert f"{c.k_max:,}" in row, (name, c.k_max)
        if p.high is not None and name != "EPS":
            assert f"{int(p.low):,} to {int(p.high):,}" in row, (name, p.low, p.high)


def test_every_readme_example_is_accepted_or_refused_as_shown(capsys):
    """Every `make run ...` of the README (read as `make sweep` reads it) passes the runner's checks as written, or is
    refused with the very line the README shows; `make sweep` runs them."""
    from audit.sweep import readme_examples
    from tools.run_notebooks import main

    examples = readme_examples()
    assert sum(bool(a) for a, _ in examples) >= 3, f"too few examples found in README.md: {examples}"
    for args, error in examples:
        environ = dict(a.split("=", 1) for a in args)
        environ["DERIVATIONS_MAKE_NAMES"] = " ".join(environ)
        code = main(["--environment", "--check"], environ=environ)
        out = capsys.readouterr()
        if error is None:
            assert code == 0 and out.out.startswith("values: "), f"make run {' '.join(args)}: {out.err}"
        else:
            assert code == 2 and error in out.err.splitlines(), f"make run {' '.join(args)}: {out.err}"
