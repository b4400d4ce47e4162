"""`python -m derivations`: table, JSON, help, and a non-zero exit on a failing claim."""
import json
import subprocess
import sys

from derivations import __main__ as cli
from derivations.registry import REGISTRY, Claim, Evidence, Fact, claims


def test_cli_runs_as_a_module_and_exits_zero():
    r = subprocess.run([sys.executable, "-m", "derivations", "--chapter", "1"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    for c in claims(1):
        assert c.id in r.stdout
    assert "0 failed" in r.stdout.splitlines()[-1]


def test_cli_table_lists_every_claim_of_every_chapter(capsys):
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    for c in claims():
        assert c.id in out
    assert f"{len(claims())} claims" in out and "0 failed" in out.splitlines()[-1]


def test_cli_json(capsys):
    assert cli.main(["--json", "--chapter", "1"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is True
    rows = {r["id"]: r for r in doc["claims"]}
    assert set(rows) == {c.id for c in claims(1)}
    assert rows["ch1.loss_approx_max"]["counterexample"]


def test_cli_help(capsys):
    try:
        cli.main(["--help"])
    except SystemExit as e:
        assert e.code == 0
    assert "verdict" in capsys.readouterr().out


def test_cli_exits_nonzero_when_a_claim_fails(capsys):
    bad = Claim("zz.bad", 99, "test", 1, "a claim whose numeric check fails", "x",
                check=lambda: Evidence(holds=True, facts=[Fact("numeric", "deliberately failing", False)]))
    REGISTRY[bad.id] = bad
    try:
        assert cli.main(["--chapter", "99"]) == 1
        out = capsys.readouterr().out
        assert "FAILED: numeric check failed: deliberately failing" in out
    finally:
        del REGISTRY[bad.id]


def test_cli_unknown_chapter_exits_2(capsys):
    assert cli.main(["--chapter", "42"]) == 2
