"""The procedural families, one module each; importing this package registers them all.

To add a family: write ``rlsp_env/tasks/<name>.py`` with a generator returning a
:class:`~rlsp_env.tasks.base.Draft` and a ``register_family(Family(...))`` call, and import it here.
Its env id is registered with Gymnasium from :data:`FAMILIES` (:mod:`rlsp_env.registration`).
"""

from __future__ import annotations

from rlsp_env.tasks import (  # noqa: F401  (each module registers its family, in this order)
    arithmetic,
    fractions,
    linear_equation,
    linear_system,
    polynomial,
    word_problem,
)
from rlsp_env.tasks.base import FAMILIES, Draft, Family, register_family

__all__ = ["FAMILIES", "Draft", "Family", "register_family"]
