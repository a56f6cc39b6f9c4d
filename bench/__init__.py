"""FrameSell's benchmark: wrk against the running server, every figure next to its floor."""
