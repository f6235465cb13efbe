"""The partners domain: organisations and their liaisons, protocols and their lifecycle, purchases and
quota compliance. Imports only the standard library, ``eventsourcing.domain`` and ``izlek_common.domain``."""
