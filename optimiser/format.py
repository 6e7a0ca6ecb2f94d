"""Money and numbers for people: the one place every stage formats a figure.

At the bottom of the package: it imports nothing of `optimiser`, and every stage
that words a figure (the diagnosis, the prices, the story, the terminal, the
roll-up) formats it here, so a pound reads the same everywhere.
"""

from __future__ import annotations

import math

SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def currency_symbol(currency: str) -> str:
    """£ for GBP, € for EUR, $ for USD; otherwise the code and a space."""
    return SYMBOLS.get(currency, currency + " ")


def no_figure(value: object) -> bool:
    """Whether a value is no figure: None, or a float (numpy's float64 too) that is NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value: float | None, currency: str = "GBP") -> str:
    """Money for people, short: £1.23m, £45.6k, £789, £1.20bn ('-' when there is none)."""
    if value is None or no_figure(value):
        return "-"
    symbol = currency_symbol(currency)
    v = abs(value)
    if v >= 1e9:
        shown = f"{v / 1e9:,.2f}bn"
    elif v >= 1e6:
        shown = f"{v / 1e6:,.2f}m"
    elif v >= 1e4:
        shown = f"{v / 1e3:,.1f}k"
    else:
        shown = f"{v:,.0f}"
    return f"{_sign(value, shown)}{symbol}{shown}"


def _sign(value: float, shown: str) -> str:
    """'-' for a negative value whose shown digits are not all zero: what rounds to
    nothing reads as zero (never '-£0' from solver noise such as -9.4e-15)."""
    return "-" if value < 0 and shown.strip("0.,kmbn") else ""


def pence(value: float, currency: str = "GBP") -> str:
    """A rate per pound, to the penny: £0.36, -£1,204.50 (never -£0.00)."""
    shown = f"{abs(value):,.2f}"
    return f"{_sign(value, shown)}{currency_symbol(currency)}{shown}"


def exact_money(value: float, currency: str) -> str:
    """Money to the unit (pence below 100): £1,234, -£56, £0.5."""
    symbol = currency_symbol(currency)
    shown = f"{abs(value):,.0f}" if abs(value) >= 100 else f"{abs(value):,.2f}".rstrip(
        "0").rstrip(".")
    return f"{_sign(value, shown)}{symbol}{shown}"


def quantity(value: float) -> str:
    """A quantity for people: 312, 87.5, 0.000123."""
    return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.0f}"
