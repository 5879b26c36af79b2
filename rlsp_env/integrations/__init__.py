"""Integrations with external trainers: TRL (:mod:`.trl`), verl (:mod:`.verl`), and the scoring pool
behind the HTTP reward server (:mod:`.scoring`, served by :mod:`rlsp_env.server`). Also: RLSP's
advantage estimator for verl (:mod:`.verl_adv`), OpenRLHF's dataset format (:mod:`.openrlhf`) and
the dataset CLI (:mod:`.write_dataset`); the launch material is in ``recipes/``.

Importing this package imports nothing heavy; each submodule imports its own trainer lazily.
"""
