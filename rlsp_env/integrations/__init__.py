"""Integrations with external trainers: TRL (:mod:`.trl`), verl (:mod:`.verl`), and the scoring pool
behind the HTTP reward server (:mod:`.scoring`, served by :mod:`rlsp_env.server`).

Importing this package imports nothing heavy; each submodule imports its own trainer lazily.
"""
