"""The user commands: create (password from standard input), grant, list, set-password,
deactivate; and demo accounts that a setting turns off."""

from sqlalchemy import func, select

from tests.conftest import close_app, make_app
from tracker.extensions import db
from tracker.models import AuditEvent, Membership, Project, User


def login(client, email, password):
    return client.post("/login", data={"email": email, "password": password})


def project_code(app):
    with app.app_context():
        return db.session.execute(select(Project.code, Project.id)).one()


def test_create_reads_the_password_from_stdin(app, runner):
    result = runner.invoke(args=["user", "create", "Lan@Example.test", "--name", "Vũ Ngọc Lan",
                                 "--password-stdin"], input="a-long-secret\n")
    assert result.exit_code == 0, result.output
    assert "Created lan@example.test" in result.output and "a-long-secret" not in result.output
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == "lan@example.test")).scalar_one()
        assert user.name == "Vũ Ngọc Lan" and not user.is_admin and user.check_password("a-long-secret")
        event = db.session.execute(select(AuditEvent).where(AuditEvent.table_name == "user",
                                                             AuditEvent.row_id == user.id)).scalar_one()
        assert event.action == "insert" and event.actor_label == "cli" and "a-long-secret" not in event.changes
    assert login(app.test_client(), "lan@example.test", "a-long-secret").status_code == 303


def test_create_admin(app, runner):
    result = runner.invoke(args=["user", "create", "boss@example.test", "--name", "Boss", "--admin",
                                 "--password-stdin"], input="a-long-secret\n")
    assert result.exit_code == 0 and "(admin)" in result.output
    with app.app_context():
        assert db.session.execute(select(User.is_admin).where(User.email == "boss@example.test")).scalar()


def test_the_password_is_never_an_argument(app, runner):
    # Without --password-stdin the command refuses; there is no --password option at all.
    result = runner.invoke(args=["user", "create", "x@example.test", "--name", "X"])
    assert result.exit_code != 0 and "--password-stdin" in result.output
    result = runner.invoke(args=["user", "create", "x@example.test", "--name", "X", "--password", "secret123"])
    assert result.exit_code != 0 and "No such option" in result.output
    help_text = runner.invoke(args=["user", "create", "--help"]).output
    assert "--password-stdin" in help_text and "--password " not in help_text


def test_create_refuses_bad_input_and_changes_nothing(app, runner):
    with app.app_context():
        before = db.session.execute(select(func.count()).select_from(User)).scalar()
    cases = [
        (["user", "create", "officer@demo.test", "--name", "Again", "--password-stdin"], "a-long-secret\n",
         "exists already"),
        (["user", "create", "not-an-email", "--name", "X", "--password-stdin"], "a-long-secret\n",
         "not an email"),
        (["user", "create", "short@example.test", "--name", "X", "--password-stdin"], "short\n", "at least 8"),
        (["user", "create", "empty@example.test", "--name", "X", "--password-stdin"], "\n", "No password"),
    ]
    for args, stdin, message in cases:
        result = runner.invoke(args=args, input=stdin)
        assert result.exit_code != 0 and message in result.output, (args, result.output)
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(User)).scalar() == before


def test_the_cli_and_the_pages_refuse_with_the_same_words(app, runner, client, auth, demo):
    """One rule, one message: the CLI and the pages call the same account services."""
    taken = "A user with the email officer@demo.test exists already."
    cli = runner.invoke(args=["user", "create", "officer@demo.test", "--name", "Again", "--password-stdin"],
                        input="a-long-secret\n")
    auth.login("admin")
    page = client.post("/admin/users", data={"email": "officer@demo.test", "name": "Again",
                                             "password": "a-long-secret", "confirm": "a-long-secret"})
    assert cli.exit_code != 0 and taken in cli.output
    assert page.status_code == 422 and taken in page.get_data(as_text=True)

    unknown = "No user with the email nobody@demo.test."
    code, _project_id = project_code(app)
    cli = runner.invoke(args=["user", "grant", "nobody@demo.test", code, "liaison"])
    page = client.post(f"/projects/{demo}/members", data={"email": "nobody@demo.test", "role": "liaison"})
    assert cli.exit_code != 0 and unknown in cli.output
    assert page.status_code == 422 and unknown in page.get_data(as_text=True)


