"""Deliveries: one per recipient and event, sent by the worker with retries, dead after the last try."""
