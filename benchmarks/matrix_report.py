"""The verdicts and the report of ``tools_matrix.py``, from its results.

A result is a dict per action: ``name``, ``source``, and ``plain`` and ``relocated``,
each with ``ok`` (the action and its check succeeded), ``why``, ``works`` (the venv
works afterwards), ``why_not_working``, or ``error`` (the variant could not run);
``relocated`` also has ``status``, ``cause`` and ``after`` (the same after ``relocate
adopt``, with ``retry`` when the action ran again). :func:`judge` adds the verdict.
"""

from __future__ import annotations

from typing import Any


def judge(res: dict[str, Any]) -> None:
    """The verdict of one action, from its two variants."""
    p, r = res["plain"], res["relocated"]
    res.update(broken=False, repaired=False, silent=False, adopt_broke=False)
    res.update(still_fails=False, restored=False, refused=False)
    if p.get("error") or r.get("error"):
        res["verdict"] = "error"
        return
    after = r["after"]
    broken = (not r["ok"] and p["ok"]) or (not r["works"] and p["works"])
    res["broken"] = broken
    res["repaired"] = (
        broken and after["works"] and after["status"] == "ok" and after.get("retry") is not False
    )
    # status says ok while the venv does not work or the relocation failed the action;
    # after the repair too (adopt saying it is done, on a venv that does not work)
    # a documented refusal (the tool refuses the link, changes nothing, and `relocate
    # rebuild` does what was asked): status ok is the truth about the venv
    res["refused"] = bool(res.get("refuses")) and broken and r["works"] and not r["ok"]
    res["silent"] = (
        r["status"] == "ok" and (not r["works"] or (not r["ok"] and p["ok"] and not res["refused"]))
    ) or (after["status"] == "ok" and not after["works"])
    res["adopt_broke"] = r["works"] and not after["works"]
    venv_back = after["works"] and after["status"] == "ok"
    res["restored"] = not r["works"] and venv_back
    res["still_fails"] = broken and venv_back and after.get("retry") is False
    if res["repaired"]:
        verdict = "BROKEN, repaired by adopt"
    elif res["refused"]:
        verdict = "BROKEN, the tool refuses the link (documented: relocate rebuild)"
    elif res["still_fails"]:
        verdict = "BROKEN, the action still fails after adopt"
    elif broken:
        verdict = "BROKEN, not repaired"
    elif r["ok"] and r["works"]:
        verdict = "ok" if p["ok"] and p["works"] else "ok (plain fails)"
    else:
        verdict = "the tool's own (plain too)"
    if res["adopt_broke"]:
        verdict += "; adopt left the venv not working"
    if res["silent"]:
        verdict += "; STATUS OK WHILE FAILING"
    res["verdict"] = verdict


def cells(res: dict[str, Any]) -> list[str]:
    p, r = res.get("plain") or {}, res.get("relocated") or {}
    if "ok" not in p or "ok" not in r:
        why = res.get("skipped") or res.get("error") or p.get("error") or r.get("error")
        return [res["name"], "-", "-", "-", "-", f"{res['verdict']}: {why}"]
    after = r["after"]
    word = {True: "ok", False: "FAIL"}
    works = {True: "works", False: "BROKEN"}
    health = r["status"] + (f" ({r['cause']})" if r.get("cause") else "")
    repair = f"{works[after['works']]}, {after['status']}"
    if "retry" in after:
        repair += f", again: {word[after['retry']]}"
    return [
        res["name"],
        f"{word[r['ok']]} / {word[p['ok']]}",
        f"{works[r['works']]} / {works[p['works']]}",
        health,
        repair,
        res["verdict"],
    ]


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    tried = [r for r in results if r["verdict"] not in ("skipped", "error")]
    return {
        "tried": len(tried),
        "broken_by_relocation": sum(r["broken"] for r in tried),
        "repaired_by_adopt": sum(r["repaired"] for r in tried),
        "still_failing_after_adopt": sum(r["still_fails"] and not r["refused"] for r in tried),
        "refused_documented": sum(r["refused"] for r in tried),
        "venv_restored_by_adopt": sum(r["restored"] for r in tried),
        "failing_while_status_ok": sum(r["silent"] for r in tried),
        "tools_own_failures": sum(r["verdict"].startswith("the tool's own") for r in tried),
        "adopt_left_venv_not_working": sum(r["adopt_broke"] for r in tried),
        "errors": [r["name"] for r in results if r["verdict"] == "error"],
        "skipped": [r["name"] for r in results if r["verdict"] == "skipped"],
    }


def print_report(results: list[dict[str, Any]], totals: dict[str, Any]) -> None:
    head = [
        "action",
        "tool: reloc / plain",
        "venv: reloc / plain",
        "status",
        "after adopt",
        "verdict",
    ]
    rows = [cells(r) for r in results]
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head) - 1)]
    for row in [head, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1])
    print("\nwhy, where something failed:")
    for res in results:
        for variant in ("relocated", "plain"):
            v = res.get(variant) or {}
            after = v.get("after") or {}
            reasons = [
                ("", v.get("error")),
                ("", v.get("why")),
                ("venv: ", v.get("why_not_working")),
                ("after adopt, venv: ", after.get("why_not_working")),
                ("after adopt, again: ", after.get("retry_why")),
            ]
            for label, reason in reasons:
                if reason:
                    print(f"  {res['name']} [{variant}]: {label}{reason}")
    print()
    print(summary_line(totals))


def summary_line(totals: dict[str, Any]) -> str:
    parts = [
        f"{totals['tried']} actions tried",
        f"{totals['broken_by_relocation']} broken by the relocation",
        f"{totals['repaired_by_adopt']} repaired by adopt"
        f" ({totals['still_failing_after_adopt']} more whose venv adopt leaves working"
        " and ok, but whose action still fails)",
        f"{totals['refused_documented']} refusals of the link, documented with relocate rebuild",
        f"{totals['failing_while_status_ok']} failing while status says ok (goal 0)",
        f"{totals['tools_own_failures']} fail plain too (the tool's own)",
        f"adopt brought back {totals['venv_restored_by_adopt']} venvs that did not work",
    ]
    if totals["adopt_left_venv_not_working"]:
        parts.append(f"adopt left {totals['adopt_left_venv_not_working']} venvs not working")
    if totals["errors"]:
        parts.append(f"errors: {', '.join(totals['errors'])}")
    if totals["skipped"]:
        parts.append(f"skipped: {', '.join(totals['skipped'])}")
    return "; ".join(parts)
