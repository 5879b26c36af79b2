"""rlsp_agents: the bundled RLSP agent (SFT, then PPO with decoupled reward channels)."""
