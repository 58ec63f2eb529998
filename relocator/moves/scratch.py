"""``relocate verify``'s scratch venv: a journaled folder in the store's ``tmp/`` (a
``verify`` record naming it and the process that builds it), removed when verify ends,
also on SIGINT or SIGTERM; after a SIGKILL, recovery (:func:`resume`, run by the next
relocate that settles the project, or ``relocate gc``) removes it.
"""

from __future__ import annotations

import contextlib
import os
import secrets

from relocator.paths import resolver
from relocator.paths.storeroot import slug
from relocator.state.journal import Intent
from relocator.state.store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from relocator.moves.relocation import Notes


@contextlib.contextmanager
def journaled(store: Store, project: resolver.Resolved) -> Iterator[str]:
    """A journaled scratch folder name in the store's ``tmp/``, removed when the block ends
    (SIGTERM and SIGHUP are turned into an interrupt so that it ends too)."""
    from relocator.system import children

    name = f"verify-{slug(project.path)}-{os.getpid()}-{secrets.token_hex(4)}"
    os.makedirs(store.tmp, mode=0o700, exist_ok=True)
    store.check_own(store.tmp)
    intent = Intent.begin(
        store, op="verify", key=project.key, project=project.path, venv=name, pid=os.getpid()
    )
    scratch = os.path.join(store.tmp, name)
    try:
        with children.interruptible():
            yield scratch
    finally:
        if os.path.lexists(scratch):
            store.discard(scratch)
        intent.done()


def resume(store: Store, intent: Intent) -> tuple[bool, Notes]:
    """Remove the scratch venv of a verify whose process is gone (killed)."""
    scratch = os.path.join(store.tmp, intent["venv"])
    if os.path.lexists(scratch):
        store.discard(scratch)
    intent.done()
    return False, [f"removed the scratch venv of an interrupted relocate verify ({scratch})"]
