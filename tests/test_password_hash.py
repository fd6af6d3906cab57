"""Password hashing: strong by default, cheap only where configured (the test suite)."""

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from tests.conftest import FAST_PASSWORD_HASH
from tracker import create_app
from tracker.accounts import services
from tracker.extensions import db
from tracker.models import User


def test_the_default_method_is_scrypt(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    assert app.config["PASSWORD_HASH_METHOD"] == "scrypt"
    with app.app_context():
        user = User(email="someone@example.test", name="Someone")
        user.set_password("a-long-secret")
        assert user.password_hash.startswith("scrypt:") and user.check_password("a-long-secret")
        assert services._dummy_hash().startswith("scrypt:")


def test_the_configured_method_is_used_and_older_hashes_still_check(app, client):
    assert app.config["PASSWORD_HASH_METHOD"] == FAST_PASSWORD_HASH
    with app.app_context():
        manager = db.session.execute(select(User).where(User.email == "manager@demo.test")).scalar_one()
        # The demo accounts in the test databases were hashed with the cheap method too.
        assert manager.password_hash.startswith(FAST_PASSWORD_HASH + "$")
        assert services._dummy_hash().startswith(FAST_PASSWORD_HASH + "$")
        # A password stored with scrypt (before the setting changed, say) still logs in.
        manager.password_hash = generate_password_hash("an-older-password", method="scrypt")
        db.session.commit()
    response = client.post("/login", data={"email": "manager@demo.test", "password": "an-older-password"})
    assert response.status_code == 303
