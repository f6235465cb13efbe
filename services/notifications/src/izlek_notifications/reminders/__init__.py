"""Reminders (commitments due soon or overdue, protocols whose term ends soon) and weekly digests per
organisation, made by a scheduler that reads the time from a `Clock`."""
