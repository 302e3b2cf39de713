"""Reliability checks (可靠性检查): schemathesis fuzzing, the bad-input corpus and the authorization matrix.

Each check is data or a small helper here and a pytest test under ``tests/test_reliability_*.py``;
``reliability/README.md`` names them and the command that runs each.
"""
