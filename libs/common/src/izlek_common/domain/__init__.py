"""What every service's domain shares: the stamp on each event, the tracked aggregate, value rules.

Imports only the standard library and ``eventsourcing.domain``, like the services' own domain packages.
"""
