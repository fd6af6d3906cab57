"""Prove docs/deployment.md: run its checked shell blocks, in order, against a throwaway
PostgreSQL 15 cluster and gunicorn on a loopback port, then use the server over HTTP.

    python scripts/deployment_check.py        (make test runs it; so does tests/test_deployment.py)

Every ``sh`` block of the guide must start with ``# check: <what>`` (run) or ``# check: skip
(<why>)`` (listed with its reason); an unmarked block fails the check, so a new step cannot
be forgotten. The blocks run in one bash session with ``set -eo pipefail``, as an
administrator would paste them into one terminal, with these redirections (printed as they
happen, never hidden):

- paths: ``/srv/tracker``, ``/srv/backups``, ``/etc/tracker``, ``/etc/systemd/system``,
  ``/etc/nginx`` and ``/etc/cron.d`` point into a temporary folder; ``/srv/tracker`` holds
  this working copy (linked) and its ``.venv``, as section 2 of the guide would install them;
- ports: PostgreSQL's 5432 and gunicorn's 8000 become free loopback ports;
- stand-ins on ``PATH``: ``sudo`` (runs the command as the current user; ``-u postgres`` reaches
  the throwaway cluster as its superuser through its Unix socket; TCP connections need their
  password, scram-sha-256, as on a real server), ``systemctl`` (starts the unit's ``ExecStart`` with
  its ``WorkingDirectory``, ``EnvironmentFile`` read as systemd reads it, and ``UMask``; stops it
  with SIGTERM; the ``User=`` line is not applied), ``install`` (drops ``-o``/``-g``: the
  ``tracker`` user is not created on this machine), ``apt-get``, ``adduser`` and ``nginx`` (only
  say they were called).

Hooks run between blocks: after "start the server" the check logs in over HTTP as the
administrator the guide created, with the headers nginx sends (HTTPS, host, port, client
address), checks the session cookie is Secure, and saves a new user through the
administration page; after "restore" and "upgrade" that user logs in, so the saved record
survived the backup and restore. At the end every file under the instance folder and the
backups must be private. Exit status 0 when all of it passed.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import pwd
import re
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@contextlib.contextmanager
def throwaway_cluster(host_auth: str = "trust", sockets: list | None = None):
    """A PostgreSQL 15 cluster on 127.0.0.1 for the ``with`` block; yields the superuser's URL
    (``postgresql+psycopg://postgres@127.0.0.1:PORT/postgres``).

    ``host_auth`` is the authentication of TCP connections: "trust" for the tests, or
    "scram-sha-256" as on a real server (then the superuser connects through the Unix socket,
    whose folder is appended to ``sockets``, like Debian's ``sudo -u postgres psql``)."""
    if not Path(PG_BIN, "initdb").exists():
        raise RuntimeError(f"PostgreSQL 15 server binaries not found in {PG_BIN} (apt-get install postgresql-15, "
                           "or set TRACKER_TEST_DATABASE_URL to a server's URL)")
    root = tempfile.mkdtemp(prefix="tracker-pg-")
    os.chmod(root, 0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = os.path.join(root, "data")
    port = free_port()
    started = False
    try:
        subprocess.run(_as_postgres([f"{PG_BIN}/initdb", "-D", data, "-U", "postgres", "--auth-local=trust",
                                     f"--auth-host={host_auth}", "-E", "UTF8", "--locale=C.UTF-8"]),
                       check=True, stdout=subprocess.DEVNULL)
        options = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off"
        subprocess.run(_as_postgres([f"{PG_BIN}/pg_ctl", "-D", data, "-o", options, "-l",
                                     os.path.join(root, "server.log"), "-w", "start"]),
                       check=True, stdout=subprocess.DEVNULL)
        started = True
        if sockets is not None:
            sockets.append(root)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run(_as_postgres([f"{PG_BIN}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"]),
                           stdout=subprocess.DEVNULL)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def postgres_server():
    """The server of ``TRACKER_TEST_DATABASE_URL`` when set, else a throwaway cluster."""
    given = os.environ.get("TRACKER_TEST_DATABASE_URL")
    if given:
        yield given
        return
    with throwaway_cluster() as url:
        yield url


# --- The guide's blocks -----------------------------------------------------------------------

GUIDE = ROOT / "docs" / "deployment.md"
FENCE = re.compile(r"^```sh\n(.*?)^```", re.M | re.S)
MARK = re.compile(r"^# check: (.+)$")
ADMIN_EMAIL = "admin@example.org"
ADMIN_PASSWORD = "check-admin-password-2024"
OFFICER_EMAIL = "officer@example.org"
OFFICER_PASSWORD = "check-officer-password-2024"
PROJECT_ENTRIES = ("tracker", "templates", "static", "wsgi.py", "scripts", "pyproject.toml", "requirements.lock",
                   "README.md", "docs")
# Hooks run after the block of this name.
HOOKS = {"start the server": "save", "restore": "saved-survived", "upgrade": "saved-survived"}


@dataclass
class Block:
    name: str
    text: str

    @property
    def skipped(self) -> bool:
        return self.name.startswith("skip")


def guide_blocks(path: Path = GUIDE) -> list[Block]:
    blocks = []
    for number, match in enumerate(FENCE.finditer(path.read_text(encoding="utf-8")), 1):
        text = match.group(1)
        first = text.splitlines()[0] if text.strip() else ""
        mark = MARK.match(first)
        if not mark:
            raise SystemExit(f"deployment check: sh block {number} of {path.name} has no '# check:' line:\n{text}")
        blocks.append(Block(mark.group(1).strip(), text))
    return blocks


def redirect(text: str, root: Path, pg_port: int, app_port: int) -> str:
    for system_path in ("/srv/tracker", "/srv/backups", "/etc/tracker", "/etc/systemd/system", "/etc/nginx",
                        "/etc/cron.d", "/var/www/html"):
        text = text.replace(system_path, f"{root}{system_path}")
    return text.replace("127.0.0.1:5432", f"127.0.0.1:{pg_port}").replace("127.0.0.1:8000", f"127.0.0.1:{app_port}")


# --- Stand-ins for what a test cannot do to this machine -------------------------------------

SUDO = """#!/bin/bash
# deployment check: sudo runs the command as the current user; -u postgres means the cluster.
as=""
while [ $# -gt 0 ]; do
    case "$1" in
        -u) as="$2"; shift 2 ;;
        --) shift; break ;;
        -*) shift ;;
        *) break ;;
    esac
done
if [ "$as" = postgres ]; then
    # The superuser through the cluster's Unix socket (trusted), like Debian's peer login.
    export PGHOST="$CHECK_PG_SOCKET" PGPORT="$CHECK_PG_PORT" PGUSER=postgres
fi
exec "$@"
"""
SAY = """#!/bin/sh
echo "[deployment check] not run on this machine: $(basename "$0") $*" >&2
"""
INSTALL = """#!/bin/bash
# deployment check: install without -o/-g (the tracker user and group are not created here).
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        -o|-g) shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
exec /usr/bin/install "${args[@]}"
"""
SYSTEMCTL = '''#!{python}
"""deployment check: systemctl for the guide's unit (started as a process, not as a service)."""
import os, shlex, signal, subprocess, sys, time
root = os.environ["CHECK_ROOT"]
units = os.path.join(root, "etc/systemd/system")
words = [a for a in sys.argv[1:] if not a.startswith("-")]
verb, names = words[0], [n.removesuffix(".service") for n in words[1:]]

def unit(name):
    values = {{}}
    with open(os.path.join(units, name + ".service")) as handle:
        for line in handle:
            key, sep, value = line.strip().partition("=")
            if sep and not key.startswith(("#", ";", "[")):
                values[key.strip()] = value.strip()
    return values

def environment_file(path):
    # As systemd reads it: NAME=value, comment lines start with # or ;, outer quotes removed.
    # An inline comment stays in the value, as it does under systemd.
    values = {{}}
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            key, _, value = line.partition("=")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\\"'":
                value = value[1:-1]
            values[key.strip()] = value
    return values

def pid_file(name):
    return os.path.join(root, "run", name + ".pid")

def alive(pid):
    try:
        with open(f"/proc/{{pid}}/stat") as handle:
            return handle.read().split(") ")[1][0] != "Z"
    except OSError:
        return False

def start(name):
    spec = unit(name)
    # systemd gives a User= service its user's HOME: the guide's adduser made it /srv/tracker.
    env = {{"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
            "HOME": os.path.join(root, "srv/tracker")}}
    if "EnvironmentFile" in spec:
        env.update(environment_file(spec["EnvironmentFile"].lstrip("-")))
    mask = int(spec.get("UMask", "0022"), 8)
    os.makedirs(os.path.join(root, "run"), exist_ok=True)
    os.makedirs(os.path.join(root, "var/log"), exist_ok=True)
    log = open(os.path.join(root, "var/log", name + ".log"), "ab")
    process = subprocess.Popen(shlex.split(spec["ExecStart"]), cwd=spec.get("WorkingDirectory"), env=env,
                               stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                               preexec_fn=lambda: os.umask(mask))
    with open(pid_file(name), "w") as handle:
        handle.write(str(process.pid))
    print(f"[deployment check] started {{name}} (pid {{process.pid}}, UMask={{spec.get('UMask')}}, "
          f"User={{spec.get('User')}} not applied)", file=sys.stderr)

def stop(name):
    try:
        pid = int(open(pid_file(name)).read())
    except OSError:
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.time() + 30
    while alive(pid) and time.time() < deadline:
        time.sleep(0.2)
    if alive(pid):
        os.killpg(pid, signal.SIGKILL)
    os.unlink(pid_file(name))
    print(f"[deployment check] stopped {{name}}", file=sys.stderr)

for name in names:
    if not os.path.exists(os.path.join(units, name + ".service")):
        print(f"[deployment check] not run on this machine: systemctl {{verb}} {{name}}", file=sys.stderr)
        continue
    if verb in ("start",) or (verb == "enable" and "--now" in sys.argv):
        start(name)
    elif verb == "stop":
        stop(name)
    elif verb in ("restart", "reload"):
        stop(name)
        start(name)
if verb == "daemon-reload":
    pass
'''


def write_stand_ins(bin_dir: Path) -> None:
    bin_dir.mkdir(parents=True)
    scripts = {"sudo": SUDO, "install": INSTALL, "systemctl": SYSTEMCTL.format(python=sys.executable)}
    for name in ("apt-get", "adduser", "nginx", "certbot"):
        scripts[name] = SAY
    for name, body in scripts.items():
        path = bin_dir / name
        path.write_text(body)
        path.chmod(0o755)


def prepare_project(root: Path) -> Path:
    """/srv/tracker as section 2 leaves it: the code and its .venv (this working copy, linked)."""
    home = root / "srv" / "tracker"
    home.mkdir(parents=True)
    for entry in PROJECT_ENTRIES:
        if (ROOT / entry).exists():
            (home / entry).symlink_to(ROOT / entry)
    (home / ".venv").symlink_to(ROOT / ".venv")
    return home


# --- Using the server as a browser behind nginx would -----------------------------------------

class Browser:
    """HTTP to gunicorn with the headers nginx adds; keeps cookies itself (they are Secure, and
    the hop from nginx to gunicorn is plain HTTP)."""

    TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.secure_cookie = False

    def request(self, method: str, path: str, form: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Host": "tracker.example.org", "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
                   "X-Forwarded-Host": "tracker.example.org", "X-Forwarded-Port": "443",
                   "Referer": f"https://tracker.example.org{path}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
            self.secure_cookie = self.secure_cookie or "; Secure" in cookie
        connection.close()
        return response.status, text

    def token(self, path: str) -> str:
        status, page = self.request("GET", path)
        if status != 200:
            raise CheckFailed(f"GET {path} answered {status}")
        match = self.TOKEN.search(page)
        if not match:
            raise CheckFailed(f"no CSRF token on {path}")
        return match.group(1)

    def log_in(self, email: str, password: str) -> None:
        token = self.token("/login")
        status, page = self.request("POST", "/login", {"csrf_token": token, "email": email, "password": password})
        if status != 303:
            raise CheckFailed(f"logging in as {email} answered {status}: {page[:400]}")
        if not self.secure_cookie:
            raise CheckFailed("the session cookie is not marked Secure although TRACKER_SECURE_COOKIES=1")


class CheckFailed(Exception):
    pass


def hook(name: str) -> None:
    """Run inside the guide's bash session (``--hook NAME``)."""
    port = int(os.environ["CHECK_APP_PORT"])
    if name == "save":
        admin = Browser(port)
        admin.log_in(ADMIN_EMAIL, ADMIN_PASSWORD)
        token = admin.token("/admin/users")
        status, page = admin.request("POST", "/admin/users", {
            "csrf_token": token, "email": OFFICER_EMAIL, "name": "Field Officer",
            "password": OFFICER_PASSWORD, "confirm": OFFICER_PASSWORD})
        if status != 303:
            raise CheckFailed(f"creating a user through /admin/users answered {status}: {page[:400]}")
        status, page = admin.request("GET", "/admin/users")
        if status != 200 or OFFICER_EMAIL not in page:
            raise CheckFailed("the user saved through /admin/users is not on the list")
        print(f"[deployment check] logged in over HTTP as {ADMIN_EMAIL} and saved {OFFICER_EMAIL}", file=sys.stderr)
    elif name == "saved-survived":
        Browser(port).log_in(OFFICER_EMAIL, OFFICER_PASSWORD)
        print(f"[deployment check] {OFFICER_EMAIL} (saved over HTTP) logs in", file=sys.stderr)
    else:
        raise SystemExit(f"unknown hook {name}")


def session_script(blocks: list[Block], root: Path, pg_port: int, app_port: int) -> str:
    lines = ["set -eo pipefail"]
    for block in blocks:
        if block.skipped:
            lines.append(f"echo {shlex.quote(f'== [not run] {block.name}')} >&2")
            continue
        lines.append(f"echo {shlex.quote(f'== {block.name}')} >&2")
        lines.append(redirect(block.text, root, pg_port, app_port))
        if block.name in HOOKS:
            lines.append(f'"$CHECK_PYTHON" "$CHECK_SCRIPT" --hook {HOOKS[block.name]}')
    return "\n".join(lines) + "\n"


def private_everywhere(*folders: Path) -> list[str]:
    problems = []
    for folder in folders:
        for path in [folder, *folder.rglob("*")]:
            if path.is_symlink():
                continue
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077 and not (path == folder and mode & 0o007 == 0):
                problems.append(f"{path} is {oct(mode)}")
    return problems


def run_check() -> int:
    blocks = guide_blocks()
    root = Path(tempfile.mkdtemp(prefix="tracker-deploy-"))
    app_port = free_port()
    try:
        home = prepare_project(root)
        write_stand_ins(root / "bin")
        for folder in ("etc/systemd/system", "etc/nginx/sites-available", "etc/nginx/sites-enabled", "etc/cron.d",
                       "var/www/html"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        sockets: list[str] = []
        # Passwords are checked on TCP (scram-sha-256), as on a real server: the URLs the
        # guide writes must carry the right ones.
        with throwaway_cluster(host_auth="scram-sha-256", sockets=sockets) as server_url:
            pg_port = int(server_url.rsplit(":", 1)[1].split("/")[0])
            script = root / "session.sh"
            script.write_text(session_script(blocks, root, pg_port, app_port))
            env = dict(os.environ, PATH=f"{root / 'bin'}:{PG_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
                       CHECK_ROOT=str(root), CHECK_PG_PORT=str(pg_port), CHECK_APP_PORT=str(app_port),
                       CHECK_PG_SOCKET=sockets[0],
                       CHECK_PYTHON=sys.executable, CHECK_SCRIPT=str(Path(__file__).resolve()),
                       TRACKER_ETC=f"{root}/etc/tracker", TRACKER_USER=pwd.getpwuid(os.getuid()).pw_name)
            for name in [n for n in env if n.startswith(("TRACKER_TEST", "PG")) or n == "TRACKER_DATABASE_URL"]:
                env.pop(name)
            try:
                # An administrator's shell has Debian's umask 022, not the 077 a test process may have.
                result = subprocess.run(["bash", str(script)], cwd=root, env=env, input=f"{ADMIN_PASSWORD}\n",
                                        text=True, timeout=900, preexec_fn=lambda: os.umask(0o022))
            finally:
                subprocess.run([str(root / "bin" / "systemctl"), "stop", "tracker"], env=env)
            log = root / "var" / "log" / "tracker.log"
            if result.returncode != 0:
                if log.exists():
                    print("--- gunicorn's log ---\n" + log.read_text()[-4000:], file=sys.stderr)
                print(f"DEPLOYMENT CHECK FAILED: a block of {GUIDE.name} exited with {result.returncode}",
                      file=sys.stderr)
                return 1
        problems = private_everywhere(home / "instance", root / "srv" / "backups")
        if problems:
            print("DEPLOYMENT CHECK FAILED: files open to others:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1
        ran = [b.name for b in blocks if not b.skipped]
        skipped = [b.name for b in blocks if b.skipped]
        print(f"Deployment check passed: {len(ran)} blocks of {GUIDE.name} ran in order ({', '.join(ran)}); "
              f"{len(skipped)} not run: {'; '.join(skipped)}.")
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--hook":
        try:
            hook(argv[1])
        except CheckFailed as error:
            print(f"DEPLOYMENT CHECK FAILED: {error}", file=sys.stderr)
            return 1
        return 0
    return run_check()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
