"""The service's settings: its config file, the roots it watches, and what it leaves alone.

Configuration: ``$RELOCATOR_CONFIG``, else ``service.toml`` in the platformdirs
config folder; top-level keys ``roots`` (added to the providers' sync roots),
``ignore`` (folders left alone), ``quiet`` (seconds; ``$RELOCATOR_SERVICE_QUIET``
wins), ``mode`` (``auto``, ``events`` or ``poll``), ``trees`` (what ``relocate
adopt`` relocates besides the venv when a project's ``[tool.relocator]`` says
nothing: true, false, or a list of tree names) and ``trash_days`` (how long the
trash keeps what relocator retired; ``$RELOCATOR_TRASH_DAYS`` wins).

Opting out: a ``.relocator-ignore`` file in a project, or in any folder above it
up to its root, or the project under a folder of the config's ``ignore`` list.
"""

from __future__ import annotations

import math
import os
import sys

from relocator.errors import RelocatorError
from relocator.paths import resolver
from relocator.records import NamedTuple
from relocator.system.files import is_under, read_regular

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

IGNORE_FILE = ".relocator-ignore"
DEFAULT_QUIET = 10.0
MODES = ("auto", "events", "poll")
CONFIG_LIMIT = 1 << 20  # bytes: a config is a few lines


class Config(NamedTuple):
    roots: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    quiet: float = DEFAULT_QUIET
    mode: str = "auto"
    trees: object = None  # relocate adopt's --trees when a project says nothing (treechoice.parse)
    trash_days: float = 14.0  # how long the trash keeps what relocator retired


def config_path() -> str:
    given = os.environ.get("RELOCATOR_CONFIG", "")
    if given:
        return os.path.abspath(os.path.expanduser(given))
    if os.name != "posix":
        from platformdirs import user_config_path

        return str(user_config_path("relocator") / "service.toml")
    # platformdirs' answer, with the standard library (the tests compare the two): no
    # command that reads a setting pays for importing platformdirs and pathlib
    base = os.environ.get("XDG_CONFIG_HOME", "")
    if not os.path.isabs(base):
        home = os.environ.get("HOME", "")
        if not os.path.isabs(home):
            import pwd

            home = pwd.getpwuid(os.getuid()).pw_dir
        mac = sys.platform == "darwin"
        base = os.path.join(home, "Library/Application Support" if mac else ".config")
    return os.path.join(base, "relocator", "service.toml")


