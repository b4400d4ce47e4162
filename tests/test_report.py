"""`soft-targets` (`python -m derivations`): table, JSON, help with its commands, a chapter refused with the choices,
and a non-zero exit on a failing claim."""
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

import derivations.chapters
from derivations import cli
from derivations.engine.finding import Finding, Kind
from derivations.engine.registry import REGISTRY, Claim, Evidence, Verdict, claims
from derivations.engine.report import SCHEMA


def test_cli_runs_as_a_module_and_exits_zero():
    r = subprocess.run([sys.executable, "-m", "derivations", "--chapter", "1"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    for c in claims(1):
        assert c.id in r.stdout
    assert "0 failed" in r.stdout.splitlines()[-1]


def test_cli_help(capsys):
    """--help lists the commands, each with its line, and says where the mutation audit is; each command has its
    own --help."""
    with pytest.raises(SystemExit) as e:
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0 and "verdict" in out and "make mutants" in out
    for command, line in cli.COMMANDS.items():
        assert re.search(rf"^\s+{command}\s+{re.escape(line.split()[0])}", out, re.M), (command, out)
    for command in cli.COMMANDS:
        with pytest.raises(SystemExit) as e:
            cli.main([command, "--help"])
        assert e.value.code == 0 and f"soft-targets {command}" in capsys.readouterr().out


def test_the_console_command_is_installed():
    """[project.scripts] names soft-targets, and the venv has it (pip installed the package)."""
    script = Path(sys.executable).with_name("soft-targets")
    r = subprocess.run([script, "--chapter", "9"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--chapter: invalid choice:" in r.stderr, r.stderr


def test_cli_exits_nonzero_when_a_claim_fails(capsys):
    # chapter 0, the overview, has no claims of its own: a test's claim is alone there (--chapter takes a chapter found)
    bad = Claim("zz.bad", 0, "test", 1, "a claim whose numeric check fails", "x", stated=Verdict.HOLDS,
                check=lambda f: Evidence(holds=True, findings=[Finding("numeric", "deliberately failing", False)]))
    REGISTRY[bad.id] = bad
    try:
        assert cli.main(["--chapter", "0"]) == 1
        out = capsys.readouterr().out
        assert "FAILED: numeric check failed: deliberately failing" in out
    finally:
        del REGISTRY[bad.id]


def test_cli_unknown_chapter_is_refused_with_the_chapters(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--chapter", "42"])
    err = capsys.readouterr().err
    # the chapters found, not a list of ours (argparse quotes them on some Pythons)
    choices = re.search(r"argument --chapter: invalid choice: '?42'? \(choose from (.*)\)", err)
    assert e.value.code == 2 and choices, err
    assert re.findall(r"\d+", choices[1]) == [str(c) for c in derivations.chapters.CHAPTERS], err


def validate(value, schema, path="$"):
    """The subset of JSON Schema that SCHEMA uses: type (one or several), enum, required, properties, items."""
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
    if "enum" in schema:
        assert value in schema["enum"], f"{path}: {value!r} not in {schema['enum']}"
    if "type" in schema:
        allowed = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        ok = False
        for t in allowed:
            if t == "integer":
                ok |= isinstance(value, int) and not isinstance(value, bool)
            elif t == "number":
                ok |= isinstance(value, (int, float)) and not isinstance(value, bool)
            else:
                ok |= isinstance(value, types[t]) and not (t != "boolean" and isinstance(value, bool))
        assert ok, f"{path}: {value!r} is not {allowed}"
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{path}: missing {key}"
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                validate(value[key], sub, f"{path}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            validate(item, schema["items"], f"{path}[{i}]")


def test_json_report_follows_its_schema(capsys):
    assert cli.main(["--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    validate(doc, SCHEMA)
    rows = {r["id"]: r for r in doc["claims"]}
    assert set(rows) == {c.id for c in claims()}
    for r in rows.values():
        assert r["stated_verdict"] == r["computed_verdict"]
        assert r["findings"] and all(f["kind"] in get_args(Kind) for f in r["findings"])
        if r["computed_verdict"] not in ("holds", "undecided"):           # undecided: nothing refutes it
            ce = r["counterexample"]
            assert ce is not None and ce["printed"] != ce["correct"]
    ce = rows["ch1.loss_approx_max"]["counterexample"]
    assert ce["K"] == 3 and ce["z"] == [-20.0, -40.0, -40.0] and ce["printed"] == 60.0
    assert rows["ch2.loss_squared"]["corrected"] and rows["ch1.loss_others_zero"]["assumption"] and doc["ok"] is True
    for forbidden in ({"claims": [{"id": 3}], "ok": True}, {"claims": [], "ok": "yes"}):        # the validator can fail
        with pytest.raises(AssertionError):
            validate(forbidden, SCHEMA)


def _undecided(stated: Verdict) -> Claim:
    """A statistical claim whose interval at the stated false-alarm probability straddles its claimed side."""
    from derivations.engine.stats import interval_finding

    straddles = interval_finding("smoothing minus hard labels, test ECE, is negative", -0.02, 0.01, "<",
                                 bound="z-test at false-alarm 1e-6")
    return Claim("zz.undecided", 0, "test", 1, "a statistical claim the evidence cannot decide", "x", stated=stated,
                 check=lambda f: Evidence(holds=straddles.ok, findings=[straddles]))


def test_cli_reports_an_undecided_claim_as_undecided(capsys):
    REGISTRY["zz.undecided"] = _undecided(Verdict.UNDECIDED)
    try:
        assert cli.main(["--chapter", "0"]) == 0
        table = capsys.readouterr().out
        assert "zz.undecided" in table and " undecided " in table and "erratum" not in table
        assert table.splitlines()[-1] == "1 claims: 1 undecided. 1 checked ok, 0 failed."
        assert "statistical tests at stated false-alarm: undecided" in table
        assert cli.main(["--json", "--chapter", "0"]) == 0
        doc = json.loads(capsys.readouterr().out)
        validate(doc, SCHEMA)
        (row,) = doc["claims"]
        assert doc["ok"] and row["computed_verdict"] == "undecided" and row["counterexample"] is None
        assert [(f["kind"], f["ok"], f["undecided"]) for f in row["findings"]] == [("statistical", False, True)]
    finally:
        del REGISTRY["zz.undecided"]
