"""Procedural family ``linear_system`` (2x2 and 3x3 linear systems), registered as ``rlsp/LinearSystem-v0``."""

from __future__ import annotations

import numpy as np
import sympy

from rlsp_env.tasks.base import Draft, family, finish, randint


@family("linear_system", "2x2 and 3x3 linear systems", env_id="rlsp/LinearSystem-v0")
def _gen_linear_system(rng: np.random.Generator, d: int) -> Draft:
    if d not in range(1, 6):
        raise ValueError(f"linear_system: difficulty must be 1..5, got {d}")
    n = 2 if d <= 3 else 3
    names = ["x", "y", "z"][:n]
    span = {1: 1, 2: 5, 3: 9, 4: 4, 5: 9}[d]
    sol_span = 10 if d < 5 else 15
    while True:
        if d == 1:
            mat = [[1, 1], [1, -1]]
        else:
            mat = [[randint(rng, -span, span) for _ in range(n)] for _ in range(n)]
        m = sympy.Matrix(mat)
        det = m.det()
        if det != 0:
            break
    sol = [randint(rng, -sol_span, sol_span) for _ in range(n)]
    rhs = [sum(mat[i][j] * sol[j] for j in range(n)) for i in range(n)]
    got = m.LUsolve(sympy.Matrix(rhs))
    if [int(v) for v in got] != sol:
        raise AssertionError(f"linear_system gold check failed: {list(got)} != {sol}")

    def eq(row: list[int], r: int) -> str:
        terms: list[str] = []
        for c, v in zip(row, names):
            if c == 0:
                continue
            coef = "" if abs(c) == 1 else str(abs(c))
            if not terms:
                terms.append(f"{'-' if c < 0 else ''}{coef}{v}")
            else:
                terms.append(f"{'-' if c < 0 else '+'} {coef}{v}")
        return f"{' '.join(terms) if terms else '0'} = {r}"

    system = ", \\quad ".join(eq(row, r) for row, r in zip(mat, rhs))
    tup = "(" + ", ".join(names) + ")"
    question = f"Solve the system ${system}$. Give your answer as an ordered {'pair' if n == 2 else 'triple'} ${tup}$."
    steps = [f"We use Cramer's rule. The coefficient determinant is $D = {int(det)}$."]
    for j, v in enumerate(names):
        mj = m.copy()
        mj[:, j] = sympy.Matrix(rhs)
        dj = int(mj.det())
        steps.append(
            f"Replacing the {v}-column by the right-hand side gives $D_{v} = {dj}$, so "
            f"${v} = D_{v} / D = {dj} / {int(det)} = {sol[j]}$."
        )
    check = "; ".join(
        f"{' + '.join(f'({c})({s})' for c, s in zip(row, sol))} = {r}" for row, r in zip(mat, rhs)
    )
    steps.append(f"Check by substituting: {check}.")
    answer = "(" + ", ".join(str(s) for s in sol) + ")"
    canonical = f"s{n}:{mat}:{rhs}"  # the same system at two difficulties is one problem
    return Draft(question, answer, finish("\n".join(steps), answer), canonical, {"size": n})
