"""Achievement and success bands: a rule shared by every service, kept in ``izlek_common.domain.bands``."""

from izlek_common.domain.bands import TURKISH_LABELS, Band, Direction, achievement, band_for

__all__ = ["TURKISH_LABELS", "Band", "Direction", "achievement", "band_for"]
