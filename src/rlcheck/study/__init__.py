"""Studies: a spec (env, methods, seeds, budget, threshold), its job plan, and running it into a store."""
