"""Public statistics of the platform: the loan book, default rates, campaigns (read only)."""
