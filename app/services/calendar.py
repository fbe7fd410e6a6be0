"""Date arithmetic the rules share."""
from datetime import date


def years_after(day: date, years: int) -> date:
    """The same day so many years later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
