"""The plans domain: action plans, commitments, success criteria and indicators.

Imports only the standard library and ``eventsourcing.domain``.
"""
