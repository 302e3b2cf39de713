"""HTTP routers, one per concept."""
