"""Izlek partners service: organisations, people, liaisons, protocols and purchases."""
