"""Flask extensions, created here and bound to the app in ``create_app``."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()


def _compress():
    """Flask-Compress: text responses (pages, fragments, CSS, JS, JSON, XML) compressed with
    brotli when the client asks for it ("br"), else gzip; nothing when it asks for neither.
    Downloads that are not text (workbooks) and responses under 500 bytes stay as they are.
    Imported here so the rest of the app never depends on the package directly."""
    from flask_compress import Compress

    return Compress()


compress = _compress()


def init_compress(app) -> None:
    """Bind Flask-Compress with the app's choices (each can be overridden in the config)."""
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    # Streamed pages (the printable logframe) are compressed chunk by chunk, gzip included.
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 4)  # brotli's fast levels beat gzip -6 in size and time
    app.config.setdefault("COMPRESS_LEVEL", 6)
    mimetypes = app.config.setdefault("COMPRESS_MIMETYPES", [
        "text/html", "text/css", "text/plain", "text/javascript", "application/javascript",
        "application/json", "application/xml", "text/xml", "image/svg+xml", "text/csv"])
    if "text/event-stream" in mimetypes:  # never buffer server-sent events
        mimetypes.remove("text/event-stream")
    compress.init_app(app)
