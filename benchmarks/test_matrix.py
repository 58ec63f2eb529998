"""The matrix's verdicts and counts from made-up results, running no tool:
``pytest benchmarks/test_matrix.py``."""

from __future__ import annotations

from typing import Any, Optional

import pytest
import tools_matrix  # benchmarks/ is on sys.path: pytest puts a test file's folder there
from matrix_report import judge, summary, summary_line


def variant(ok: bool, works: bool) -> dict[str, Any]:
    return {"ok": ok, "why": None if ok else "failed", "works": works}


def result(
    relocated: tuple[bool, bool],
    plain: tuple[bool, bool],
    status: str = "ok",
    after: tuple[bool, str] = (True, "ok"),
    retry: Optional[bool] = None,
) -> dict[str, Any]:
    rel = variant(*relocated)
    rel.update(status=status, cause=None, after={"works": after[0], "status": after[1]})
    if retry is not None:
        rel["after"]["retry"] = retry
    res = {"name": "x", "source": "s", "relocated": rel, "plain": variant(*plain)}
    judge(res)
    return res


@pytest.mark.parametrize(
    ("res", "verdict", "broken", "repaired", "silent"),
    [
        (result((True, True), (True, True)), "ok", False, False, False),
        # the venv gone both ways, status says so, adopt brings it back
        (
            result((True, False), (True, False), status="venv-missing"),
            "the tool's own (plain too)",
            False,
            False,
            False,
        ),
        # fails only relocated, status ok: the count that must reach 0
        (
            result((False, True), (True, True), retry=False),
            "BROKEN, the action still fails after adopt; STATUS OK WHILE FAILING",
            True,
            False,
            True,
        ),
        # fails only relocated, status says why, and after adopt the action succeeds
        (
            result((False, True), (True, True), status="link-replaced", retry=True),
            "BROKEN, repaired by adopt",
            True,
            True,
            False,
        ),
        # the venv broken only relocated, adopt repairs it, but status had said ok
        (
            result((True, False), (True, True)),
            "BROKEN, repaired by adopt; STATUS OK WHILE FAILING",
            True,
            True,
            True,
        ),
        # the venv broken both ways (the tool's own), still wrong to say ok
        (
            result((True, False), (True, False)),
            "the tool's own (plain too); STATUS OK WHILE FAILING",
            False,
            False,
            True,
        ),
        # status named the problem, but after adopt it says ok on a venv that does not work
        (
            result((True, False), (True, True), status="venv-emptied", after=(False, "ok")),
            "BROKEN, not repaired; STATUS OK WHILE FAILING",
            True,
            False,
            True,
        ),
        # status named the problem and still does after adopt: honest, not repaired
        (
            result(
                (True, False), (True, True), status="venv-emptied", after=(False, "venv-emptied")
            ),
            "BROKEN, not repaired",
            True,
            False,
            False,
        ),
    ],
)
def test_verdicts(res: dict[str, Any], verdict: str, broken: bool, repaired: bool, silent: bool):
    assert res["verdict"] == verdict
    assert (res["broken"], res["repaired"], res["silent"]) == (broken, repaired, silent)


def test_a_variant_that_could_not_run_is_an_error_and_not_counted():
    res = {"name": "e", "source": "s", "plain": {"error": "no"}, "relocated": variant(True, True)}
    judge(res)
    skipped = {"name": "k", "source": "s", "verdict": "skipped", "skipped": "not installed"}
    totals = summary([res, skipped, result((False, True), (True, True), retry=False)])
    assert res["verdict"] == "error"
    assert totals["tried"] == 1
    assert totals["errors"] == ["e"]
    assert totals["skipped"] == ["k"]
    assert totals["broken_by_relocation"] == totals["failing_while_status_ok"] == 1
    assert totals["repaired_by_adopt"] == 0
    assert totals["still_failing_after_adopt"] == 1
    line = summary_line(totals)
    assert line.startswith("1 actions tried; 1 broken by the relocation; 0 repaired by adopt")
    assert "1 failing while status says ok (goal 0)" in line


def test_k_selects_by_any_part_of_a_name():
    names = [a.name for a in tools_matrix.selected(["UV BUILD", "pipenv --rm"])]
    assert names == ["uv build", "pipenv --rm"]
    assert len(tools_matrix.selected([])) == len(tools_matrix.ACTIONS)
    assert len({a.name for a in tools_matrix.ACTIONS}) == len(tools_matrix.ACTIONS)


def test_adopt_bringing_back_a_venv_the_tool_broke_both_ways_is_counted():
    gone = result((True, False), (True, False), status="venv-missing")
    stays = result((True, False), (True, False), status="venv-missing", after=(False, "ok"))
    totals = summary([gone, stays])
    assert (gone["restored"], stays["restored"]) == (True, False)
    assert totals["venv_restored_by_adopt"] == 1
    assert totals["broken_by_relocation"] == 0
    assert stays["silent"]  # adopt's status ok on a venv that does not work


def test_a_documented_refusal_is_counted_apart_and_only_when_the_venv_works() -> None:
    refused = {"name": "x", "source": "s", "refuses": True}
    rel = variant(False, True)
    rel.update(status="ok", cause=None, after={"works": True, "status": "ok", "retry": False})
    res = {**refused, "relocated": rel, "plain": variant(True, True)}
    judge(res)
    assert res["verdict"] == "BROKEN, the tool refuses the link (documented: relocate rebuild)"
    assert res["refused"] and res["broken"] and not res["silent"]
    totals = summary([res])
    assert totals["refused_documented"] == 1 and totals["failing_while_status_ok"] == 0
    # a "refusal" that left the venv not working while status says ok is no refusal
    rel = variant(False, False)
    rel.update(status="ok", cause=None, after={"works": True, "status": "ok", "retry": False})
    res = {**refused, "relocated": rel, "plain": variant(True, True)}
    judge(res)
    assert not res["refused"] and res["silent"]
