"""Table tests of real answer forms (dataset golds and model-style outputs), one comment per row.

Each row: (answer as the model boxed it, gold as the dataset writes it, expected verdict).
"""

from __future__ import annotations

import pytest

from rlsp_verifiers import is_equivalent, verify

B = "\\boxed{{{}}}".format

# fmt: off
ACCEPT = [
    # --- integers
    ("1000", "1,000", "thousands separator in the gold (MATH)"),
    ("1,000", "1000", "thousands separator in the answer"),
    ("1{,}000", "1000", "LaTeX-braced thousands separator"),
    ("1,\\!000", "1000", "negative thin space inside the separator (MATH golds)"),
    ("12,345,678", "12345678", "several thousands groups"),
    ("007", "7", "leading zeros"),
    ("27", "27.0", "AMC23 golds are written as floats"),
    ("-3", "-3", "negative integer"),
    ("\\left(-3\\right)", "-3", "decorated parentheses"),
    ("$204$", "204", "math delimiters inside the box"),
    ("\\$18", "18", "money answer with a dollar sign (GSM8K)"),
    ("18 \\text{ dollars}", "18", "a trailing unit word"),
    ("42 inches", "42", "a trailing plain word unit"),
    ("5\\text{ cm}", "5", "a \\text unit"),
    ("5 \\text{ cm}^2", "5", "a squared unit"),
    ("9 \\text{cm}", "9\\text{ cm}", "units on both sides"),
    ("\\mbox{5}", "5", "\\mbox wrapper"),
    # --- decimals and scientific notation
    ("0.5", "\\frac{1}{2}", "decimal vs fraction"),
    (".5", "\\frac12", "decimal with no leading zero"),
    ("1.50", "1.5", "trailing zero"),
    ("1.5 \\times 10^{3}", "1500", "scientific notation with \\times"),
    ("1.5\\cdot 10^3", "1500", "scientific notation with \\cdot"),
    ("1.5e3", "1500", "e-notation"),
    ("2.5 \\times 10^{-3}", "0.0025", "negative exponent"),
    # --- fractions in every LaTeX form
    ("\\dfrac{3}{4}", "\\frac{3}{4}", "\\dfrac"),
    ("\\tfrac34", "\\frac{3}{4}", "\\tfrac with single-digit arguments"),
    ("\\frac34", "0.75", "\\frac with bare digits"),
    ("3/4", "\\frac{3}{4}", "slash fraction"),
    ("\\frac{6}{8}", "\\frac34", "unreduced fraction"),
    ("-\\frac{1}{2}", "\\frac{-1}{2}", "sign outside vs inside"),
    ("\\frac{-1}{2}", "-0.5", "negative fraction vs decimal"),
    ("2\\frac{1}{2}", "\\frac{5}{2}", "mixed number (MATH convention)"),
    ("\\frac{12}{5525}", "\\frac{12}{5,\\!525}", "separator inside a fraction (MATH gold)"),
    ("\\frac{1}{2004!}", "\\frac{1}{2004!}", "big factorial: exact string"),
    # --- percentages
    ("18\\%", "18", "a percent sign on the answer when the gold is the number of percent"),
    ("18", "18\\%", "the gold carries the percent sign"),
    ("0.18", "18\\%", "a fraction equal to the gold percentage"),
    ("50\\%", "50", "percent"),
    # --- radicals, pi, e
    ("2\\sqrt{2}", "\\sqrt{8}", "simplified radical"),
    ("\\sqrt8", "2\\sqrt2", "\\sqrt with a bare digit"),
    ("\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}", "rationalised denominator"),
    ("3", "\\sqrt[3]{27}", "cube root (gold as a root: symbolic equivalence)"),
    ("1+\\sqrt{2}", "\\sqrt{3+2\\sqrt{2}}", "denested radical (decided exactly)"),
    ("\\frac{3\\sqrt{3}}{2}", "\\frac{3}{2}\\sqrt3", "coefficient placement"),
    ("2\\pi", "\\pi\\cdot 2", "pi product order"),
    ("\\frac{\\pi}{4}", "0.25\\pi", "decimal coefficient of pi"),
    ("\\pi r^2", "r^2\\pi", "symbolic product"),
    ("e^{2}", "e^2", "Euler's number"),
    ("3\\ln 2", "\\ln 8", "logarithm rules"),
    ("3", "\\log_2 8", "log with a base (gold as a log)"),
    ("1", "\\sin^2 x + \\cos^2 x", "trigonometric identity (bounded simplify)"),
    ("\\frac{3}{4}\\pi", "\\frac{3}{4}\\pi\\text{ inches}", "unit after an expression"),
    # --- complex numbers
    ("1+2i", "2i+1", "complex: i is the imaginary unit when the gold is complex"),
    ("-i", "\\frac{1}{i}", "complex: 1/i = -i"),
    ("-3-4i", "(1-2i)^2", "complex arithmetic"),
    # --- degrees
    ("30^\\circ", "30", "degrees on the answer"),
    ("30", "30^{\\circ}", "degrees on the gold"),
    ("45\u00b0", "45", "unicode degree sign"),
    # --- text answers and multiple choice
    ("\\text{Evelyn}", "\\text{Evelyn}", "a name"),
    ("Evelyn", "\\text{Evelyn}", "name without \\text"),
    ("\\text{even}", "\\text{Even}", "case of words does not matter"),
    ("(C)", "\\text{(C)}", "multiple choice"),
    ("C", "(C)", "multiple choice without parentheses"),
    ("\\textbf{(C)}", "C", "bold choice"),
    # --- intervals and unions
    ("(-\\infty, 3]", "(-\\infty,3]", "half-open interval"),
    ("\\left[ 2, 5 \\right)", "[2,5)", "decorated interval"),
    ("(-\\infty,-2)\\cup(3,\\infty)", "(3,\\infty)\\cup(-\\infty,-2)", "union order does not matter"),
    ("x \\geq 5", "[5, \\infty)", "inequality vs interval"),
    ("[5,\\infty)", "x \\ge 5", "interval vs inequality"),
    ("5 \\le x", "x\\geq 5", "inequality written backwards"),
    ("-2 < x \\leq 3", "(-2, 3]", "double inequality"),
    ("x \\in [0, 1]", "[0,1]", "membership"),
    # --- sets, tuples, points
    ("\\{1, 2, 3\\}", "\\{3, 2, 1\\}", "sets are unordered"),
    ("\\{1, 1, 2\\}", "\\{1, 2\\}", "sets ignore repetition"),
    ("(3, \\frac{\\pi}{2})", "\\left( 3, \\frac{\\pi}{2} \\right)", "a point (MATH500 #1)"),
    ("(1, -2)", "(1,-2)", "ordered pair"),
    ("(0.5, 2)", "\\left(\\frac12, 2\\right)", "pair with equivalent entries"),
    # --- several roots
    ("2, 3", "3, 2", "roots in any order"),
    ("x=3 \\text{ or } x=2", "2, 3", "roots written as equations"),
    ("x = 2, x = 3", "2,3", "roots as a list of equations"),
    ("3 \\text{ and } 2", "2, 3", "roots joined by 'and'"),
    ("1+\\sqrt{19}, 1-\\sqrt{19}", "1 \\pm \\sqrt{19}", "\\pm in the gold"),
    ("x = 1 \\pm \\sqrt{19}", "1\\pm\\sqrt{19}", "\\pm in an equation"),
    ("\\{-2, 1+\\sqrt5, 1-\\sqrt5\\}", "\\{1\\pm\\sqrt{5},-2\\}", "\\pm inside a set (MATH gold)"),
    ("7, -2, -5", "7, -2, \\text{ and } -5", "', and' in a list gold"),
    # --- equations
    ("x = 3", "3", "an assignment for a value gold"),
    ("3", "x=3", "a value for an assignment gold"),
    ("x = \\frac{12}{4} = 3", "3", "a chain whose values all agree"),
    ("y = 2x + 3", "y=2x+3", "a line"),
    ("2x+3", "y = 2x+3", "right-hand side of the gold line"),
    ("y - 2x = 3", "y = 2x + 3", "an equation rearranged"),
    ("2y - 4x = 6", "y = 2x + 3", "an equation scaled"),
    # --- matrices and vectors
    ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "matrix"),
    ("\\begin{bmatrix} 0.5 & 2 \\\\ 3 & 4 \\end{bmatrix}", "\\begin{pmatrix}\\frac12&2\\\\3&4\\end{pmatrix}", "bmatrix vs pmatrix"),
    ("(-2,-14,-7)", "\\begin{pmatrix} -2 \\\\ -14 \\\\ -7 \\end{pmatrix}", "column vector as a tuple"),
    ("\\begin{pmatrix} 1/5 \\\\ -18/5 \\end{pmatrix}", "\\begin{pmatrix} \\frac15 \\\\ -\\frac{18}{5} \\end{pmatrix}", "vector entries"),
    # --- base-n numbers
    ("1011_2", "1011_2", "base 2"),
    ("1011", "1011_2", "the same digits without the base subscript"),
    ("1011_{2}", "1011_2", "braced subscript"),
    # --- polynomials and expressions
    ("x^2+2x+1", "(x+1)^2", "expanded polynomial"),
    ("\\frac{x^2-1}{x-1}", "x+1", "rational function (cancel decides)"),
    ("2(x+1)", "2x+2", "distributed"),
    ("\\frac{1}{2^{98}}", "2^{-98}", "exact small value"),
    ("1267650600228229401496703205376", "2^{100}", "big power exactly"),
    ("3628800", "10!", "factorial"),
    ("120", "\\binom{10}{3}", "binomial"),
    # --- decoration
    ("\\displaystyle\\frac{1}{2}", "\\frac12", "\\displaystyle"),
    ("\\frac{1}{2}\\,", "0.5", "thin space"),
    ("\\!\\frac{1}{2}", "0.5", "negative thin space"),
    ("\\left(\\frac{1}{2}\\right)", "\\frac{1}{2}", "\\left( \\right)"),
    ("\\frac{1}{2}.", "\\frac12", "a trailing full stop"),
    ("\\boxed{7}", "7", "a box inside the box"),
    ("\u22122", "-2", "unicode minus sign"),
    # --- forms found by probing after the first benchmark
    ("\\text{(A)}\\ 5", "\\text{(A)}", "a choice followed by its value"),
    ("\\textbf{(B) }12", "12", "the value of a bold choice"),
    ("f(x) = 2x", "2x", "a function definition for an expression gold"),
    ("\\mathbb{R}", "(-\\infty,\\infty)", "all real numbers"),
    ("1.\\overline{3}", "\\frac43", "repeating decimal"),
    ("0.1\\overline{6}", "\\frac16", "repeating decimal with a fixed part"),
    ("\\sqrt{2}+\\sqrt{3}", "\\sqrt{5+2\\sqrt{6}}", "denesting (minimal polynomial)"),
    ("\\frac{1}{2} + \\frac{\\sqrt{3}}{2}i", "\\frac{1+i\\sqrt3}{2}", "complex with radicals"),
    ("4 \\frac{2}{3}", "\\frac{14}{3}", "spaced mixed number"),
    ("1 \\text{ or } 2", "\\{1,2\\}", "alternatives for a set gold"),
    ("180 + 24 = 204", "204", "a true arithmetic chain ending in the value (AIME 2024 solution)"),
    ("(k, n) = (2, 4)", "(2,4)", "a tuple assignment (OlympiadBench solution)"),
    ("\u03c0/2", "\\frac{\\pi}{2}", "unicode pi"),
]

