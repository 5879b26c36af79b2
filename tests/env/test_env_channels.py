"""Table tests of the reward channels and presets (one comment per row)."""

from __future__ import annotations

import math

import pytest

from rlsp_env import Problem
from rlsp_env import rewards as R
from rlsp_env.scoring import score_batch
from rlsp_env.spec import RewardSpec
from rlsp_env.text import behaviour_counts, effective_length, effective_words, read_response

BASE = "We add 47 and 35.\nThe ones give 12, write 2 carry 1.\nThe tens give 8.\n"

# (name, response) pairs that are BASE plus pure padding: each must have exactly BASE's ell
PADDED = [
    ("duplicate lines", BASE + BASE + BASE),
    (
        "duplicate sentence inside a line",
        BASE.replace("The tens give 8.", "The tens give 8. The tens give 8."),
    ),
    ("filler lines", BASE + "hmm\nokay okay\n...\num, well, so\n"),
    ("filler words inside", BASE.replace("We add", "Um, well, we basically add")),
    (
        "phrase repeated back to back",
        BASE.replace("The tens give 8.", "the tens give 8 the tens give 8 the tens give 8."),
    ),
    ("whitespace", BASE.replace(" ", "   ").replace("\n", "\n\n\n")),
    ("case changes", BASE.upper()),
    ("punctuation-only tokens", BASE + "--- *** !!! ...\n"),
    ("reordered duplicate before the original", "The tens give 8.\n" + BASE),
]


@pytest.mark.parametrize("name,text", PADDED, ids=[p[0] for p in PADDED])
def test_padding_does_not_lengthen_ell(name, text):
    assert effective_length(text) == effective_length(BASE)


def test_novel_content_lengthens_ell():
    # genuinely new reasoning does count
    more = BASE + "Check: 82 - 35 = 47, which matches.\n"
    assert effective_length(more) > effective_length(BASE)


def test_ell_with_tokenizers():
    # a callable counts tokens; an object with encode() is used like a HF tokenizer
    assert effective_length(BASE, tokenizer=lambda s: len(s.split())) == len(effective_words(BASE))

    class Tok:
        def encode(self, text, add_special_tokens=True):
            return list(text)

    assert effective_length(BASE, tokenizer=Tok()) == len(" ".join(effective_words(BASE)))
    with pytest.raises(TypeError):
        effective_length(BASE, tokenizer=object())


@pytest.mark.parametrize(
    "response,expected",
    [
        ("\\boxed{3}", 0.0),  # a box
        ("so $\\boxed{\\frac{1}{2}}$.", 0.0),  # a box inside math
        ("\\boxed 7", 0.0),  # brace-less box
        ("the answer is 3", -0.5),  # no box: RLSP's -0.5
        ("\\boxed{}", -0.5),  # empty box is not an answer
        ("\\boxed{3", -0.5),  # unbalanced box
        ("", -0.5),  # empty response
        ("<think>so \\boxed{3}</think> not sure", -0.5),  # the box is inside the thinking
        ("<think>maybe \\boxed{2}</think> so \\boxed{3}", 0.0),  # a final box after it
        ("<think>so \\boxed{3}", -0.5),  # unterminated thinking
        ("\\boxed{1} \\boxed{2", -0.5),  # an unclosed box: no final answer for the verifier
    ],
)
def test_format_channel(response, expected):
    assert R.format_reward(response) == expected
    # one reading: the format channel and the verdict agree on whether there is an answer
    res = R.score(response, "3")
    assert res.rewards["format"] == expected
    assert (res.verdict.reason in ("no_answer", "empty_answer", "unterminated_think")) == (
        expected < 0
    ), res.verdict.reason


def test_exploration_formula_and_bounds():
    # -cap * (1 - log1p(u) / log1p(L)), u = informative length (rlsp_env.exploration)
    from rlsp_env.exploration import curve_value, measure

    text = "alpha beta gamma delta epsilon \\boxed{1}"
    u = measure("alpha beta gamma delta epsilon ").informative
    assert R.exploration(text, length_scale=100.0) == pytest.approx(curve_value(u, 100.0))
    assert R.exploration(text, length_scale=100.0, cap=3.0) == pytest.approx(
        3.0 * R.exploration(text, length_scale=100.0)
    )
    assert R.exploration(text, length_scale=2.0) == -1.0  # 4x over the budget: tapered away
    assert R.exploration("\\boxed{1}", length_scale=5.0) == -1.0  # no reasoning at all
    assert R.exploration(text, length_scale=0.0) == 0.0  # the paper's L = 0 ablation
    # only the text BEFORE the final box counts: reasoning after the answer does not pay
    assert R.exploration(text + " zeta eta theta iota", length_scale=2.0) == R.exploration(
        text, length_scale=2.0
    )
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError):
            R.exploration(text, length_scale=bad)


@pytest.mark.parametrize(
    "response,key,count",
    [
        ("Wait, that's wrong. Let me re-check.", "backtracking", 3.0),  # three cues
        ("Let me verify: substituting back gives 5.", "verification", 2.0),
        ("Alternatively, another approach is to factor.", "alternatives", 2.0),
        ("Plain computation 2+2=4.", "backtracking", 0.0),
    ],
)
def test_behaviour_counts(response, key, count):
    assert behaviour_counts(response)[key] == count


