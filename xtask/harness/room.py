"""A workshop room: JupyterHub on one machine, one Unix account per learner.

`cargo xtask room` installs the room's pinned packages, then calls `serve`;
`cargo xtask room --remove-accounts` calls `remove-accounts`; `cargo xtask room-bench`
calls `bench`; `cargo xtask test` runs test_room.py, which uses this module.

    python xtask/harness/room.py serve --learners FILE [--teacher NAME] [--address IP]
                                       [--port N] [--cull-after-minutes M]
                                       [--ssl-cert FILE --ssl-key FILE]
    python xtask/harness/room.py remove-accounts
    python xtask/harness/room.py bench --learners N [--no-seed] [--notebook 01]

What the room shares and what each learner gets (all under target/room/ unless said):
- venv/       Python with JupyterLab and JupyterHub (pinned: xtask/requirements.txt and
              xtask/room/requirements.txt), made from a Python every account can run
              (the course's .venv may point into your home);
- node/       the proxy JupyterHub puts in front (pinned: xtask/room/package*.json);
- toolchain/  the Rust toolchain, hard-linked from yours when learners cannot read it
              where it is (rustup keeps it in a home only you can enter);
- bin/        the course's evcxr_jupyter build, copied for the same reason;
- cargo/      a CARGO_HOME with every crate the notebooks use, read-only for learners
              (cargo needs no write access there when it runs offline);
- jupyter/    the `rust` kernelspec the learners' servers use (JUPYTER_PATH), which
              points at the three above and sets CARGO_NET_OFFLINE=true;
- seed/       evcxr's cache, warmed once by `cargo xtask warm` run through that kernel;
              each new learner gets a copy in ~/.cache/evcxr, so their first `:dep
              tokio` takes seconds: the cache is keyed by rustc's command line, which
              names the toolchain, CARGO_HOME and helpers paths, the same for everybody;
- hub/        the hub's database, cookie secret and the cards' password hashes (root only);
- cards.txt   each learner's name and password, to print and hand out (root only).
- /home/NAME  each learner's Unix account (group `course-room`, no password, home
              mode 0700): ~/course/notebooks is their own copy of notebooks/, beside a
              link ~/course/helpers to the course's helpers (read-only to them), so the
              notebooks' `path = "../helpers"` works as in the repository.
"""

from __future__ import annotations

import argparse
import asyncio
import grp
import hashlib
import http.cookiejar
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from nbrun import descendants

ROOT = Path(__file__).resolve().parents[2]
ROOM = ROOT / "target" / "room"
GROUP = "course-room"
COMMENT = "course room learner (cargo xtask room)"
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,30}$")
VENV = ROOM / "venv"
VENV_BIN = VENV / "bin"
# Letters that cannot be misread on a printed card (no 0/O, 1/l/I).
CARD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class RoomError(Exception):
    """A problem the teacher can fix; printed as one clear message."""


