"""Procedural family ``arithmetic`` (integer arithmetic), registered as ``rlsp/Arithmetic-v0``."""

from __future__ import annotations

import numpy as np
import sympy

from rlsp_env.tasks.base import Draft, check_gold, family, finish, randint


def _add_steps(a: int, b: int) -> list[str]:
    da, db = str(a)[::-1], str(b)[::-1]
    names = ["ones", "tens", "hundreds", "thousands", "ten-thousands"]
    steps, carry = [], 0
    for i in range(max(len(da), len(db))):
        x = int(da[i]) if i < len(da) else 0
        y = int(db[i]) if i < len(db) else 0
        s = x + y + carry
        terms = f"{x} + {y}" + (f" + {carry} (carried)" if carry else "")
        name = names[i] if i < len(names) else f"10^{i}"
        if s >= 10:
            steps.append(f"Add the {name} digits: {terms} = {s}. Write {s % 10} and carry 1.")
        else:
            steps.append(f"Add the {name} digits: {terms} = {s}. Write {s}.")
        carry = s // 10
    if carry:
        steps.append("Write the final carry 1 in front.")
    return steps


def _sub_steps(a: int, b: int) -> list[str]:
    steps, cur = [], a
    place = 10 ** (len(str(b)) - 1)
    rem = b
    while place >= 1:
        part = (rem // place) * place
        if part:
            steps.append(f"Subtract {part}: {cur} - {part} = {cur - part}.")
            cur -= part
        rem -= part
        place //= 10
    return steps


def _mul_steps(a: int, b: int) -> list[str]:
    """a x b by splitting b into its place values."""
    steps, partials = [], []
    s = str(b)
    for i, d in enumerate(s):
        place = 10 ** (len(s) - 1 - i)
        part = int(d) * place
        if part == 0:
            continue
        partials.append(a * part)
        steps.append(f"{a} \\times {part} = {a * part}.")
    if len(partials) > 1:
        steps.append(f"Add the partial products: {' + '.join(map(str, partials))} = {a * b}.")
    return steps


@family(
    "arithmetic",
    "integer arithmetic (difficulty 1: 2-digit + 2-digit)",
    env_id="rlsp/Arithmetic-v0",
)
def _gen_arithmetic(rng: np.random.Generator, d: int) -> Draft:
    if d == 1 or d == 2:
        lo, hi = (10, 99) if d == 1 else (100, 999)
        a, b = randint(rng, lo, hi), randint(rng, lo, hi)
        op = "+" if d == 1 or rng.random() < 0.5 else "-"
        if op == "-" and a < b:
            a, b = b, a
        if op == "+":
            value = a + b
            check_gold(sympy.Integer(a) + sympy.Integer(b), value, "addition")
            steps = [f"We add {a} and {b} column by column, starting from the ones."]
            steps += _add_steps(a, b)
            steps.append(f"So {a} + {b} = {value}.")
            canonical = f"+:{min(a, b)}:{max(a, b)}"
        else:
            value = a - b
            check_gold(sympy.Integer(a) - sympy.Integer(b), value, "subtraction")
            steps = [f"We subtract {b} from {a} one place value at a time."]
            steps += _sub_steps(a, b)
            steps.append(f"So {a} - {b} = {value}.")
            canonical = f"-:{a}:{b}"
        question = f"What is ${a} {op} {b}$?"
    elif d == 3 or d == 4:
        a = randint(rng, 10, 99)
        b = randint(rng, 2, 9) if d == 3 else randint(rng, 10, 99)
        value = a * b
        check_gold(sympy.Mul(sympy.Integer(a), sympy.Integer(b)), value, "product")
        steps = [f"We multiply {a} by {b}, splitting {b} by place value."]
        steps += _mul_steps(a, b)
        steps.append(f"So ${a} \\times {b} = {value}$.")
        question = f"What is ${a} \\times {b}$?"
        canonical = f"*:{min(a, b)}:{max(a, b)}"
    elif d == 5:
        a, b, c, e = (
            randint(rng, 10, 99),
            randint(rng, 10, 99),
            randint(rng, 2, 9),
            randint(rng, 10, 99),
        )
        s = a + b
        value = s * c - e
        check_gold(
            (sympy.Integer(a) + sympy.Integer(b)) * sympy.Integer(c) - sympy.Integer(e),
            value,
            "expression",
        )
        steps = [
            "Parentheses first.",
            f"${a} + {b} = {s}$.",
            f"Then multiply: ${s} \\times {c} = {s * c}$.",
            f"Finally subtract: ${s * c} - {e} = {value}$.",
        ]
        question = f"Evaluate $({a} + {b}) \\times {c} - {e}$."
        canonical = f"e5:{min(a, b)}:{max(a, b)}:{c}:{e}"
    else:
        raise ValueError(f"arithmetic: difficulty must be 1..5, got {d}")
    answer = str(value)
    return Draft(question, answer, finish("\n".join(steps), answer), canonical, {})
