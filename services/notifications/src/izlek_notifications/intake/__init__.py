"""The intake: every event of the PLANS and PARTNERS streams, applied once to the state database. It keeps what
matching and messages need to know, and creates one delivery per recipient of the event."""
