"""rlsp_verifiers: math answer checking that cannot be reward-hacked (standalone, no torch)."""
