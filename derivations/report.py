"""The verification report: every claim, its place, verdict and the size of its checks."""
from __future__ import annotations

import json
import time

from .registry import Outcome, claims, run

__all__ = ["collect", "as_rows", "format_table", "as_json"]


def collect(chapter: int | None = None) -> list[tuple[Outcome, float]]:
    """Run every claim (optionally of one chapter); pair each outcome with its seconds."""
    out = []
    for c in claims(chapter):
        t = time.perf_counter()
        o = run(c)
        out.append((o, time.perf_counter() - t))
    return out


def as_rows(results: list[tuple[Outcome, float]]) -> list[dict]:
    """One dict per claim: the fields of the table and of ``--json``."""
    rows = []
    for o, secs in results:
        c = o.claim
        rows.append({
            "id": c.id,
            "chapter": c.chapter,
            "section": c.section,
            "order": c.order,
            "source": c.source,
            "title": c.title,
            "verdict": o.verdict.value,
            "assumption": c.assumption if o.verdict.name == "HOLDS_UNDER" else None,
            "symbolic": o.symbolic_summary,
            "max_numeric_error": o.max_numeric_error,
            "counterexample": str(o.evidence.counterexample) if o.evidence.counterexample else None,
            "ok": o.ok,
            "problems": o.problems,
            "seconds": round(secs, 3),
        })
    return rows


def format_table(rows: list[dict]) -> str:
    """A fixed-width table for the terminal, with a closing summary line."""
    head = f"{'claim':<24} {'place':<10} {'verdict':<26} {'symbolic check':<52} {'max num. err':>12}  status"
    lines = [head, "-" * len(head)]
    for r in rows:
        place = f"ch{r['chapter']} {'eq' if r['source'] == 'note' else '+'}{r['order']}"
        err = "-" if r["max_numeric_error"] is None else f"{r['max_numeric_error']:.1e}"
        status = "ok" if r["ok"] else "FAILED: " + "; ".join(r["problems"])
        lines.append(f"{r['id']:<24} {place:<10} {r['verdict']:<26} {r['symbolic']:<52} {err:>12}  {status}")
    n_bad = sum(not r["ok"] for r in rows)
    counts = {}
    for r in rows:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    summary = ", ".join(f"{v} {k}" for k, v in counts.items())
    lines += ["", f"{len(rows)} claims: {summary}. {len(rows) - n_bad} checked ok, {n_bad} failed."]
    return "\n".join(lines)


def as_json(rows: list[dict]) -> str:
    """The rows as a JSON document ``{"claims": [...], "ok": bool}``."""
    return json.dumps({"claims": rows, "ok": all(r["ok"] for r in rows)}, indent=2)
