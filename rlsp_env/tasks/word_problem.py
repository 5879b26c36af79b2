"""Procedural family ``word_problem`` (multi-step word problems), registered as ``rlsp/WordProblem-v0``."""

from __future__ import annotations

import numpy as np
import sympy

from rlsp_env.tasks.base import Draft, check_gold, family, finish, randint

_NAMES = [
    "Ava",
    "Ben",
    "Chloe",
    "Diego",
    "Emma",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Liam",
]
_ITEMS = ["apples", "marbles", "stickers", "pencils", "cookies", "stamps", "shells", "cards"]


@family("word_problem", "multi-step story problems", env_id="rlsp/WordProblem-v0")
def _gen_word_problem(rng: np.random.Generator, d: int) -> Draft:
    name = _NAMES[randint(rng, 0, len(_NAMES) - 1)]
    item = _ITEMS[randint(rng, 0, len(_ITEMS) - 1)]
    Z = sympy.Integer
    if d == 1:
        a, b = randint(rng, 5, 60), randint(rng, 2, 40)
        if rng.random() < 0.5:
            question = (
                f"{name} has {a} {item} and gets {b} more. How many {item} does {name} have now?"
            )
            value, sym = a + b, Z(a) + Z(b)
            steps = [f"{name} starts with {a} and gains {b}: {a} + {b} = {value}."]
        else:
            a = a + b
            question = f"{name} has {a} {item} and gives away {b}. How many {item} are left?"
            value, sym = a - b, Z(a) - Z(b)
            steps = [f"{name} starts with {a} and gives away {b}: {a} - {b} = {value}."]
        canonical = question
    elif d == 2:
        n, k, a = randint(rng, 2, 9), randint(rng, 3, 12), randint(rng, 1, 30)
        question = (
            f"{name} already has {a} {item}, then buys {n} packs with {k} {item} in each pack. "
            f"How many {item} does {name} have in total?"
        )
        value, sym = n * k + a, Z(n) * Z(k) + Z(a)
        steps = [
            f"The packs hold {n} \\times {k} = {n * k} {item}.",
            f"Adding the {a} already owned: {n * k} + {a} = {value}.",
        ]
        canonical = question
    elif d == 3:
        w, h, days = randint(rng, 8, 25), randint(rng, 2, 8), randint(rng, 2, 6)
        s = randint(rng, 1, w * h * days - 1)
        question = (
            f"{name} earns {w} dollars per hour and works {h} hours a day for {days} days, then spends {s} dollars. "
            f"How many dollars does {name} have left?"
        )
        value, sym = w * h * days - s, Z(w) * Z(h) * Z(days) - Z(s)
        steps = [
            f"Per day: {w} \\times {h} = {w * h} dollars.",
            f"For {days} days: {w * h} \\times {days} = {w * h * days} dollars.",
            f"After spending {s}: {w * h * days} - {s} = {value}.",
        ]
        canonical = question
    elif d == 4:
        m = randint(rng, 2, 8)
        each = randint(rng, 2, 15)
        g = randint(rng, 1, 20)
        boxes = randint(rng, 2, 9)
        # boxes * per_box - g = m * each  -> choose per_box so that it divides
        total = m * each + g
        while total % boxes:
            g += 1
            total = m * each + g
        per_box = total // boxes
        question = (
            f"{name} has {boxes} boxes with {per_box} {item} in each box. {name} keeps {g} {item} "
            f"and shares the rest equally among {m} friends. How many {item} does each friend get?"
        )
        value = (boxes * per_box - g) // m
        sym = (Z(boxes) * Z(per_box) - Z(g)) / Z(m)
        steps = [
            f"Total: {boxes} \\times {per_box} = {boxes * per_box}.",
            f"After keeping {g}: {boxes * per_box} - {g} = {boxes * per_box - g}.",
            f"Shared among {m}: {boxes * per_box - g} / {m} = {value}.",
        ]
        canonical = question
    elif d == 5:
        price = 20 * randint(rng, 1, 10)
        pct = [10, 20, 25, 50][randint(rng, 0, 3)]
        n = randint(rng, 2, 6)
        fee = randint(rng, 1, 9)
        sale = price * (100 - pct) // 100
        cost = n * sale + fee
        bill = 100 * (cost // 100 + 1)
        question = (
            f"A jacket costs {price} dollars. During a sale its price is reduced by {pct} percent. "
            f"{name} buys {n} jackets at the sale price, pays a {fee} dollar delivery fee, and pays "
            f"with {bill} dollars. "
            f"How many dollars of change does {name} get?"
        )
        value = bill - cost
        sym = Z(bill) - (Z(n) * Z(price) * (1 - sympy.Rational(pct, 100)) + Z(fee))
        steps = [
            f"The discount is {pct}% of {price}: {price} \\times {pct}/100 = {price - sale}.",
            f"Sale price: {price} - {price - sale} = {sale}.",
            f"{n} jackets: {n} \\times {sale} = {n * sale}.",
            f"With the fee: {n * sale} + {fee} = {cost}.",
            f"Change: {bill} - {cost} = {value}.",
        ]
        canonical = question
    else:
        raise ValueError(f"word_problem: difficulty must be 1..5, got {d}")
    check_gold(sym, value, "word problem")
    answer = str(value)
    return Draft(question, answer, finish("\n".join(steps), answer), canonical, {})
