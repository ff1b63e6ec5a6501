"""A real Dovecot IMAP server on 127.0.0.1, from a throwaway config.

Runs in the foreground (``dovecot -F``) in its own session so the fixture owns
it and can kill the whole process group. Its state lives under /dev/shm: UNIX
socket paths must stay short, and the ext4 disk is slow at creating many files.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from imapclient import IMAPClient

USER = "shop@example.com"
PASSWORD = "secret-imap-pass"
OTHER_USER = "other@example.com"


class RigError(RuntimeError):
    """The rig could not start a server: the suite fails loudly, never skips."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_greeting(port: int, *, deadline: float, proc: subprocess.Popen[bytes]) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RigError(f"dovecot exited with {proc.returncode} before greeting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.settimeout(2)
                if sock.recv(200).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.02)  # polling a port that is not open yet
    raise RigError(f"dovecot gave no IMAP greeting on port {port}")


@dataclass
class Dovecot:
    """A running Dovecot with static users whose mail lives in Maildirs under ``root``."""

    root: Path
    port: int
    process: subprocess.Popen[bytes]
    uid: int
    gid: int
    users: dict[str, str] = field(default_factory=dict)
    _counter: int = 0

    host = "127.0.0.1"

    def maildir(self, user: str = USER) -> Path:
        return self.root / "mail" / user / "Maildir"

    def folder_dir(self, folder: str, user: str = USER) -> Path:
        base = self.maildir(user)
        return base if folder == "INBOX" else base / f".{folder}"

    def client(self, user: str = USER) -> IMAPClient:
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=30)
        client.login(user, self.users[user])
        return client

    def deliver(self, raw: bytes, *, folder: str = "INBOX", user: str = USER) -> Path:
        """Drop one message into a folder's Maildir ``new/`` (fast, no IMAP round trip)."""
        target = self.folder_dir(folder, user)
        for sub in ("cur", "new", "tmp"):
            self._make_owned_dirs(target / sub)
        self._counter += 1
        name = f"{time.time_ns()}.M{self._counter}P{os.getpid()}.rig"
        tmp = target / "tmp" / name
        tmp.write_bytes(raw)
        os.chown(tmp, self.uid, self.gid)
        final = target / "new" / name
        os.rename(tmp, final)
        return final

    def deliver_many(
        self, raws: Iterable[bytes], *, folder: str = "INBOX", user: str = USER
    ) -> int:
        count = 0
        for raw in raws:
            self.deliver(raw, folder=folder, user=user)
            count += 1
        return count

    def _make_owned_dirs(self, path: Path) -> None:
        """Create ``path`` and missing parents, owned by the mail user (Dovecot writes there)."""
        missing = []
        while not path.exists():
            missing.append(path)
            path = path.parent
        for item in reversed(missing):
            item.mkdir(mode=0o700)
            os.chown(item, self.uid, self.gid)

    def append(
        self, raw: bytes, *, folder: str = "INBOX", user: str = USER, flags: tuple[bytes, ...] = ()
    ) -> None:
        """APPEND through IMAP (for tests that need the server to assign the UID now)."""
        with self.client(user) as client:
            client.append(folder, raw, flags=flags)

    def reset_user(self, user: str = USER) -> None:
        """Remove a user's whole mail store: a clean mailbox for the next test."""
        shutil.rmtree(self.root / "mail" / user, ignore_errors=True)

    def reset_uidvalidity(self, folder: str = "INBOX", user: str = USER) -> None:
        """Make Dovecot assign a new UIDVALIDITY (as after a server migration) keeping the mail."""
        base = self.folder_dir(folder, user)
        for name in (
            "dovecot-uidlist",
            "dovecot.index",
            "dovecot.index.cache",
            "dovecot.index.log",
            "dovecot.index.log.2",
        ):
            (base / name).unlink(missing_ok=True)
        # Messages already seen sit in cur/; move them back to new/ so they are re-listed.
        for item in (base / "cur").glob("*") if (base / "cur").exists() else []:
            item.rename(base / "new" / item.name.split(":2,")[0])

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


def _oauth2_config(root: Path, introspection_url: str) -> tuple[str, str]:
    """The auth settings and passdb for an OAuth2 (XOAUTH2/OAUTHBEARER) login, and its file."""
    ext = root / "dovecot-oauth2.conf.ext"
    ext.write_text(
        f"introspection_mode = post\n"
        f"introspection_url = {introspection_url}\n"
        "force_introspection = yes\n"
        "username_attribute = username\n"
        "active_attribute = active\n"
        "active_value = true\n"
    )
    passdb = f"""
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {ext}
}}
"""
    return "auth_mechanisms = plain login xoauth2 oauthbearer", passdb


def _config(
    root: Path, port: int, uid: int, gid: int, *, introspection_url: str | None = None
) -> str:
    mechanisms, oauth_passdb = "auth_mechanisms = plain login", ""
    if introspection_url is not None:
        mechanisms, oauth_passdb = _oauth2_config(root, introspection_url)
    return (
        oauth_passdb
        + f"""
base_dir = {root}/run
state_dir = {root}/state
instance_name = csrig{port}
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
{mechanisms}
auth_failure_delay = 0
default_login_user = nobody
default_internal_user = root
default_internal_group = root
mail_location = maildir:{root}/mail/%u/Maildir
mail_max_userip_connections = 200
first_valid_uid = 0
mail_uid = {uid}
mail_gid = {gid}
protocol imap {{
  mail_max_userip_connections = 200
  imap_idle_notify_interval = 1 secs
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = subscribe
  }}
  mailbox Archive {{
    special_use = \\Archive
    auto = subscribe
  }}
  mailbox Processed {{
    auto = subscribe
  }}
}}
"""
    )


def start_dovecot(*, timeout: float = 20.0, oauth2_introspection_url: str | None = None) -> Dovecot:
    """Start Dovecot with the rig's two users; raise :class:`RigError` if it cannot.

    Args:
        oauth2_introspection_url: Also accept XOAUTH2 logins, checking each token
            with this RFC 7662 introspection endpoint (a test's HTTP server).
    """
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not Path(binary).exists():
        raise RigError(
            "dovecot is not installed: run `apt-get install dovecot-imapd dovecot-core` "
            "(the .ci/run script does this)"
        )
    nobody = pwd.getpwnam("nobody")
    uid, gid = nobody.pw_uid, nobody.pw_gid
    shm = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    root = Path(tempfile.mkdtemp(prefix="dv", dir=shm))
    os.chmod(root, 0o755)
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(mode=0o755)
    os.chown(root / "mail", uid, gid)
    users = {USER: PASSWORD, OTHER_USER: "other-pass"}
    (root / "users").write_text("".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in users.items()))
    port = _free_port()
    (root / "dovecot.conf").write_text(
        _config(root, port, uid, gid, introspection_url=oauth2_introspection_url)
    )
    process = subprocess.Popen(
        [binary, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    server = Dovecot(root=root, port=port, process=process, uid=uid, gid=gid, users=users)
    try:
        _wait_for_greeting(port, deadline=time.monotonic() + timeout, proc=process)
    except RigError as exc:
        log = (
            (root / "dovecot.log").read_text(errors="replace")
            if (root / "dovecot.log").exists()
            else ""
        )
        stderr = (
            process.stderr.read().decode(errors="replace")
            if process.poll() is not None and process.stderr
            else ""
        )
        server.stop()
        raise RigError(f"{exc}\n{stderr}\n{log}") from exc
    return server