def test_diversity_channel():
    a = "we add the ones then the tens"
    assert R.diversity(a, []) == 0.0  # no group: no signal
    assert R.diversity(a, [a, a]) == 0.0  # identical responses
    assert R.diversity(a, ["completely different words appear here now"]) == 1.0
    mid = R.diversity(a, ["we add the ones then multiply"])
    assert 0.0 < mid < 1.0


def test_presets_are_the_declared_formulas():
    # rlsp: 0.8 * (r_c - L/ell) + 0.2 * g, with r_c = -0.5 when there is no box
    w = R.PRESETS["rlsp"]
    assert (w["correctness"], w["format"], w["exploration"], w["effort"]) == (0.8, 0.8, 0.8, 0.2)
    boxed = "Step one. Step two. \\boxed{4}"
    r = R.score(boxed, "4", weights="rlsp", length_scale=3.0)
    assert r.reward == pytest.approx(0.8 * (1.0 + r.rewards["exploration"]))
    nobox = R.score("Step one. Step two. 4", "4", weights="rlsp", length_scale=3.0)
    assert nobox.reward == pytest.approx(0.8 * (-0.5 + nobox.rewards["exploration"]))
    assert R.score(boxed, "5", weights="correctness").reward == 0.0
    assert R.score("4", "4", weights="default").reward == -0.5
    assert R.score("\\boxed{4}", "4", weights="default").reward == 1.0


def test_resolve_weights_errors():
    with pytest.raises(ValueError, match="unknown reward preset"):
        R.resolve_weights("fast")
    with pytest.raises(ValueError, match="unknown reward channels"):
        R.resolve_weights({"corectness": 1.0})
    with pytest.raises(ValueError, match="finite"):
        R.resolve_weights({"correctness": math.nan})
    with pytest.raises(TypeError):
        R.resolve_weights({"correctness": "1"})
    with pytest.raises(TypeError):
        R.resolve_weights(3)


def test_score_accepts_problem_or_gold_and_rejects_bad_types():
    p = Problem(id="t/1", problem="What is 1/2 + 1/2?", answer="1")
    assert R.score("\\boxed{1}", p).verdict.correct
    assert R.score("\\boxed{1}", "1").to_dict()["verdict"]["reason"] == "equal"
    with pytest.raises(TypeError, match="str"):
        R.score(b"\\boxed{1}", "1")
    with pytest.raises(TypeError):
        R.score("\\boxed{1}", 1)


def test_score_batch_groups_and_in_process():
    out = score_batch(
        ["\\boxed{4} a b c d", "\\boxed{4} a b c d", "\\boxed{5} w x y z"],
        ["4", "4", "4"],
        [0, 0, 0],
        RewardSpec(),
        inline=True,
    )
    assert [r.rewards["correctness"] for r in out] == [1.0, 1.0, 0.0]
    assert out[2].rewards["diversity"] > out[0].rewards["diversity"] > 0.0
    # a group of one has no others; distinct group ids do not see each other
    solo = score_batch(["a b c d", "a b c d"], ["1", "1"], ["x", "y"], inline=True)
    assert [r.rewards["diversity"] for r in solo] == [0.0, 0.0]
    with pytest.raises(ValueError):
        score_batch(["a"], ["1", "2"])
    with pytest.raises(ValueError, match="one entry per response"):
        score_batch(["a", "b"], ["1", "2"], [0], inline=True)
    with pytest.raises(TypeError, match="response 1"):
        score_batch(["a", 3], ["1", "2"], inline=True)


def test_reading_uses_the_verifier_box_grammar():
    from rlsp_env.text import _BOX_RE
    from rlsp_verifiers.extract import extract_boxes

    r = read_response("a \\boxed{1} then \\boxed{\\frac{2}{3}}")
    assert (r.answer, r.answers, r.reason) == ("\\frac{2}{3}", ("1", "\\frac{2}{3}"), None)
    assert r.reasoning == "a \\boxed{1} then "  # the text before the last box
    assert read_response("\\fbox{7}").answer == "7"
    assert read_response("nothing").reason == "no_answer"
    # the reasoning cut and the verifier find the same box tokens
    for text in ("\\boxed{1}\\boxedx{2}", "\\fbox 3 \\boxed {4}", "\\boxedd \\boxed{5}"):
        assert len(_BOX_RE.findall(text)) == len(extract_boxes(text)), text


def test_huge_and_binary_input_in_bounded_time():
    import time

    huge = "word7 " * 300_000 + "\\boxed{1}"
    distinct = " ".join(f"w{i}" for i in range(300_000)) + " \\boxed{1}"
    binary = bytes(range(256)).decode("latin-1") * 2000
    for text in (huge, distinct, binary, "", "\x00" * 10000):
        t = time.monotonic()
        res = R.score(text, "1", weights="rlsp-length")
        assert time.monotonic() - t < 20
        assert res.verdict.reason  # a verdict with a reason, never an exception
