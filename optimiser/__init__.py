"""optimise: the budget-pooling optimiser for public-sector places."""

__version__ = "0.1.0"
