"""Runnable demos; they use only the public API."""
