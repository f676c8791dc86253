"""The double-entry ledger: accounts, immutable journal entries and postings, holds."""
