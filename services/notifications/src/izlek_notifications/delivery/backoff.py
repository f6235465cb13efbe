"""When to try again: exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And
Jitter"): after attempt n the wait is a random time between zero and min(cap, base × 2^(n-1))."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta


@dataclass
class Backoff:
    attempts: int
    """Attempts in all, the first included."""
    base: float
    cap: float
    random: random.Random = field(default_factory=random.Random)

    def ceiling(self, attempt: int) -> float:
        """The longest wait after attempt number ``attempt`` (1 for the first)."""
        return min(self.cap, self.base * 2 ** (attempt - 1))

    def wait_after(self, attempt: int) -> timedelta | None:
        """The wait after a failed attempt; None when it was the last one."""
        if attempt >= self.attempts:
            return None
        return timedelta(seconds=self.random.uniform(0, self.ceiling(attempt)))
