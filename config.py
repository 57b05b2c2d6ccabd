"""Deploy settings, read from the environment.

Admin-editable settings (branding, role visibility) live in the database, not here.
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DEFAULT_SECRET = "dev-secret-change-me"
# A fixed development key so local data stays readable across restarts; never used in production.
DEV_TOKEN_KEY = "ZGV2LW9ubHktdG9rZW4ta2V5LWRvLW5vdC11c2UtISE="


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


class Config:
    SECRET_KEY = _env("SECRET_KEY", DEFAULT_SECRET)
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'portal.sqlite3'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = _env("REDIS_URL", "redis://127.0.0.1:6379/0")
    TOKEN_ENCRYPTION_KEY = _env("TOKEN_ENCRYPTION_KEY", DEV_TOKEN_KEY)
    # Prefix of every Redis key and RQ queue name, so test runs never collide with a dev server.
    REDIS_NAMESPACE = _env("REDIS_NAMESPACE", "pcs")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    WTF_CSRF_TIME_LIMIT = None
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    BOOTSTRAP_SERVE_LOCAL = True

    # Google: the emulator by default. For real Google set GOOGLE_API_BASE_URL=https://www.googleapis.com and
    # GOOGLE_OPENID_CONFIGURATION_URL=https://accounts.google.com/.well-known/openid-configuration.
    GOOGLE_BASE_URL = _env("GOOGLE_BASE_URL", "http://127.0.0.1:8765")
    GOOGLE_API_BASE_URL = _env("GOOGLE_API_BASE_URL", GOOGLE_BASE_URL)
    GOOGLE_OPENID_CONFIGURATION_URL = _env(
        "GOOGLE_OPENID_CONFIGURATION_URL", f"{GOOGLE_BASE_URL}/.well-known/openid-configuration"
    )
    GOOGLE_CLIENT_ID = _env("GOOGLE_CLIENT_ID", "portal-dev-client")
    GOOGLE_CLIENT_SECRET = _env("GOOGLE_CLIENT_SECRET", "portal-dev-secret")
    # The ONE redirect URI registered with Google, served by the integration broker; its host is the broker's.
    GOOGLE_REDIRECT_URI = _env("GOOGLE_REDIRECT_URI", "http://127.0.0.1:5000/broker/google/callback")
    # "embedded": the portal app also serves the broker (on the redirect URI's host); "separate": the broker
    # runs as its own process (`broker_wsgi:app`) and the portal app leaves its routes out.
    BROKER_MODE = _env("BROKER_MODE", "embedded")
    # Where Google push notifications are sent (our webhook); must be https for real Google.
    WEBHOOK_BASE_URL = _env("WEBHOOK_BASE_URL", "http://127.0.0.1:5000")
    PORTAL_BASE_URL = _env("PORTAL_BASE_URL", "http://127.0.0.1:5000")

    # The demo's legacy 1-way connection uses a grant the emulator seeds under this refresh token.
    DEMO_GOOGLE_REFRESH_TOKEN = _env("DEMO_GOOGLE_REFRESH_TOKEN", "1//demo-sam-legacy-one-way")
    # A push waits this long before it starts, so a burst of edits becomes one job and a few batched requests.
    PUSH_COALESCE_SECONDS = float(_env("PUSH_COALESCE_SECONDS", "2"))
    # Pulls of one connection start at most this often: a burst of notifications is one pull running, one waiting.
    PULL_SPACING_SECONDS = float(_env("PULL_SPACING_SECONDS", "3"))
    SYNC_LOCK_WAIT_SECONDS = 30  # how long a job waits for its connection's running job before retrying later
    # The per-connection lock's life: renewed by the running job every third of it, so a dead worker's
    # connection is free (and its run found interrupted) within this many seconds.
    SYNC_LOCK_SECONDS = int(_env("SYNC_LOCK_SECONDS", "20"))
    WATCH_TTL_SECONDS = int(_env("WATCH_TTL_SECONDS", str(7 * 24 * 3600)))
    # The safety-net poll (app.sync.polling): rare while the watch channel is trusted, often while it is not;
    # a refused channel is asked for again after WATCH_RETRY_HOURS. Each time is jittered by ±20 %.
    POLL_HEALTHY_HOURS = float(_env("POLL_HEALTHY_HOURS", "12"))
    POLL_UNHEALTHY_MINUTES = float(_env("POLL_UNHEALTHY_MINUTES", "15"))
    WATCH_RETRY_HOURS = float(_env("WATCH_RETRY_HOURS", "6"))
    RUN_HISTORY_DAYS = float(_env("RUN_HISTORY_DAYS", "30"))  # finished runs older than this are pruned by the sweep
    # Google's request quotas (Calendar API, per minute): every call, batch members included, is paced under them.
    GOOGLE_QUOTA_PER_USER_PER_MINUTE = int(_env("GOOGLE_QUOTA_PER_USER_PER_MINUTE", "600"))
    GOOGLE_QUOTA_PER_PROJECT_PER_MINUTE = int(_env("GOOGLE_QUOTA_PER_PROJECT_PER_MINUTE", "10000"))
    GOOGLE_QUOTA_WINDOW_SECONDS = float(_env("GOOGLE_QUOTA_WINDOW_SECONDS", "60"))  # tests shrink the minute
    GOOGLE_QUOTA_MARGIN_SECONDS = float(_env("GOOGLE_QUOTA_MARGIN_SECONDS", "1"))  # Google stamps calls on arrival
    # Share of the project's window bulk work (Push Existing Data, moves, removals) leaves to people's edits,
    # so an edit finds room at once while bulk work keeps the rest full (app.google.budget).
    GOOGLE_QUOTA_BULK_RESERVE = float(_env("GOOGLE_QUOTA_BULK_RESERVE", "0.05"))
    # Google's use limits ("Calendar usage limits exceeded."): the connection's writes pause this long.
    GOOGLE_USE_LIMIT_PAUSE_HOURS = float(_env("GOOGLE_USE_LIMIT_PAUSE_HOURS", "3"))
    # Push Existing Data creates at most this many events per Google user per day (Google's limit is ~100,000).
    PUSH_DAILY_CEILING = int(_env("PUSH_DAILY_CEILING", "20000"))
    # Items a slice of bulk work handles at most before it gives its worker back (app.sync.bulk.SLICE_ITEMS is
    # the most); the benches make it smaller when they scale a case's items and times down.
    BULK_SLICE_ITEMS = int(_env("BULK_SLICE_ITEMS", "500"))

    # Mail (Flask-Mailman): password resets and the notices people get when their sync needs them. `make run`
    # starts a local SMTP sink on 8025 that keeps every message in var/mail/ (see the README).
    MAIL_BACKEND = "smtp"  # also under test: the tests read a real SMTP server (Flask-Mailman's default is memory)
    MAIL_SERVER = _env("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = int(_env("MAIL_PORT", "8025"))
    MAIL_USE_TLS = _env("MAIL_USE_TLS", "0") == "1"
    MAIL_USE_SSL = _env("MAIL_USE_SSL", "0") == "1"
    MAIL_USERNAME = _env("MAIL_USERNAME")
    MAIL_PASSWORD = _env("MAIL_PASSWORD")
    MAIL_TIMEOUT = 10
    # The address mail comes from; the name shown beside it is the company's own (white label).
    MAIL_DEFAULT_SENDER = _env("MAIL_DEFAULT_SENDER", "no-reply@portal.localhost")

    # Failed sign-ins allowed before login is paused (Flask-Limiter, counted in REDIS_URL's Redis).
    LOGIN_LIMIT_PER_ACCOUNT = _env("LOGIN_LIMIT_PER_ACCOUNT", "5 per minute;20 per hour")
    LOGIN_LIMIT_PER_IP = _env("LOGIN_LIMIT_PER_IP", "30 per minute;300 per hour")
    PASSWORD_RESET_LIMIT = _env("PASSWORD_RESET_LIMIT", "5 per minute;30 per hour")  # per address
    # A Redis outage must not lock everyone out: the limiter then counts in memory per process.
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True  # Retry-After on a 429
    SECURITY_HSTS = False  # Strict-Transport-Security; production only (set where HTTPS is certain)
    REQUIRE_HTTPS_PORTALS = False  # a company's own portal address must be https (production)
    # /metrics (Prometheus) answers a scrape sending `Authorization: Bearer <METRICS_TOKEN>`; unset: no endpoint.
    METRICS_TOKEN = _env("METRICS_TOKEN")
    # While the platform is updated: every page answers 503 with the company's own maintenance page.
    MAINTENANCE_MODE = _env("MAINTENANCE_MODE", "0") == "1"


class DevelopmentConfig(Config):
    DEBUG = True


class TestConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL", "sqlite://")
    SERVER_NAME = None


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    SECURITY_HSTS = True
    REQUIRE_HTTPS_PORTALS = True

    @classmethod
    def check(cls) -> None:
        """Refuse to start with secrets that are missing or left at their development values."""
        problems = []
        if not os.environ.get("SECRET_KEY") or os.environ["SECRET_KEY"] == DEFAULT_SECRET:
            problems.append("SECRET_KEY")
        if not os.environ.get("TOKEN_ENCRYPTION_KEY") or os.environ["TOKEN_ENCRYPTION_KEY"] == DEV_TOKEN_KEY:
            problems.append("TOKEN_ENCRYPTION_KEY")
        if not os.environ.get("GOOGLE_CLIENT_SECRET"):
            problems.append("GOOGLE_CLIENT_SECRET")
        if problems:
            raise RuntimeError("Production needs these set to real values: " + ", ".join(problems))


CONFIGS = {"development": DevelopmentConfig, "test": TestConfig, "production": ProductionConfig}


def config_from_env() -> type[Config]:
    return CONFIGS[_env("PORTAL_ENV", "development")]
