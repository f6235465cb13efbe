"""HTTP entrypoint of the partners service: translates requests into PartnersApplication calls."""
