"""hypothesis properties: reflexivity, invariance, soundness, totality, idempotent normalisation,
extraction round trip."""

from __future__ import annotations

import time

from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import (
    answer_text,
    math_expressions,
    render_fraction,
    render_integer,
    rendered_value,
)

from rlsp_verifiers import extract_answer, is_equivalent, verify
from rlsp_verifiers.normalize import normalize

B = "\\boxed{{{}}}".format


@given(rendered_value(), st.data())
def test_reflexivity(vr: tuple[object, list[str]], data: st.DataObject) -> None:
    """Any rendering of a value verifies against itself."""
    _, renderings = vr
    r = data.draw(st.sampled_from(renderings))
    assert verify(B(r), r).correct, r


@given(rendered_value(), st.data())
def test_invariance(vr: tuple[object, list[str]], data: st.DataObject) -> None:
    """Equivalent renderings of one value verify against each other."""
    _, renderings = vr
    a = data.draw(st.sampled_from(renderings))
    b = data.draw(st.sampled_from(renderings))
    v = verify(B(a), b, timeout_s=10)
    assert v.correct, (a, b, v)


@given(rendered_value(), rendered_value(), st.data())
def test_soundness(
    v1: tuple[object, list[str]], v2: tuple[object, list[str]], data: st.DataObject
) -> None:
    """Renderings of two different values never verify: the anti-hacking guarantee."""
    (k1, r1), (k2, r2) = v1, v2
    assume(_value(k1) != _value(k2))
    a = data.draw(st.sampled_from(r1))
    b = data.draw(st.sampled_from(r2))
    assert not verify(B(a), b, timeout_s=10).correct, (a, b)


@given(st.integers(-(10**15), 10**15), st.integers(1, 10**6))
def test_integers_never_match_neighbours(n: int, k: int) -> None:
    for other in (n + k, n - k, n * 10, n * 100):
        if other != n:
            assert not is_equivalent(str(other), str(n))
            assert not is_equivalent(f"{other:,}", render_integer(n)[0])


@given(st.fractions(max_denominator=10**4), st.integers(1, 50))
def test_tiny_differences_are_seen(q, k: int) -> None:  # type: ignore[no-untyped-def]
    """Exact values compare exactly: q and q + 2^-k*10^-30 differ."""
    a = render_fraction(q)[0]
    b = f"{a} + \\frac{{1}}{{2^{{{k}}} \\cdot 10^{{30}}}}"
    assert not is_equivalent(b, a)


@given(answer_text, answer_text)
def test_totality(response: str, gold: str) -> None:
    """Arbitrary text returns a verdict in bounded time and never raises."""
    t0 = time.perf_counter()
    for mode in ("strict", "eval"):
        v = verify(response, gold, mode=mode, timeout_s=2)  # type: ignore[arg-type]
        assert isinstance(v.correct, bool) and isinstance(v.reason, str)
    assert time.perf_counter() - t0 < 8


@given(math_expressions, math_expressions)
def test_totality_on_structured_math(a: str, g: str) -> None:
    """Well-formed but hostile math (towers, functions of infinity, factorials of complex
    numbers) gets a verdict quickly: the bounds, not the cooperative deadline, keep it fast."""
    t0 = time.perf_counter()
    v = verify(B(a), g, timeout_s=2)
    assert isinstance(v.correct, bool)
    assert time.perf_counter() - t0 < 4, (a, g)


@given(answer_text)
def test_normalisation_is_idempotent(s: str) -> None:
    once = normalize(s)
    assert normalize(once) == once


@given(
    rendered_value(),
    st.data(),
    st.sampled_from(["", "Let me think. ", "<think>\\boxed{0}</think>"]),
)
def test_extraction_round_trip(
    vr: tuple[object, list[str]], data: st.DataObject, prefix: str
) -> None:
    """Boxing an answer inside a response and extracting it gives the answer back."""
    _, renderings = vr
    r = data.draw(st.sampled_from(renderings))
    assume("}" not in r or r.count("{") == r.count("}"))
    assert extract_answer(f"{prefix}So the answer is $\\boxed{{{r}}}$.") == r.strip()


def _value(k: object) -> object:
    from fractions import Fraction

    kind = k[0]  # type: ignore[index]
    if kind == "int":
        return Fraction(k[1])  # type: ignore[index]
    if kind == "frac":
        return k[1]  # type: ignore[index]
    return ("sqrt", k[1] ** 2 * k[2]) if k[2] != 1 else Fraction(k[1])  # type: ignore[index]