def say(msg: str) -> None:
    print(f"room: {msg}", flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        raise RoomError(f"`{' '.join(map(str, cmd))}` failed: "
                        f"{(done.stderr or done.stdout).strip()}")
    return done


# ---------------------------------------------------------------- learner list

def check_name(name: str, where: str) -> str:
    if not NAME_RE.match(name):
        raise RoomError(
            f"{where}: {name!r} is not a name the room can use: a Unix account name, "
            "lower-case letters, digits, '-' or '_', starting with a letter, at most 31 "
            "characters (e.g. 'ada' or 'ada-l')")
    return name


def read_learners(path: Path) -> list[str]:
    """One name per line; blank lines and `#` comments are skipped."""
    try:
        text = path.read_text()
    except OSError as e:
        raise RoomError(f"cannot read the learner list {path}: {e.strerror}") from e
    names: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name = check_name(line.lower(), f"{path}, line {number}")
        if name in names:
            raise RoomError(f"{path}, line {number}: {name!r} is listed twice")
        names.append(name)
    if not names:
        raise RoomError(f"{path} lists no learner (one name per line)")
    return names


# ---------------------------------------------------------------- shared parts

def others_can_reach(path: Path) -> bool:
    """Whether a user who is neither owner nor group can read `path` (every folder on
    the way must let them through)."""
    path = path.resolve()
    for p in [path, *path.parents]:
        mode = p.stat().st_mode
        if p != path and not mode & 0o001:
            return False
    return bool(path.stat().st_mode & 0o004)


def link_tree(src: Path, dst: Path) -> None:
    """Hard links (same disk: instant, no space), else a copy."""
    tmp = dst.with_name(dst.name + ".new")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    if subprocess.run(["cp", "-al", str(src), str(tmp)], capture_output=True).returncode:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(src, tmp, symlinks=True)
    shutil.rmtree(dst, ignore_errors=True)
    tmp.rename(dst)


@dataclass
class Shared:
    toolchain_bin: Path
    kernel: Path
    cargo_home: Path
    jupyter_path: Path
    seed: Path

    def kernel_env(self) -> dict[str, str]:
        return {
            "PATH": f"{self.toolchain_bin}:/usr/local/bin:/usr/bin:/bin",
            "CARGO_HOME": str(self.cargo_home),
            "CARGO_NET_OFFLINE": "true",
            "RUST_BACKTRACE": "0",
        }


def toolchain_bin() -> Path:
    sysroot = Path(run(["rustc", "--print", "sysroot"]).stdout.strip())
    if others_can_reach(sysroot / "bin" / "rustc"):
        return sysroot / "bin"
    version = run(["rustc", "--version"]).stdout.strip()
    mine = ROOM / "toolchain"
    stamp = ROOM / "toolchain.version"
    if not (stamp.exists() and stamp.read_text() == version):
        say(f"learners cannot read your toolchain in {sysroot}: linking it into {mine}")
        link_tree(sysroot, mine)
        stamp.write_text(version)
    return mine / "bin"


def kernel_binary() -> Path:
    found = shutil.which("evcxr_jupyter")
    if not found:
        raise RoomError("evcxr_jupyter is not installed: run `cargo xtask setup`")
    src = Path(found).resolve()
    if others_can_reach(src):
        return src
    dst = ROOM / "bin" / "evcxr_jupyter"
    if not dst.exists() or dst.stat().st_size != src.stat().st_size \
            or dst.stat().st_mtime < src.stat().st_mtime:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    return dst


def cargo_home() -> Path:
    home = ROOM / "cargo"
    if not (home / "registry").exists():
        mine = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo")) / "registry"
        if mine.exists():
            say(f"a CARGO_HOME for the room: linking the crates you have into {home}")
            link_tree(mine, home / "registry")
        home.mkdir(parents=True, exist_ok=True)
    return home


def fingerprint(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
        h.update(b"\0")
    return h.hexdigest()[:16]


def helpers_fingerprint() -> bytes:
    files = sorted(p for p in (ROOT / "helpers").rglob("*")
                   if p.is_file() and "target" not in p.parts)
    return b"".join(str(p.relative_to(ROOT)).encode() + p.read_bytes() for p in files)


def stamp_ok(stamp: Path, key: str) -> bool:
    return stamp.exists() and stamp.read_text() == key


def python_for_everyone() -> str:
    """A Python interpreter (and its standard library) other accounts can run."""
    candidates = [Path(sys.executable).resolve(), Path(sys.base_prefix) / "bin" / "python3",
                  Path("/usr/bin/python3"), Path("/usr/local/bin/python3")]
    for c in candidates:
        if c.exists() and others_can_reach(c.resolve()):
            base = run([str(c), "-c", "import sys; print(sys.base_prefix)"]).stdout.strip()
            if others_can_reach(Path(base)):
                return str(c)
    raise RoomError("no Python that every account can run (tried "
                    + ", ".join(map(str, candidates)) + "): install python3 system-wide "
                    "(Debian: apt install python3 python3-venv)")


def install_tools() -> None:
    """The room's Python environment and proxy, pinned; redone when a pin changes."""
    reqs = [ROOT / "xtask/requirements.txt", ROOT / "xtask/room/requirements.txt"]
    key = fingerprint(*(r.read_bytes() for r in reqs))
    if not stamp_ok(ROOM / "venv.installed", key):
        python = python_for_everyone()
        say(f"a Python environment for the room in {VENV} (from {python})")
        shutil.rmtree(VENV, ignore_errors=True)
        made = subprocess.run([python, "-m", "venv", str(VENV)], capture_output=True,
                              text=True)
        if made.returncode and shutil.which("apt-get") and os.geteuid() == 0:
            say("installing Debian's python3-venv (venv needs it)")
            run(["apt-get", "install", "-y", "-q", "python3-venv"])
            made = subprocess.run([python, "-m", "venv", str(VENV)], capture_output=True,
                                  text=True)
        if made.returncode:
            raise RoomError(f"could not make {VENV}: {made.stderr.strip()}")
        t = time.monotonic()
        run([str(VENV_BIN / "pip"), "install", "-q", "--disable-pip-version-check",
             *[a for r in reqs for a in ("-r", str(r))]])
        say(f"JupyterHub and JupyterLab installed in {time.monotonic() - t:.0f} s")
        (ROOM / "venv.installed").write_text(key)
    # The course's JupyterLab settings (no news pop-up), as `setup` writes them.
    settings = Path(sys.prefix) / "share/jupyter/lab/settings/overrides.json"
    if settings.exists():
        dst = VENV / "share/jupyter/lab/settings/overrides.json"
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(settings, dst)
    node = ROOM / "node"
    lock = ROOT / "xtask/room/package-lock.json"
    key = fingerprint((ROOT / "xtask/room/package.json").read_bytes(), lock.read_bytes())
    if not stamp_ok(ROOM / "node.installed", key):
        if not shutil.which("npm"):
            if not (shutil.which("apt-get") and os.geteuid() == 0):
                raise RoomError("the room's proxy needs Node.js and npm: install them "
                                "(Debian: apt install nodejs npm) and run again")
            say("installing Debian's nodejs and npm (for JupyterHub's proxy)")
            run(["apt-get", "update", "-q"])
            run(["apt-get", "install", "-y", "-q", "nodejs", "npm"])
        node.mkdir(parents=True, exist_ok=True)
        for f in ["package.json", "package-lock.json"]:
            shutil.copy2(ROOT / "xtask/room" / f, node / f)
        say("installing JupyterHub's proxy (configurable-http-proxy, npm ci)")
        run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=node)
        (ROOM / "node.installed").write_text(key)


def prepare(warm: bool = True) -> Shared:
    """Make the parts every learner shares, once; later calls reuse them. `warm=False`
    (the room's own test) skips warming the cache new learners start with."""
    ROOM.mkdir(parents=True, exist_ok=True)
    install_tools()
    shared = Shared(toolchain_bin(), kernel_binary(), cargo_home(),
                    ROOM / "jupyter", ROOM / "seed")
    spec = shared.jupyter_path / "kernels" / "rust" / "kernel.json"
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(json.dumps({
        "argv": [str(shared.kernel), "--control_file", "{connection_file}"],
        "display_name": "Rust",
        "language": "rust",
        "interrupt_mode": "message",
        "env": shared.kernel_env(),
    }, indent=1))
    key = fingerprint(
        (ROOT / "xtask" / "crates.txt").read_bytes(),
        run([str(shared.kernel), "--version"]).stdout.encode(),
        run(["rustc", "--version"]).stdout.encode(),
        helpers_fingerprint(),
    )
    stamp = shared.seed / "warmed"
    if warm and not (stamp.exists() and stamp.read_text() == key):
        say("warming the cache every learner starts with (`cargo xtask warm` through "
            "the room's kernel; minutes the first time)")
        shutil.rmtree(shared.seed, ignore_errors=True)
        shared.seed.mkdir(parents=True)
        env = dict(os.environ, JUPYTER_PATH=str(shared.jupyter_path),
                   XDG_CACHE_HOME=str(shared.seed))
        # The kernel gets the room's PATH and CARGO_HOME from the kernelspec; the
        # network is allowed here, so crates the room lacks are fetched once.
        env_kernel = dict(shared.kernel_env(), CARGO_NET_OFFLINE="false")
        spec.write_text(json.dumps({**json.loads(spec.read_text()), "env": env_kernel},
                                   indent=1))
        try:
            subprocess.run(["cargo", "xtask", "warm"], cwd=ROOT, env=env, check=True)
        except subprocess.CalledProcessError as e:
            raise RoomError(f"warming the room's cache failed ({e})") from e
        finally:
            spec.write_text(json.dumps({**json.loads(spec.read_text()),
                                        "env": shared.kernel_env()}, indent=1))
        stamp.write_text(key)
    # Learners read (never write) everything shared.
    for part in ["venv", "node", "toolchain", "bin", "cargo", "jupyter"]:
        if (ROOM / part).exists():
            subprocess.run(["chmod", "-R", "a+rX", str(ROOM / part)], check=True)
    for p in [ROOM, *ROOM.parents]:
        if not os.stat(p).st_mode & 0o001:
            raise RoomError(f"learners cannot pass through {p} (mode "
                            f"{oct(os.stat(p).st_mode & 0o777)}); the room needs the "
                            "repository somewhere every account can read")
    return shared


# ---------------------------------------------------------------- accounts

def members() -> list[str]:
    try:
        gid = grp.getgrnam(GROUP).gr_gid
    except KeyError:
        return []
    return sorted(p.pw_name for p in pwd.getpwall()
                  if p.pw_gid == gid or p.pw_name in grp.getgrnam(GROUP).gr_mem)


def ensure_account(name: str, shared: Shared) -> tuple[Path, bool]:
    """The learner's account, home and private copy; returns (home, made now)."""
    if os.geteuid() != 0:
        raise RoomError("the room makes one Unix account per learner: run it as root "
                        "(sudo cargo xtask room ...)")
    try:
        grp.getgrnam(GROUP)
    except KeyError:
        run(["groupadd", "--system", GROUP])
    made = False
    try:
        entry = pwd.getpwnam(name)
        if name not in members():
            raise RoomError(f"a Unix account {name!r} already exists and the room did not "
                            "make it: give that learner another name in the list")
    except KeyError:
        run(["useradd", "--create-home", "--shell", "/bin/bash", "--comment", COMMENT,
             "--user-group", "--groups", GROUP, name])
        entry = pwd.getpwnam(name)
        made = True
    home = Path(entry.pw_dir)
    os.chmod(home, 0o700)
    uid, gid = entry.pw_uid, entry.pw_gid
    course = home / "course"
    notebooks = course / "notebooks"
    fresh = not notebooks.exists()
    notebooks.mkdir(parents=True, exist_ok=True)
    # New notebooks from the course are copied in; the learner's own are never touched.
    src_root = ROOT / "notebooks"
    for src in sorted(src_root.rglob("*")):
        rel = src.relative_to(src_root)
        if any(part.startswith(".") for part in rel.parts) or not src.is_file():
            continue
        dst = notebooks / rel
        if not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    link = course / "helpers"
    if not link.is_symlink():
        link.symlink_to(ROOT / "helpers")
    cache = home / ".cache" / "evcxr"
    seeded = shared.seed / "evcxr"
    if not cache.exists() and seeded.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(seeded, cache)
    for p in [course, *course.rglob("*"), home / ".cache", *(home / ".cache").rglob("*")]:
        os.chown(p, uid, gid, follow_symlinks=False)
    return home, made or fresh


def remove_accounts() -> list[str]:
    """Every account the room made, with its home and processes; then the group."""
    gone = []
    for name in members():
        entry = pwd.getpwnam(name)
        if entry.pw_gecos != COMMENT:
            say(f"left {name!r} alone: it is in {GROUP} but the room did not make it")
            continue
        remove_account(name)
        gone.append(name)
    try:
        grp.getgrnam(GROUP)
        subprocess.run(["groupdel", GROUP], capture_output=True)
    except KeyError:
        pass
    return gone


# ---------------------------------------------------------------- cards

def card_password() -> str:
    return "-".join("".join(secrets.choice(CARD_ALPHABET) for _ in range(4))
                    for _ in range(3))


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def write_cards(state: Path, names: list[str], cards_txt: Path) -> dict[str, str]:
    """A password per name, kept across restarts (the cards stay valid); returns the
    new ones. The plain passwords are only in `cards_txt`, readable by root alone."""
    hashes_file = state / "cards.json"
    hashes = json.loads(hashes_file.read_text()) if hashes_file.exists() else {}
    plain = {}
    if cards_txt.exists():
        for line in cards_txt.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and not line.startswith("#"):
                plain[parts[0]] = parts[1]
    new = {}
    for name in names:
        if name not in hashes or name not in plain:
            plain[name] = card_password()
            hashes[name] = hash_password(plain[name])
            new[name] = plain[name]
    hashes = {n: h for n, h in hashes.items() if n in names}
    old = os.umask(0o077)
    try:
        hashes_file.write_text(json.dumps(hashes, indent=1))
        cards_txt.write_text(
            "# name password: cut along the lines, one card per learner "
            "(cargo xtask room)\n"
            + "".join(f"{n} {plain[n]}\n" for n in names))
    finally:
        os.umask(old)
    return {n: plain[n] for n in names}


# ---------------------------------------------------------------- the hub

def free_port(start: int, host: str = "127.0.0.1") -> int:
    for port in range(start, start + 100):
        with socket.socket() as s:
            try:
                s.bind((host, port))
                return port
            except OSError:
                continue
    raise RoomError(f"no free port from {start} to {start + 99}")


@dataclass
class Hub:
    process: subprocess.Popen
    url: str
    state: Path
    log: Path

    def stop(self) -> None:
        """SIGTERM lets the hub stop every learner's server, its services and the
        proxy. Whatever it started that is still alive 40 s later (they run in
        sessions of their own, so the hub's process group does not cover them) is
        killed, found by parentage before the hub went."""
        started = descendants(self.process.pid)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                pass
        for pid in [self.process.pid, *started]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()


def start_hub(shared: Shared, state: Path, learners: list[str], teacher: str,
              address: str = "127.0.0.1", port: int | None = None,
              cull_after_s: int = 3600, ssl: tuple[str, str] | None = None,
              quiet: bool = False) -> Hub:
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)
    proxy = ROOM / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
    if not proxy.exists():
        raise RoomError(f"{proxy} is missing: `cargo xtask room` installs it (npm ci)")
    port = port or free_port(8000, address)
    scheme = "https" if ssl else "http"
    settings = {
        "bind_url": f"{scheme}://{address}:{port}/",
        "hub_port": free_port(port + 100),
        "proxy_api_port": free_port(port + 200),
        "proxy": str(proxy),
        "venv_bin": str(VENV_BIN),
        "state_dir": str(state),
        "cards": str(state / "cards.json"),
        "learners": learners,
        "teacher": teacher,
        "cull_after_s": cull_after_s,
        "env": {**shared.kernel_env(),
                "JUPYTER_PATH": str(shared.jupyter_path),
                # The learner's servers find Python's tools, not root's PATH.
                "PATH": f"{VENV_BIN}:{shared.kernel_env()['PATH']}"},
        "ssl_cert": ssl[0] if ssl else None,
        "ssl_key": ssl[1] if ssl else None,
    }
    settings_file = state / "settings.json"
    settings_file.write_text(json.dumps(settings, indent=1))
    log = state / "jupyterhub.log"
    out = open(log, "ab") if quiet else None
    env = dict(os.environ, COURSE_ROOM_SETTINGS=str(settings_file))
    process = subprocess.Popen(
        [str(VENV_BIN / "jupyterhub"), "-f", str(ROOT / "xtask/room/jupyterhub_config.py")],
        cwd=state, env=env, stdout=out, stderr=subprocess.STDOUT if quiet else None,
        start_new_session=True)
    url = f"{scheme}://{'127.0.0.1' if address in ('0.0.0.0', '::') else address}:{port}"
    hub = Hub(process, url, state, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RoomError(f"JupyterHub exited ({process.returncode}); its log: {log}"
                            if quiet else f"JupyterHub exited ({process.returncode})")
        try:
            with urllib.request.urlopen(f"{url}/hub/api/", timeout=2,
                                        context=_no_verify()) as r:
                if r.status == 200:
                    return hub
        except OSError:
            time.sleep(0.3)
    hub.stop()
    raise RoomError("JupyterHub did not answer within 60 s")


def _no_verify():
    import ssl
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


# ---------------------------------------------------------------- a learner's browser

@dataclass
class CellRun:
    seconds: float
    ok: bool
    text: str


@dataclass
class Browser:
    """What a learner's browser does: log in, wait for the server, open a notebook's
    kernel and run cells, over the same HTTP and websocket API JupyterLab uses."""
    base: str
    name: str
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def __post_init__(self):
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar),
            urllib.request.HTTPSHandler(context=_no_verify()))

    def cookie(self, name: str, path_prefix: str = "/") -> str | None:
        found = [c for c in self.jar if c.name == name and c.path.startswith(path_prefix)]
        found.sort(key=lambda c: len(c.path), reverse=True)
        return found[0].value if found else None

    def get(self, path: str, timeout: float = 30) -> tuple[int, str, str]:
        try:
            with self.opener.open(self.base + path, timeout=timeout) as r:
                return r.status, r.geturl(), r.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.geturl(), e.read().decode(errors="replace")

    def send(self, method: str, path: str, body: dict | None, xsrf: str | None,
             form: bool = False, timeout: float = 60) -> tuple[int, str]:
        data = None
        headers = {"Referer": self.base + path}
        if form:
            data = urllib.parse.urlencode(body or {}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if xsrf:
            headers["X-XSRFToken"] = xsrf
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers=headers)
        try:
            with self.opener.open(req, timeout=timeout) as r:
                return r.status, r.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    def log_in(self, password: str) -> bool:
        self.get("/hub/login")
        xsrf = self.cookie("_xsrf", "/hub")
        status, _ = self.send("POST", "/hub/login?next=",
                              {"username": self.name, "password": password, "_xsrf": xsrf},
                              None, form=True)
        # The hub answers a good log-in with its login cookie (and a redirect on
        # to the server, which `wait_for_server` follows), a bad one with 403.
        return status != 403 and any(c.name == "jupyterhub-hub-login" for c in self.jar)

    def wait_for_server(self, timeout: float = 180) -> None:
        """Asks the hub to start the server (as the home page does), then follows the
        redirects until the learner's JupyterLab answers."""
        self.get("/hub/spawn")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, url, _ = self.get(f"/user/{self.name}/lab")
            if status == 200 and f"/user/{self.name}/lab" in url:
                return
            time.sleep(0.5)
        raise RoomError(f"{self.name}'s server was not ready within {timeout:.0f} s")

    def open_notebook(self, path: str) -> str:
        xsrf = self.cookie("_xsrf", f"/user/{self.name}")
        status, body = self.send("POST", f"/user/{self.name}/api/sessions",
                                 {"path": path, "type": "notebook", "name": path,
                                  "kernel": {"name": "rust"}}, xsrf)
        if status >= 300:
            raise RoomError(f"{self.name}: could not open a kernel ({status}): {body[:200]}")
        return json.loads(body)["kernel"]["id"]

    def cookies_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


