"""Clearing: money in through the payment gateway, money out as payouts, webhooks that
cannot be forged, and reconciliation of every gateway object with the ledger."""
