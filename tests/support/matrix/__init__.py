"""The authorization matrix's world: its callers and rows (`rows`), the objects each row's
route is asked about, made through services (one module per domain), and the machinery
that asks every caller and checks what came back (`callers`)."""
