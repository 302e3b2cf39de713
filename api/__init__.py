"""Delivery layer (接口层): HTTP routes and the command line; the only place that knows FastAPI and Typer."""
