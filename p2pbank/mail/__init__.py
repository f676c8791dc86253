"""Mail that leaves: the scheduled work delivers outbox rows over SMTP (or, in
development, into .eml files in the instance folder), with retries and back-off."""
