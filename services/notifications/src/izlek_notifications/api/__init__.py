"""The notifications service's HTTP API: subscriptions and deliveries."""
