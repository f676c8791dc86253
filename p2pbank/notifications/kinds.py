"""Placeholder: the catalogue of notification kinds (filled in next)."""
