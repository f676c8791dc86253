"""Extensions shared by pages and API, created unbound and initialised in `create_app`."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

# Counters shared by all workers: Redis when REDIS_URL is set, else a SQLite file in the
# instance folder (see app.py and p2pbank.ratelimit_storage).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
csrf = CSRFProtect()
