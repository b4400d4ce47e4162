"""The verification report: every claim, its place, stated and computed verdict, formulas and evidence.

:func:`as_rows` gives one dict per claim, in the shape :data:`SCHEMA` describes
(a JSON Schema); ``python -m derivations --json`` prints them, with every text as
written (Markdown with LaTeX math), and :func:`format_table` the terminal table,
with every text in its plain form (:func:`derivations.engine.text.plain`, made
from the same source).
"""
from __future__ import annotations

import json

from derivations.engine.registry import Outcome, Verdict, claims, run_all
from derivations.engine.text import plain

__all__ = ["SCHEMA", "collect", "as_rows", "format_table", "as_json", "describe_schema"]

_VERDICTS = [v.value for v in Verdict]
_NULLABLE_STRING = {"type": ["string", "null"]}

#: The shape of ``python -m derivations --json`` (JSON Schema, draft 2020-12).
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "python -m derivations --json",
    "type": "object",
    "required": ["claims", "ok"],
    "properties": {
        "ok": {"type": "boolean", "description": "every claim's evidence supports its verdict, and it is the stated one"},
        "claims": {"type": "array", "items": {
            "type": "object",
            "required": ["id", "chapter", "section", "order", "place", "source", "title", "stated_verdict",
                         "computed_verdict", "printed", "corrected", "assumption", "remark", "symbolic",
                         "max_numeric_error", "findings", "counterexample", "ok", "problems", "seconds"],
            "properties": {
                "id": {"type": "string", "description": "claim id, e.g. ch1.loss_approx_max"},
                "chapter": {"type": "integer"},
                "section": {"type": "string", "description": "the note's section"},
                "order": {"type": "integer", "description": "displayed equation number in the section (added results continue the count)"},
                "place": {"type": "string", "description": "chN eqM for the note's equations, chN +M for added results"},
                "source": {"enum": ["note", "added"]},
                "title": {"type": "string"},
                "stated_verdict": {"enum": _VERDICTS, "description": "the referee's verdict"},
                "computed_verdict": {"enum": _VERDICTS, "description": "the verdict the checks support ('undecided': "
                                     "a statistical claim the evidence neither confirms nor refutes at its "
                                     "stated false-alarm probability, never an erratum)"},
                "printed": {"type": "string", "description": "LaTeX as the note prints it (the statement, for added results)"},
                "corrected": {**_NULLABLE_STRING, "description": "corrected or general form (LaTeX)"},
                "assumption": {**_NULLABLE_STRING, "description": "what a holds-under-an-assumption verdict relies on"},
                "remark": {"type": "string"},
                "symbolic": {"type": "string", "description": "what the symbolic checks established, and for which K"},
                "max_numeric_error": {"type": ["number", "null"]},
                "findings": {"type": "array", "items": {
                    "type": "object", "required": ["kind", "statement", "ok", "undecided", "asserted", "observed",
                                                   "bound", "error"],
                    "properties": {"kind": {"enum": ["symbolic", "numeric", "statistical"]}, "statement": {"type": "string"},
                                   "ok": {"type": "boolean"},
                                   "undecided": {"type": "boolean", "description": "a statistical finding whose "
                                                 "interval holds both the claimed side and its negation"},
                                   "asserted": {"type": "boolean", "description": "false for a finding only shown "
                                                "(it does not decide the verdict)"},
                                   "observed": {"type": "string", "description": "what was measured or computed, as "
                                                "written (Markdown; empty when the statement says it all)"},
                                   "bound": {"type": "string", "description": "what decided it: the tolerance, the "
                                             "interval's rule or the false-alarm probability, as written"},
                                   "error": {"type": ["number", "null"]}}}},
                "counterexample": {"type": ["object", "null"], "required": ["quantity", "K", "z", "parameters",
                                                                            "note", "printed", "correct"],
                                   "properties": {"quantity": {"type": "string"},
                                                  "K": {"type": ["integer", "null"]},
                                                  "z": {"type": ["array", "null"], "items": {"type": "number"}},
                                                  "parameters": {"type": "object"},
                                                  "note": {"type": "string"},
                                                  "printed": {"type": "number"}, "correct": {"type": "number"}}},
                "ok": {"type": "boolean"},
                "problems": {"type": "array", "items": {"type": "string"}},
                "seconds": {"type": "number", "description": "time the checks took (varies between runs)"},
            },
        }},
    },
}