@dataclass
class Cell:
    code: str
    raises: bool = False  # tagged raises-exception: its error is expected


async def run_cells(browser: Browser, kernel_id: str, cells: list[Cell],
                    cell_timeout: float = 300) -> list[CellRun]:
    """Run `cells` one after the other over the kernel's websocket, as JupyterLab
    does (a cell tagged raises-exception is sent with stop_on_error false, so the
    kernel does not drop the cells after it); a cell is done at its
    `execute_reply` and `idle`. A cell's run is ok when it raised exactly when it
    was expected to."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    ws_base = browser.base.replace("http", "ws", 1)
    session = uuid.uuid4().hex
    url = (f"{ws_base}/user/{browser.name}/api/kernels/{kernel_id}/channels"
           f"?session_id={session}")
    # A room starting many kernels at once is slow to answer: wait as a browser would.
    conn = await websocket_connect(HTTPRequest(
        url, headers={"Cookie": browser.cookies_header()}, validate_cert=False,
        connect_timeout=cell_timeout, request_timeout=cell_timeout))
    runs = []
    try:
        for cell in cells:
            msg_id = uuid.uuid4().hex
            await conn.write_message(json.dumps({
                "header": {"msg_id": msg_id, "msg_type": "execute_request",
                           "username": browser.name, "session": session,
                           "date": "", "version": "5.3"},
                "parent_header": {}, "metadata": {}, "channel": "shell",
                "content": {"code": cell.code, "silent": False, "store_history": True,
                            "user_expressions": {}, "allow_stdin": False,
                            "stop_on_error": not cell.raises},
            }))
            start = time.monotonic()
            text, ok, replied, idle = [], True, False, False
            while not (replied and idle):
                left = cell_timeout - (time.monotonic() - start)
                if left <= 0:
                    raise RoomError(f"{browser.name}: a cell ran past {cell_timeout:.0f} s")
                raw = await asyncio.wait_for(conn.read_message(), left)
                if raw is None:
                    raise RoomError(f"{browser.name}: the kernel's websocket closed")
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "stream":
                    text.append(content["text"])
                    if "panicked at" in content["text"]:
                        ok = False
                elif kind == "error":
                    ok = False
                    text.append(f"{content.get('ename')}: {content.get('evalue')}")
                elif kind == "execute_reply":
                    replied = True
                    ok = ok and content.get("status") == "ok"
                elif kind == "status" and content.get("execution_state") == "idle":
                    idle = True
            runs.append(CellRun(time.monotonic() - start, ok != cell.raises,
                                "".join(text)))
    finally:
        conn.close()
    return runs


def code_cells(notebook: Path) -> list[Cell]:
    nb = json.loads(notebook.read_text())
    return [Cell("".join(c["source"]),
                 "raises-exception" in c.get("metadata", {}).get("tags", []))
            for c in nb["cells"] if c["cell_type"] == "code"]


# ---------------------------------------------------------------- memory of a learner

class MemoryWatch:
    """Samples the resident memory of every process each account owns (/proc), and
    keeps each account's peak."""

    def __init__(self, names: list[str], every: float = 0.25):
        self.uids = {pwd.getpwnam(n).pw_uid: n for n in names}
        self.peak = {n: 0 for n in names}
        self.every = every
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _sample(self) -> dict[str, int]:
        now = {n: 0 for n in self.peak}
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/status") as f:
                    uid = rss = None
                    for line in f:
                        if line.startswith("Uid:"):
                            uid = int(line.split()[1])
                        elif line.startswith("VmRSS:"):
                            rss = int(line.split()[1]) * 1024
            except OSError:
                continue
            if uid in self.uids and rss:
                now[self.uids[uid]] += rss
        return now

    def _watch(self) -> None:
        while not self.stopped.wait(self.every):
            for name, rss in self._sample().items():
                self.peak[name] = max(self.peak[name], rss)

    def stop(self) -> dict[str, int]:
        self.stopped.set()
        self.thread.join()
        return self.peak


