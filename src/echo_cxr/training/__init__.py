"""Training the three ECHO stages and the baselines (METHOD.md sections 4 and 5) on accelerate."""
