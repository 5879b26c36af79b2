"""rlsp_env: Gymnasium math environments with separate reward channels."""
