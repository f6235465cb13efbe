"""The gateway's read models: tables projected from the service streams, and the database that holds them."""
