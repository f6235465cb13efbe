"""HTTP entrypoint of the plans service: translates requests into PlansApplication calls."""