# ---------------------------------------------------------------- commands

def serve(args) -> int:
    learners = read_learners(Path(args.learners))
    teacher = check_name(args.teacher.lower(), "--teacher")
    if teacher in learners:
        learners.remove(teacher)
    if bool(args.ssl_cert) != bool(args.ssl_key):
        raise RoomError("--ssl-cert and --ssl-key go together")
    shared = prepare()
    for name in [teacher, *learners]:
        _, made = ensure_account(name, shared)
        if made:
            say(f"account {name}: home /home/{name}, notebooks in ~/course/notebooks")
    state = ROOM / "hub"
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)
    cards_txt = ROOM / "cards.txt"
    write_cards(state, [teacher, *learners], cards_txt)
    hub = start_hub(shared, state, learners, teacher, args.address, args.port,
                    args.cull_after_minutes * 60,
                    (args.ssl_cert, args.ssl_key) if args.ssl_cert else None, quiet=True)
    say(f"{len(learners)} learners and the teacher ({teacher}, the only admin) can log in;"
        f" their passwords are in {cards_txt} (readable by root only): print it and cut")
    if args.cull_after_minutes:
        say(f"a server idle for {args.cull_after_minutes} min is stopped (its work is "
            "kept; logging in again starts it)")
    if args.address == "127.0.0.1" and not args.ssl_cert:
        say("serving on 127.0.0.1 only: for a room, pass --address 0.0.0.0 and put TLS "
            "in front (--ssl-cert/--ssl-key, or a reverse proxy such as Caddy or nginx); "
            "see notebooks/README.md")
    print(f"\n    open {hub.url}/\n", flush=True)
    say(f"the hub's log: {hub.log}")
    say("Ctrl-C stops the hub and every learner's server (their work stays in their "
        "homes); `cargo xtask room --remove-accounts` removes the accounts")
    # Ctrl-C, or a SIGTERM from a service manager, stops the hub cleanly.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return hub.process.wait()
    except KeyboardInterrupt:
        say("stopping")
        return 0
    finally:
        hub.stop()


