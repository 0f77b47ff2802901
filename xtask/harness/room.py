"""A workshop room: JupyterHub on one machine, one Unix account per learner.

`cargo xtask room` installs the room's pinned packages, then calls `serve`;
`cargo xtask room --remove-accounts` calls `remove-accounts`; `cargo xtask room-bench`
calls `bench`; `cargo xtask test` runs test_room.py, which uses this module.

    python xtask/harness/room.py serve --learners FILE [--teacher NAME] [--address IP]
                                       [--port N] [--cull-after-minutes M]
                                       [--ssl-cert FILE --ssl-key FILE]
    python xtask/harness/room.py remove-accounts
    python xtask/harness/room.py bench --learners N [--no-seed] [--notebook 01]
                                       (the bench itself: room_bench.py)

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
import grp
import hashlib
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
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
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
        # Each cell is a library that needs the toolchain's libstd. rustc records where
        # it is as a path relative to the cell's build folder, which breaks when that
        # folder (in /tmp) and the toolchain share a parent and cargo copies the library
        # one level up: seen with a course cloned under /tmp ("dlopen failed" at every
        # kernel start). The loader looks in LD_LIBRARY_PATH first.
        sysroot = self.toolchain_bin.parent
        host = next(line.split()[1] for line in
                    run([str(self.toolchain_bin / "rustc"), "-vV"]).stdout.splitlines()
                    if line.startswith("host:"))
        return {
            "PATH": f"{self.toolchain_bin}:/usr/local/bin:/usr/bin:/bin",
            "LD_LIBRARY_PATH": f"{sysroot}/lib/rustlib/{host}/lib:{sysroot}/lib",
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
        if name not in members() or entry.pw_gecos != COMMENT:
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
    owned = [course, *course.rglob("*")]
    if (home / ".cache").exists():
        owned += [home / ".cache", *(home / ".cache").rglob("*")]
    for p in owned:
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
        import room_bench
        return room_bench.bench(args)
    except RoomError as e:
        print(f"room: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