def test_grant_by_project_code_or_id(app, runner):
    code, project_id = project_code(app)
    runner.invoke(args=["user", "create", "new@example.test", "--name", "New", "--password-stdin"],
                  input="a-long-secret\n")
    result = runner.invoke(args=["user", "grant", "new@example.test", code, "liaison"])
    assert result.exit_code == 0 and f"new@example.test is liaison on {code}" in result.output
    result = runner.invoke(args=["user", "grant", "NEW@example.test", str(project_id), "auditor"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        roles = db.session.execute(select(Membership.role).join(User)
                                   .where(User.email == "new@example.test")).scalars().all()
    assert roles == ["auditor"]  # one membership, the role replaced
    client = app.test_client()
    login(client, "new@example.test", "a-long-secret")
    assert client.get(f"/projects/{project_id}/audit").status_code == 200


def test_grant_refuses_unknown_role_project_or_user(app, runner):
    code, _ = project_code(app)
    for args, message in (
        (["user", "grant", "officer@demo.test", code, "boss"], "Unknown role"),
        (["user", "grant", "officer@demo.test", "NO-SUCH", "liaison"], "No project with the code or id NO-SUCH"),
        (["user", "grant", "nobody@demo.test", code, "liaison"], "No user with the email"),
    ):
        result = runner.invoke(args=args)
        assert result.exit_code != 0 and message in result.output, result.output


def test_list_shows_users_roles_and_state(app, runner):
    code, _ = project_code(app)
    runner.invoke(args=["user", "deactivate", "liaison@demo.test"])
    output = runner.invoke(args=["user", "list"]).output
    lines = {line.split()[0]: line for line in output.splitlines()}
    assert f"officer@{code}" in lines["officer@demo.test"]
    assert "admin" in lines["admin@demo.test"]
    assert "deactivated" in lines["liaison@demo.test"] and "deactivated" not in lines["officer@demo.test"]
    assert "Trần Văn Hùng" in lines["officer@demo.test"]


def test_set_password(app, runner):
    result = runner.invoke(args=["user", "set-password", "officer@demo.test", "--password-stdin"],
                           input="another-secret\n")
    assert result.exit_code == 0 and "another-secret" not in result.output
    client = app.test_client()
    assert login(client, "officer@demo.test", "demo-officer-pass").status_code == 422
    assert login(client, "officer@demo.test", "another-secret").status_code == 303
    result = runner.invoke(args=["user", "set-password", "officer@demo.test", "--password-stdin"], input="short\n")
    assert result.exit_code != 0 and "at least 8" in result.output
    result = runner.invoke(args=["user", "set-password", "nobody@demo.test", "--password-stdin"], input="x" * 9)
    assert result.exit_code != 0 and "No user" in result.output


def test_deactivate_then_login_fails(app, runner):
    client = app.test_client()
    assert login(client, "officer@demo.test", "demo-officer-pass").status_code == 303
    result = runner.invoke(args=["user", "deactivate", "officer@demo.test"])
    assert result.exit_code == 0 and "deactivated" in result.output
    assert client.get("/").status_code == 302  # the open session ends too
    response = login(app.test_client(), "officer@demo.test", "demo-officer-pass")
    assert response.status_code == 422 and b"Email or password is not right." in response.data
    with app.app_context():
        event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "update",
                                                             AuditEvent.table_name == "user")).scalar_one()
        assert event.changes == '{"active": [true, false]}' and event.actor_label == "cli"


def test_demo_accounts_can_be_turned_off(databases, tmp_path):
    app = make_app(databases, tmp_path, kind="empty", DEMO_ACCOUNTS=False)
    try:
        result = app.test_cli_runner().invoke(args=["demo"])
        assert result.exit_code == 0, result.output
        assert "password" not in result.output
        with app.app_context():
            assert db.session.execute(select(func.count()).select_from(User)).scalar() == 0
            assert db.session.execute(select(func.count()).select_from(Project)).scalar() == 1
    finally:
        close_app(databases, app)


def test_demo_accounts_on_by_default(empty_app):
    result = empty_app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0
    for role in ("manager", "officer", "liaison", "auditor"):
        assert f"{role}@demo.test" in result.output and f"demo-{role}-pass" in result.output
    with empty_app.app_context():
        roles = dict(db.session.execute(select(User.email, Membership.role).join(Membership)).all())
    assert roles == {"manager@demo.test": "manager", "officer@demo.test": "officer",
                     "liaison@demo.test": "liaison", "auditor@demo.test": "auditor"}