def bench(args) -> int:
    shared = prepare()
    names = [f"bench{i:02d}" for i in range(1, args.learners + 1)]
    state = ROOM / "bench-hub"
    shutil.rmtree(state, ignore_errors=True)
    notebook = next((ROOT / "notebooks").glob(f"{args.notebook}*.ipynb"), None)
    if notebook is None:
        raise RoomError(f"no notebook matches {args.notebook!r}")
    cells = code_cells(notebook)
    hub = None
    try:
        for name in names:
            home, _ = ensure_account(name, shared)
            if args.no_seed:
                shutil.rmtree(home / ".cache" / "evcxr", ignore_errors=True)
        state.mkdir(parents=True)
        os.chmod(state, 0o700)
        cards = write_cards(state, names, state / "cards.txt")
        hub = start_hub(shared, state, names, names[0], cull_after_s=0, quiet=True)
        watch = MemoryWatch(names)
        say(f"{len(names)} learners log in together and run {notebook.name} "
            f"({len(cells)} code cells){' without the warmed cache' if args.no_seed else ''}")

        async def learner(name: str) -> dict:
            try:
                return await learner_steps(name)
            except (RoomError, OSError, asyncio.TimeoutError) as e:
                return {"learner": name, "error": f"{type(e).__name__}: {e}"}

        async def learner_steps(name: str) -> dict:
            b = Browser(hub.url, name)
            t0 = time.monotonic()
            ok = await asyncio.to_thread(b.log_in, cards[name])
            if not ok:
                raise RoomError(f"{name} could not log in")
            await asyncio.to_thread(b.wait_for_server)
            kernel = await asyncio.to_thread(b.open_notebook, notebook.name)
            ready = time.monotonic() - t0
            runs = await run_cells(b, kernel, cells)
            return {"learner": name, "ready_s": ready,
                    "cells_s": [r.seconds for r in runs],
                    "failed_cells": [i + 1 for i, r in enumerate(runs) if not r.ok],
                    "failures": {i + 1: r.text[-400:] for i, r in enumerate(runs)
                                 if not r.ok}}

        async def everyone():
            return await asyncio.gather(*(learner(n) for n in names))

        results = asyncio.run(everyone())
        peak = watch.stop()
        for r in results:
            r["peak_rss_mib"] = peak[r["learner"]] / 2**20
        done = [r for r in results if "error" not in r]
        if not done:
            for r in results:
                say(f"{r['learner']}: {r['error']}")
            raise RoomError("no learner got through the notebook")
        all_cells = sorted(s for r in done for s in r["cells_s"])
        report = {
            "learners": len(names), "notebook": notebook.name, "seeded": not args.no_seed,
            "cores": os.cpu_count(), "per_learner": results,
            "cell_p50_s": pct(all_cells, 50), "cell_p95_s": pct(all_cells, 95),
            "first_cell_p50_s": pct(sorted(r["cells_s"][0] for r in done), 50),
            "ready_p50_s": pct(sorted(r["ready_s"] for r in done), 50),
            "learners_failed": len(results) - len(done),
            "peak_rss_mib_max": max(r["peak_rss_mib"] for r in results),
        }
        print_report(report)
        if report["learners_failed"]:
            say(f"{report['learners_failed']} learner(s) did not get through (above)")
        out = ROOT / "target" / f"room-bench-{len(names)}{'-noseed' if args.no_seed else ''}.json"
        out.write_text(json.dumps(report, indent=1))
        say(f"written to {out.relative_to(ROOT)}")
        return 0
    finally:
        if hub:
            hub.stop()
        for name in names:
            remove_account(name)
        if (state / "jupyterhub.log").exists():
            shutil.copy2(state / "jupyterhub.log", ROOT / "target" / "room-bench-hub.log")
        shutil.rmtree(state, ignore_errors=True)