def _toml(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib  # novermin (3.11+ only: the branch above)
    else:
        import tomli as tomllib
    return tomllib.loads(text)


def load_config(path: Optional[str] = None) -> Config:
    """The service's configuration (defaults where the file is absent); one clear
    :class:`RelocatorError` for a file that is there and wrong."""
    path = path or config_path()
    try:
        raw = read_regular(path, CONFIG_LIMIT + 1)  # a pipe is never waited on
    except FileNotFoundError:
        raw = b""
    except OSError as e:
        raise RelocatorError(
            f"cannot read the service config {path} ({e.strerror or e}); fix or remove it"
        ) from None
    if raw is None:
        raise RelocatorError(f"the service config {path} is not a regular file; remove it")
    if len(raw) > CONFIG_LIMIT:
        raise RelocatorError(
            f"the service config {path} is larger than {CONFIG_LIMIT >> 20} MB, "
            "so it is no config of relocate's; fix or remove it"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RelocatorError(
            f"the service config {path} is not UTF-8 ({e.reason} at byte {e.start}); fix it"
        ) from None
    try:
        data = _toml(text) if raw else {}  # no file: no TOML parser to load
    except ValueError as e:
        raise RelocatorError(f"the service config {path} is not valid TOML ({e}); fix it") from None
    except RecursionError:
        raise RelocatorError(
            f"the service config {path} is not valid TOML (nested deeper than relocate reads); "
            "fix it"
        ) from None
    unknown = sorted(set(data) - set(Config._fields))
    if unknown:
        raise RelocatorError(
            f"the service config {path} has unknown keys {unknown}: it takes {list(Config._fields)}"
        )
    mode = data.get("mode", "auto")
    if mode not in MODES:
        raise RelocatorError(f"the service config {path}: mode must be one of {list(MODES)}")
    quiet = _seconds(data.get("quiet", DEFAULT_QUIET), f"quiet in {path}")
    env = os.environ.get("RELOCATOR_SERVICE_QUIET", "").strip()
    if env:
        try:
            quiet = _seconds(float(env), "RELOCATOR_SERVICE_QUIET")
        except ValueError:
            raise RelocatorError(f"RELOCATOR_SERVICE_QUIET must be seconds (got {env!r})") from None
    found = data.get("trees")
    if found is not None:
        from relocator.state import treechoice

        treechoice.parse(found, path)
    roots, ignore = _folders(data, "roots", path), _folders(data, "ignore", path)
    days = _seconds(data.get("trash_days", 14.0), f"trash_days in {path}", unit="days")
    return Config(roots, ignore, quiet, mode, found, days)


def _seconds(value: object, what: str, unit: str = "seconds") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
        raise RelocatorError(f"{what} must be a number of {unit} >= 0 (got {value!r})")
    return float(value)


def _folders(data: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RelocatorError(f"{key} in the service config {path} must be a list of paths")
    unusable = [v for v in value if "\0" in v]
    if unusable:
        raise RelocatorError(
            f"{key} in the service config {path} holds a path with a NUL character, which no "
            f"file name can hold: {unusable[0]!r}; fix it"
        )
    found = [os.path.expanduser(v) for v in value]
    relative = [v for v in found if not os.path.isabs(v)]
    if relative:
        raise RelocatorError(f"{key} in {path} must be absolute paths (or ~/...): {relative[0]}")
    return tuple(resolver.spelling(v) for v in found)


#: Folders of iCloud Drive watched as roots of their own (inside ``Library/Mobile
#: Documents``, a root already), so that the watcher's depth counts from where people keep
#: projects: the iCloud Drive folder, and its Documents and Desktop, which are plain
#: folders there when Desktop & Documents sync is off.
ICLOUD_FOLDERS = (
    resolver.CLOUD_DOCS,
    resolver.CLOUD_DOCS + "/Documents",
    resolver.CLOUD_DOCS + "/Desktop",
)


def sync_roots(config: Config, home: Optional[str] = None) -> list[str]:
    """The providers' sync roots under ``home``, iCloud Drive's main folders and the
    config's roots: real paths, sorted."""
    home = home or os.path.expanduser("~")
    found = {path for _, path in resolver.provider_roots(home)} | set(config.roots)
    found |= {os.path.realpath(os.path.join(home, f)) for f in ICLOUD_FOLDERS}
    return sorted(r for r in found if os.path.isdir(r))


def ignored(project: str, roots: list[str], ignore: tuple[str, ...] = ()) -> Optional[str]:
    """Why the service leaves ``project`` alone (None: it does not): a folder of the
    ignore list holds it, or an ignore file is in it or above it up to its root
    (for a project under no root: up to ``$HOME``)."""
    for folder in ignore:
        if is_under(project, folder):
            return f"{folder} is in the service config's ignore list"
    holders = [r for r in roots if is_under(project, r)]
    home = os.path.realpath(os.path.expanduser("~"))
    top = min(holders, key=len) if holders else home if is_under(project, home) else project
    folder = project
    while True:
        marker = os.path.join(folder, IGNORE_FILE)
        if os.path.lexists(marker):
            return f"{marker} says so"
        if folder == top or folder == os.path.dirname(folder):
            return None
        folder = os.path.dirname(folder)


def trash_days(path: Optional[str] = None) -> float:
    """How many days the trash keeps what relocator retired: the config's ``trash_days``
    (14 when the file or the key is absent)."""
    return load_config(path).trash_days
