"""Helpers that build what tests need through the services, one module per domain, so a
test reads as its story and a helper exists once (no tests here)."""
