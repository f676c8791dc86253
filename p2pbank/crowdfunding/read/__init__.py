"""Read models for the crowdfunding pages and API, one module per screen or concern."""