REJECT = [
    # --- near misses
    ("4", "4\\sqrt{2}", "missing radical factor"),
    ("4\\sqrt{3}", "4\\sqrt{2}", "different radicand"),
    ("1, 2, 3", "2, 3, 4", "n=1,2,3 vs n=2,3,4"),
    ("(1, 2)", "(1, 2]", "open vs closed interval end"),
    ("[1, 2]", "[1, 2)", "closed vs open interval end"),
    ("(2, 1)", "(1, 2)", "tuples are ordered"),
    ("\\{1, 2\\}", "(1, 2)", "a set is not a tuple"),
    ("2, 3", "(2, 3)", "a bare list is not a point"),
    ("\\frac{1}{2^{98}}", "\\frac{1}{2^{99}}", "tiny exact values differ"),
    ("1267650600228229401496703205377", "2^{100}", "an integer never matches a different integer"),
    ("18", "0.18", "18 is not 0.18 without a percent sign"),
    ("1800", "18", "18 is not 1800"),
    ("0.18", "18", "nor 0.18 for 18"),
    ("0.333", "\\frac13", "decimal approximation of an exact value (strict mode)"),
    ("3.14", "\\pi", "approximation of pi"),
    ("\\sqrt{2^{1000}+1}", "2^{500}", "irrational within 1e-300 of the integer gold"),
    ("\\pi + 10^{-100}", "\\pi", "transcendental near miss"),
    ("e^{\\pi\\sqrt{163}}", "262537412640768744", "Ramanujan's near-integer"),
    ("1011", "11", "digits vs value"),
    ("11", "1011_2", "base-n value written in decimal"),
    ("x^2+2x", "(x+1)^2", "polynomials that differ"),
    ("\\text{Eve}", "\\text{Evelyn}", "a different name"),
    ("(B)", "(C)", "a different choice"),
    ("x \\geq 5", "(5, \\infty)", "closed inequality vs open interval"),
    ("x > 5", "x \\geq 5", "strict vs non-strict"),
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 2 \\\\ 1 \\end{pmatrix}", "vector entries swapped"),
    ("\\begin{pmatrix} 1 & 2 \\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "row vs column shape"),
    ("90", "\\frac{\\pi}{2}", "degrees are not read as radians"),
    ("1-2i", "1+2i", "complex conjugate"),
    ("2\\sqrt{r_0}", "\\sqrt{4 r_0^2}", "symbols are not assumed positive"),
    ("y = 2x+4", "y=2x+3", "different line"),
    ("x = 3", "y = 3", "a different variable"),
    ("-\\infty", "\\infty", "signed infinity"),
    ("\\textbf{(B) }12", "(C)", "a different choice with a value"),
    ("0.\\overline{6}", "0.6", "repeating vs terminating"),
    ("f(x)", "5", "a function head is not a value"),
    ("60", "\\frac{\\pi}{3}", "degrees for a radian gold"),
    ("(1,-2)", "1,-2", "a point for a list of roots"),
    ("(k, n) = (2, 4)", "(4,2)", "a tuple assignment in the wrong order"),
    ("180 + 24 = 205", "205", "a false arithmetic chain"),
    # a variable the gold does not have (free_variables, docs/verifier.md): an identity in x is
    # an unsimplified answer, like x - x + 5
    ("\\sin^2 x + \\cos^2 x", "1", "an identity for a plain integer gold"),
]
# fmt: on

# fmt: off
#: Equal closed forms for a plain-number gold: accepted under the default answer policy
#: ("closed_form", datasets), ``unevaluated`` under ``answer_policy="literal"`` (procedural
#: arithmetic, where the 23 + 45 reward hack was found).
LITERAL_ONLY = [
    ("\\sqrt[3]{27}", "3", "a cube root for a plain integer gold"),
    ("\\log_2 8", "3", "a log for a plain integer gold"),
    ("2^{100}", "1267650600228229401496703205376", "a power for a plain integer gold"),
    ("10!", "3628800", "a factorial for a plain integer gold"),
    ("\\binom{10}{3}", "120", "a binomial for a plain integer gold"),
    ("23 + 45", "68", "the problem restated instead of solved"),
    ("10^6", "1000000", "a power of ten for a plain integer gold"),
    ("2^{10}", "1024", "a power of two for a plain integer gold"),
]
# fmt: on


@pytest.mark.parametrize(("answer", "gold", "why"), LITERAL_ONLY, ids=[r[2] for r in LITERAL_ONLY])
def test_answer_policy(answer: str, gold: str, why: str) -> None:
    assert verify(B(answer), gold, timeout_s=5).correct, why
    v = verify(B(answer), gold, timeout_s=5, answer_policy="literal")
    assert (v.correct, v.reason) == (False, "unevaluated"), (why, v)


@pytest.mark.parametrize(("answer", "gold", "why"), ACCEPT, ids=[r[2] for r in ACCEPT])
def test_accepts(answer: str, gold: str, why: str) -> None:
    v = verify(B(answer), gold, timeout_s=5)
    assert v.correct, (why, v)
    assert v.reason in ("equal", "equal_numerically"), v
    assert is_equivalent(answer, gold, timeout_s=5), why


@pytest.mark.parametrize(("answer", "gold", "why"), REJECT, ids=[r[2] for r in REJECT])
def test_rejects(answer: str, gold: str, why: str) -> None:
    v = verify(B(answer), gold, timeout_s=5)
    assert not v.correct, (why, v)
    assert not is_equivalent(answer, gold, timeout_s=5), why


@pytest.mark.parametrize(("answer", "gold", "why"), ACCEPT[::7], ids=[r[2] for r in ACCEPT[::7]])
def test_symmetric_on_values(answer: str, gold: str, why: str) -> None:
    """Most value equivalences hold both ways (sampled).

    Swapped, a plain-number gold answered by an expression (``\\log_2 8`` for ``3``) is
    deliberately ``unevaluated`` under the literal policy: that rule is one-directional.
    """
    if "%" in answer + gold:
        pytest.skip("the percent reading is deliberately one-directional")
    v = verify(B(gold), answer, timeout_s=5)
    assert v.correct or v.reason == "unevaluated", (why, v)


def test_one_value_boxed_in_several_forms_is_one_answer() -> None:
    # MATH-500 reference solution: "\\boxed{15\\frac{39}{40}}" ... "\\boxed{\\frac{639}{40}}"
    resp = "That is $\\boxed{15\\frac{39}{40}}$ inches, or $\\boxed{\\frac{639}{40}}$."
    assert verify(resp, "\\frac{639}{40}").correct
    # AIME 2024 solutions box the answer and its bold form
    assert verify("$\\boxed{113}$ ... $\\boxed{\\textbf{(113) }}$", "113").correct
    assert verify("\\boxed{2}\\boxed{3}", "3").reason == "multiple_answers"
    many = "".join(f"\\boxed{{{k}}}" for k in range(30))
    assert verify(many, "29").reason == "multiple_answers"


def test_verdict_stages_are_reported() -> None:
    assert verify(B("1,000"), "1000").stage == "string"
    assert verify(B("0.5"), "\\frac12").stage == "numeric"
    assert verify(B("(1,2)"), "(1, 2.0)").stage == "structural"
    assert verify(B("x^2+2x+1"), "(x+1)^2").stage == "symbolic"
    assert verify("no box", "1").stage == "extract"


def test_eval_mode_reads_unboxed_answers() -> None:
    # Minerva/lm-eval style
    v = verify("Final Answer: The final answer is 34. I hope it is correct.", "34", mode="eval")
    assert v.correct and v.extracted == "34"
    # an inequality in the last sentence
    v = verify("We solve it. Therefore $x \\geq 5$ is the solution.", "[5,\\infty)", mode="eval")
    assert v.correct, v
    # a last displayed matrix
    resp = "So the matrix is\n\\[\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}\\]"
    assert verify(resp, "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", mode="eval").correct
    # GSM8K style
    assert verify("3 + 4 = 7\n#### 7", "7", mode="eval").correct
    # none of these are read in strict mode
    for r in ("Final Answer: The final answer is 34. I hope it is correct.", "#### 34"):
        assert verify(r, "34").reason == "no_answer"


def test_eval_mode_rounds_to_decimal_gold_only() -> None:
    # Minerva golds are rounded decimals: eval mode accepts answers that round to them
    assert verify(B("7.4562"), "7.46", mode="eval").correct
    assert not verify(B("7.4562"), "7.46").correct  # strict: exact
    assert not verify(B("7.4"), "7.46", mode="eval").correct  # less precise: no
    assert not verify(B("8"), "7", mode="eval").correct  # integers are never rounded
