"""Izlek gateway: read models projected from the service streams, and the GraphQL API over them."""
