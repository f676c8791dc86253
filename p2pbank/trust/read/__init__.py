"""Read models for the trust pages and API, one module per screen."""
