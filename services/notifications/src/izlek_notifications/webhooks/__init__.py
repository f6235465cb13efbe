"""Webhooks: which URLs Izlek may call (SSRF guard), Standard Webhooks signatures, and sending."""
