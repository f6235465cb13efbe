"""Izlek notifications: webhooks, e-mail, reminders and digests from the services' event streams."""