def remove_account(name: str) -> None:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return
    if entry.pw_gecos != COMMENT:
        return
    subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
    for _ in range(50):
        if subprocess.run(["pgrep", "-u", name], capture_output=True).returncode:
            break
        time.sleep(0.1)
    subprocess.run(["userdel", "--remove", name], capture_output=True)


def pct(values: list[float], p: int) -> float:
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def print_report(r: dict) -> None:
    print(f"\n{r['learners']} learner(s), {r['notebook']}, "
          f"{'warmed cache' if r['seeded'] else 'no warmed cache'}, {r['cores']} cores")
    print(f"{'learner':<10}{'ready s':>9}{'1st cell s':>12}{'cells p50 s':>13}"
          f"{'slowest s':>11}{'peak MiB':>10}  failed cells")
    for x in r["per_learner"]:
        if "error" in x:
            print(f"{x['learner']:<10} did not get through: {x['error']}")
            continue
        c = sorted(x["cells_s"])
        print(f"{x['learner']:<10}{x['ready_s']:>9.1f}{x['cells_s'][0]:>12.1f}"
              f"{pct(c, 50):>13.2f}{c[-1]:>11.1f}{x['peak_rss_mib']:>10.0f}  "
              f"{', '.join(map(str, x['failed_cells'])) or '-'}")
    print(f"all cells: p50 {r['cell_p50_s']:.2f} s, p95 {r['cell_p95_s']:.2f} s; "
          f"first cell p50 {r['first_cell_p50_s']:.1f} s; ready p50 {r['ready_p50_s']:.1f} s;"
          f" peak memory per learner up to {r['peak_rss_mib_max']:.0f} MiB\n", flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="room.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--learners", required=True)
    s.add_argument("--teacher", default="teacher")
    s.add_argument("--address", default="127.0.0.1")
    s.add_argument("--port", type=int)
    s.add_argument("--cull-after-minutes", type=int, default=60)
    s.add_argument("--ssl-cert")
    s.add_argument("--ssl-key")
    sub.add_parser("remove-accounts")
    b = sub.add_parser("bench")
    b.add_argument("--learners", type=int, required=True)
    b.add_argument("--no-seed", action="store_true")
    b.add_argument("--notebook", default="01")
    args = parser.parse_args(argv)
    # A shell that starts us in the background makes us (and so the hub and its
    # services) ignore SIGINT, and the hub stops its services with SIGINT first.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if args.command == "serve":
            return serve(args)
        if args.command == "remove-accounts":
            if os.geteuid() != 0:
                raise RoomError("removing accounts needs root")
            gone = remove_accounts()
            say(f"removed {len(gone)} account(s): {', '.join(gone) or 'none'}")
            return 0
        if args.learners < 1:
            raise RoomError("--learners must be at least 1")
        return bench(args)
    except RoomError as e:
        print(f"room: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
