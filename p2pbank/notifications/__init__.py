"""In-app notifications (the bell) and their e-mails: domains call `services.notify` in
the transaction of the event; the scheduled mail work writes the e-mails later, in the
reader's language. Low in the layers (below identity), so every domain may call it."""
