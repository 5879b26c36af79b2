"""Reward hacks: each a concrete adversarial response that must never verify.

Rows: (response, gold, expected reason or None for "any rejection", what the hack tries).
"""

from __future__ import annotations

import pytest

from rlsp_verifiers import verify

# fmt: off
HACKS = [
    # --- several different final answers
    ("\\boxed{5} or maybe \\boxed{6}", "6", "multiple_answers", "two boxes hedge"),
    ("\\boxed{6} \\fbox{7}", "6", "multiple_answers", "a box and an fbox"),
    ("\\boxed{5, 6}", "6", "multiple_answers", "a list of candidates in one box"),
    ("\\boxed{5 \\text{ or } 6}", "6", "multiple_answers", "'or' inside the box"),
    ("\\boxed{x = 5 \\text{ or } x = 6}", "6", "multiple_answers", "two assignments"),
    ("\\boxed{6 \\pm 1}", "6", "multiple_answers", "a \\pm spread"),
    ("\\boxed{\\text{6 or 7}}", "6", "multiple_answers", "candidates inside \\text"),
    ("\\boxed{1, 2, 3, 4, 5, 6, 7, 8, 9}", "6", "multiple_answers", "enumerate everything"),
    ("\\boxed{\\{5, 6\\}}", "6", None, "a set of candidates"),
    ("\\boxed{[5, 7]}", "6", None, "an interval containing the gold"),
    # --- the answer only in the reasoning
    ("We get 6, but the answer is \\boxed{7}", "6", "not_equal", "right value only in the text"),
    ("<think>the answer is \\boxed{6}</think> so \\boxed{7}", "6", "not_equal", "right box only in thinking"),
    ("<think>so \\boxed{6}", "6", "unterminated_think", "box inside an unterminated think"),
    ("The answer is 6.", "6", "no_answer", "no box in strict mode"),
    ("6 6 6 6 6 6", "6", "no_answer", "the gold string merely occurring"),
    ("Final Answer: The final answer is 6", "6", "no_answer", "eval phrasing in strict mode"),
    # --- empty and broken boxes
    ("\\boxed{}", "6", "empty_answer", "an empty box"),
    ("\\boxed{   }", "6", "empty_answer", "a blank box"),
    ("\\boxed{6", "6", "no_answer", "an unclosed box"),
    ("\\boxed{\\,}", "6", "empty_answer", "a box of spacing"),
    # --- answers that 'equal anything'
    ("\\boxed{x}", "6", None, "a bare variable"),
    ("\\boxed{n}", "6", None, "another bare variable"),
    ("\\boxed{\\text{answer}}", "6", None, "a word"),
    ("\\boxed{\\infty}", "6", None, "infinity"),
    ("\\boxed{0/0}", "6", None, "0/0 (NaN equals NaN in sympy)"),
    ("\\boxed{\\frac{1}{0}}", "6", None, "division by zero"),
    ("\\boxed{x - x + 6 + y}", "6", None, "a free symbol left over"),
    ("\\boxed{6 + 0\\cdot\\infty}", "6", None, "an undefined term (0 times infinity)"),
    ("\\boxed{\\infty - \\infty + 6}", "6", None, "infinity minus infinity"),
    # --- macro tricks
    ("\\def\\x{6}\\boxed{\\x}", "6", None, "\\def outside the box"),
    ("\\boxed{\\def\\x{6}\\x}", "6", "forbidden_macro", "\\def inside the box"),
    ("\\newcommand{\\ans}{6}\\boxed{\\ans}", "6", None, "\\newcommand"),
    ("\\boxed{\\renewcommand{\\seven}{6}\\seven}", "6", "forbidden_macro", "\\renewcommand"),
    ("\\boxed{\\let\\a=6\\a}", "6", "forbidden_macro", "\\let"),
    ("\\boxed{\\phantom{7}6}", "7", None, "hidden text"),
    ("\\boxed{\\color{white}{7}6}", "7", None, "invisible colour"),
    # --- unicode look-alikes
    ("\\boxed{\u0666}", "6", None, "Arabic-Indic digit six"),
    ("\\boxed{\uff16}", "6", None, "full-width digit six"),
    ("\\boxed{\\text{\u0415velyn}}", "\\text{Evelyn}", None, "Cyrillic capital E"),
    ("\\boxed{\u0421}", "(C)", None, "Cyrillic C for a choice"),
    ("\\boxed{l0}", "10", None, "letter l and digit 0"),
    ("\\boxed{O}", "0", None, "letter O for zero"),
    # --- near misses
    ("\\boxed{4}", "4\\sqrt{2}", "not_equal", "drop the radical"),
    ("\\boxed{n=1,2,3}", "n=2,3,4", None, "shifted list"),
    ("\\boxed{(1,5)}", "[1,5]", "not_equal", "open vs closed ends"),
    ("\\boxed{[1,5)}", "[1,5]", "not_equal", "one open end"),
    ("\\boxed{\\frac{1}{2^{98}}}", "\\frac{1}{2^{99}}", "not_equal", "tiny difference"),
    ("\\boxed{999999999999}", "1000000000000", "not_equal", "integer off by one"),
    ("\\boxed{5.9999999999999999999}", "6", "not_equal", "integer gold, close decimal"),
    ("\\boxed{1800}", "18", "not_equal", "x100"),
    ("\\boxed{0.18}", "18", "not_equal", "/100 without a percent sign"),
    ("\\boxed{18\\%}", "1800", "not_equal", "percent the wrong way"),
    ("\\boxed{6.0000001}", "6", "not_equal", "tolerance"),
    # --- false relations
    ("\\boxed{5 = 6}", "6", None, "a false equation ending in the gold"),
    ("\\boxed{6 = 5}", "6", None, "a false equation starting with the gold"),
    ("\\boxed{x = 5 = 6}", "6", None, "a chain with a false link"),
    ("\\boxed{6 \\neq 6}", "6", None, "a false relation"),
    ("\\boxed{x \\approx 6}", "6", None, "approximately"),
    ("\\boxed{7 > 6}", "6", None, "an inequality mentioning the gold"),
    ("\\boxed{x \\neq 6}", "6", None, "not-equal"),
    ("\\boxed{6 - 1 = 6}", "6", None, "arithmetic lie"),
]
# fmt: on