def describe_schema() -> str:
    """One line per field of a claim in the JSON report (for ``--help``)."""
    props = SCHEMA["properties"]["claims"]["items"]["properties"]
    lines = []
    for name, p in props.items():
        kind = p.get("type") or "one of " + ", ".join(map(str, p["enum"]))
        lines.append(f"  {name} ({'/'.join(kind) if isinstance(kind, list) else kind}): {p.get('description', '')}".rstrip(": "))
    return "\n".join(lines)


def collect(chapter: int | None = None, jobs: int = 1) -> list[tuple[Outcome, float]]:
    """Run every claim (optionally of one chapter) in ``jobs`` processes; pair each outcome with the seconds
    its check took."""
    return [(o, o.evidence.seconds or 0.0) for o in run_all(claims(chapter), jobs)]


def as_rows(results: list[tuple[Outcome, float]]) -> list[dict]:
    """One dict per claim, in the shape of :data:`SCHEMA`."""
    rows = []
    for o, secs in results:
        c, e = o.claim, o.evidence
        rows.append({
            "id": c.id,
            "chapter": c.chapter,
            "section": c.section,
            "order": c.order,
            "place": c.place,
            "source": c.source,
            "title": c.title,
            "stated_verdict": c.stated.value,
            "computed_verdict": o.verdict.value,
            "printed": c.printed,
            "corrected": c.corrected,
            "assumption": c.assumption,
            "remark": c.remark,
            "symbolic": o.symbolic_summary,
            "max_numeric_error": o.max_numeric_error,
            "findings": [{"kind": f.kind, "statement": f.statement, "ok": f.ok, "undecided": f.undecided,
                          "asserted": f.asserted, "observed": f.observed, "bound": f.bound, "error": f.error}
                         for f in e.findings],
            "counterexample": e.counterexample.as_dict() if e.counterexample else None,
            "ok": o.ok,
            "problems": o.problems,
            "seconds": round(secs, 3),
        })
    return rows


def format_table(rows: list[dict]) -> str:
    """A fixed-width table for the terminal, with a closing summary line."""
    w_id = max([len("claim")] + [len(r["id"]) for r in rows])
    w_sym = max([len("symbolic check")] + [len(r["symbolic"]) for r in rows])
    head = f"{'claim':<{w_id}} {'place':<10} {'verdict':<26} {'symbolic check':<{w_sym}} {'max num. err':>12}  status"
    lines = [head + "  what", "-" * (len(head) + 6)]
    for r in rows:
        err = "-" if r["max_numeric_error"] is None else f"{r['max_numeric_error']:.1e}"
        status = "ok" if r["ok"] else "FAILED: " + "; ".join(plain(p) for p in r["problems"])
        lines.append(f"{r['id']:<{w_id}} {r['place']:<10} {r['computed_verdict']:<26} {r['symbolic']:<{w_sym}} "
                     f"{err:>12}  {status:<6}  {plain(r['title'])}")
    n_bad = sum(not r["ok"] for r in rows)
    counts = {v.value: sum(r["computed_verdict"] == v.value for r in rows) for v in Verdict}
    summary = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    lines += ["", f"{len(rows)} claims: {summary}. {len(rows) - n_bad} checked ok, {n_bad} failed."]
    return "\n".join(lines)


def as_json(rows: list[dict]) -> str:
    """The rows as a JSON document ``{"claims": [...], "ok": bool}``."""
    return json.dumps({"claims": rows, "ok": all(r["ok"] for r in rows)}, indent=2)
