"""The notifications domain: subscriptions, their filters and event-type patterns (no framework imported)."""