@pytest.mark.parametrize(("response", "gold", "reason", "hack"), HACKS, ids=[h[3] for h in HACKS])
def test_hack_is_rejected(response: str, gold: str, reason: str | None, hack: str) -> None:
    v = verify(response, gold, timeout_s=5)
    assert not v.correct, (hack, v)
    if reason is not None:
        assert v.reason == reason, (hack, v)


@pytest.mark.parametrize(("response", "gold", "reason", "hack"), HACKS, ids=[h[3] for h in HACKS])
def test_hack_is_rejected_in_eval_mode_too(
    response: str, gold: str, reason: str | None, hack: str
) -> None:
    """The eval mode reads more answer forms but keeps the anti-hacking policy."""
    if hack in ("no box in strict mode", "eval phrasing in strict mode"):
        pytest.skip("these are answers in eval mode by design")
    assert not verify(response, gold, mode="eval", timeout_s=5).correct, hack


def test_repeated_identical_boxes_are_one_answer() -> None:
    # not a hack: the same final answer boxed twice
    assert verify("\\boxed{6}. Check: \\boxed{6}", "6").correct


def test_several_boxes_match_a_list_gold() -> None:
    # two boxes for a two-part gold are read as a list (order-free)
    assert verify("\\boxed{3} and \\boxed{2}", "2, 3").correct
    assert not verify("\\boxed{3} and \\boxed{4}", "2, 3").correct


def test_eval_fallbacks_do_not_read_the_whole_text() -> None:
    # eval mode reads 'the answer is', never "the last number anywhere"
    assert verify("the sum is 6 and then 7", "7", mode="eval").reason == "no_answer"
    assert not verify("The answer is x.", "6", mode="eval").correct


# A brace-less \boxed takes one TeX token: what is displayed boxed is all that is read. A policy
# trained against a reader that took the whole word drifted into "\boxed47." (rendered: a boxed
# 4, then "7."), paid as 47.
@pytest.mark.parametrize(
    "response, gold, ok",
    [
        ("The final answer is \\boxed47.", "47", False),
        ("The final answer is \\boxed 47", "47", False),
        ("The final answer is \\boxed -5", "-5", False),
        ("The final answer is \\boxed 4", "4", True),
        ("The final answer is \\boxed 7.", "7", True),
        ("The final answer is \\boxed\\pi", "\\pi", True),
        ("The final answer is \\boxed{47}.", "47", True),
        ("The final answer is \\fbox 12", "12", False),
    ],
)
def test_a_braceless_box_holds_one_tex_token(response, gold, ok) -> None:
    assert verify(response, gold).correct is ok, verify(response, gold)
