# JupyterHub's configuration for a workshop room (`cargo xtask room`).
#
# Everything that changes from one room to the next (addresses, ports, who may log in,
# where the kernel and the warmed crates are) comes from the JSON file named by
# COURSE_ROOM_SETTINGS, written by xtask/harness/room.py; this file holds the decisions:
#
# - Log-in: a name from the teacher's list and the password printed on that learner's
#   card. Passwords are stored as salted scrypt hashes only; there is no sign-up, and
#   the Unix accounts have no password at all (nobody can log in to the machine itself
#   with a card).
# - Isolation: each learner's server runs as that learner's own Unix account
#   (LocalProcessSpawner), in a home only they can enter, on their own copy of the
#   notebooks.
# - The teacher is the only admin.
# - Idle servers are stopped by jupyterhub-idle-culler.
import hashlib
import hmac
import json
import os
import sys

from jupyterhub.auth import Authenticator

settings = json.load(open(os.environ["COURSE_ROOM_SETTINGS"]))


def check_card(password, stored):
    """`stored` is "scrypt$<salt hex>$<hash hex>", as room.py writes it."""
    try:
        kind, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    return hmac.compare_digest(got.hex(), digest)


class CardAuthenticator(Authenticator):
    """A learner logs in with their name and the password on their card."""

    async def authenticate(self, handler, data):
        name = (data.get("username") or "").strip().lower()
        cards = json.load(open(settings["cards"]))
        stored = cards.get(name)
        if stored and check_card(data.get("password") or "", stored):
            return name
        self.log.warning("room: refused a log-in as %r", name)
        return None


c = get_config()  # noqa: F821 (JupyterHub defines it)

c.JupyterHub.authenticator_class = CardAuthenticator
c.Authenticator.allowed_users = set(settings["learners"]) | {settings["teacher"]}
c.Authenticator.admin_users = {settings["teacher"]}
c.JupyterHub.bind_url = settings["bind_url"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings["hub_port"]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:%d" % settings["proxy_api_port"]
c.ConfigurableHTTPProxy.command = [settings["proxy"]]
if settings.get("ssl_cert"):
    c.JupyterHub.ssl_cert = settings["ssl_cert"]
    c.JupyterHub.ssl_key = settings["ssl_key"]
state = settings["state_dir"]
c.JupyterHub.db_url = "sqlite:///" + os.path.join(state, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(state, "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(state, "jupyterhub.pid")
# When the hub stops, so do the learners' servers and the proxy: nothing is left running.
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.cmd = [os.path.join(settings["venv_bin"], "jupyterhub-singleuser")]
c.Spawner.notebook_dir = "~/course/notebooks"
c.Spawner.default_url = "/lab/tree/00-start-here.ipynb"
c.Spawner.environment = settings["env"]
# A first start copies nothing (room.py made the home); give a busy machine time.
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120

if settings["cull_after_s"] > 0:
    c.JupyterHub.services = [
        {
            "name": "idle-culler",
            "command": [
                sys.executable,
                "-m",
                "jupyterhub_idle_culler",
                "--timeout=%d" % settings["cull_after_s"],
            ],
        }
    ]
    c.JupyterHub.load_roles = [
        {
            "name": "idle-culler",
            "scopes": [
                "list:users",
                "read:users:activity",
                "read:servers",
                "delete:servers",
            ],
            "services": ["idle-culler"],
        }
    ]
