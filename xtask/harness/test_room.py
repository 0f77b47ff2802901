"""The workshop room, tested end to end (part of `cargo xtask test`).

Starts the room's JupyterHub with two learner accounts, logs both in through the
hub's log-in page, starts their servers, opens a kernel for each through the
server's REST and websocket API (the path a browser takes) and runs a cell in each:
- a wrong password and a name not on the list are refused;
- each learner's kernel runs as that learner's own Unix account;
- learner A's kernel cannot read learner B's notebook (nor list B's home), and can
  read its own;
Then it stops the hub and removes the accounts, also when a step failed, and checks
that no process, account, home or listening port is left behind.

Needs root (it makes Unix accounts). Exit status: 0 passed, 1 failed, 3 did not run
(not root), with one line saying so.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import room  # noqa: E402
import room_bench  # noqa: E402

LEARNERS = ["roomtest-a", "roomtest-b"]
NOTEBOOK = "00-start-here.ipynb"


def probe_cell(other: str) -> str:
    """Rust run by a learner's kernel: who am I, and what can I read?"""
    return f"""
let uid = std::fs::read_to_string("/proc/self/status").unwrap()
    .lines().find(|l| l.starts_with("Uid:")).unwrap()
    .split_whitespace().nth(1).unwrap().to_string();
println!("room-check uid {{uid}}");
match std::fs::read_to_string("/home/{other}/course/notebooks/{NOTEBOOK}") {{
    Ok(_) => println!("room-check other-notebook READABLE"),
    Err(e) => println!("room-check other-notebook {{:?}}", e.kind()),
}}
match std::fs::read_dir("/home/{other}") {{
    Ok(_) => println!("room-check other-home LISTABLE"),
    Err(e) => println!("room-check other-home {{:?}}", e.kind()),
}}
let own = std::fs::read_to_string("{NOTEBOOK}").map(|s| s.len() > 0);
println!("room-check own-notebook {{own:?}}");
"""


def check(results: list[tuple[str, bool]], what: str, ok: bool) -> None:
    results.append((what, ok))
    print(f"  {'ok  ' if ok else 'FAIL'} {what}", flush=True)


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def main() -> int:
    if os.geteuid() != 0:
        print("room test: did not run: it makes Unix accounts and needs root "
              "(run `sudo cargo xtask test`, or as root in a container)")
        return 3
    # Started in the background, we would ignore SIGINT, and so would the hub's
    # services, which the hub stops with SIGINT first.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    start = time.monotonic()
    results: list[tuple[str, bool]] = []
    state = room.ROOM / "test-hub"
    hub = None
    ports: list[int] = []
    try:
        for name in LEARNERS:
            room.remove_account(name)  # left by a run that was killed
        shared = room.prepare(warm=False)
        for name in LEARNERS:
            room.ensure_account(name, shared)
        shutil.rmtree(state, ignore_errors=True)
        state.mkdir(parents=True)
        cards = room.write_cards(state, LEARNERS, state / "cards.txt")
        hub = room.start_hub(shared, state, LEARNERS, LEARNERS[0], cull_after_s=0,
                             quiet=True)
        settings = (state / "settings.json").read_text()
        import json
        s = json.loads(settings)
        ports = [int(hub.url.rsplit(":", 1)[1]), s["hub_port"], s["proxy_api_port"]]
        print(f"  hub up at {hub.url} in {time.monotonic() - start:.1f} s", flush=True)

        a, b = (room_bench.Browser(hub.url, n) for n in LEARNERS)
        check(results, "a wrong password is refused",
              not room_bench.Browser(hub.url, LEARNERS[0]).log_in(cards[LEARNERS[1]]))
        check(results, "a name not on the list is refused",
              not room_bench.Browser(hub.url, "roomtest-x").log_in(cards[LEARNERS[0]]))
        check(results, f"{a.name} logs in with their card", a.log_in(cards[a.name]))
        check(results, f"{b.name} logs in with their card", b.log_in(cards[b.name]))
        for br in (a, b):
            t = time.monotonic()
            br.wait_for_server()
            kernel = br.open_notebook(NOTEBOOK)
            other = LEARNERS[1] if br is a else LEARNERS[0]
            cell = room_bench.Cell(probe_cell(other))
            runs = asyncio.run(room_bench.run_cells(br, kernel, [cell], 120))
            out = runs[0].text
            uid = pwd.getpwnam(br.name).pw_uid
            print(f"  {br.name}: server, kernel and one cell in "
                  f"{time.monotonic() - t:.1f} s (the cell {runs[0].seconds:.1f} s)",
                  flush=True)
            check(results, f"{br.name}'s cell ran", runs[0].ok)
            check(results, f"{br.name}'s kernel runs as their own account (uid {uid})",
                  f"room-check uid {uid}\n" in out)
            check(results, f"{br.name} cannot read {other}'s notebook",
                  "room-check other-notebook PermissionDenied" in out)
            check(results, f"{br.name} cannot list {other}'s home",
                  "room-check other-home PermissionDenied" in out)
            check(results, f"{br.name} can read their own notebook",
                  "room-check own-notebook Ok(true)" in out)
            if not runs[0].ok or "room-check" not in out:
                print("    the cell printed:\n" + out)
    except Exception as e:  # noqa: BLE001 - report it, then still check the tear-down
        check(results, f"the room ran: {type(e).__name__}: {e}", False)
    finally:
        if hub:
            hub.stop()
        for name in LEARNERS:
            room.remove_account(name)
        if not room.members():  # the group too, unless a real room still uses it
            subprocess.run(["groupdel", room.GROUP], capture_output=True)
        shutil.rmtree(state, ignore_errors=True)
    for name in LEARNERS:
        left = subprocess.run(["pgrep", "-u", name], capture_output=True).returncode == 0 \
            if _exists(name) else False
        check(results, f"{name}: no account, home or process left",
              not _exists(name) and not Path(f"/home/{name}").exists() and not left)
    check(results, f"no group {room.GROUP} left behind (none of its accounts remain)",
          bool(room.members()) or subprocess.run(["getent", "group", room.GROUP],
                                                 capture_output=True).returncode != 0)
    check(results, "no port of the room is still listening",
          not any(listening(p) for p in ports))
    failed = [w for w, ok in results if not ok]
    print(f"room test: {len(results) - len(failed)} of {len(results)} checks passed in "
          f"{time.monotonic() - start:.0f} s")
    return 1 if failed else 0


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


if __name__ == "__main__":
    sys.exit(main())
