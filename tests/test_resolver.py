"""The resolver: one folder, one key; the spelling is always the real path on disk.

Every test runs in its own fake HOME (see conftest.isolated); macOS layouts are
built there with real folders and real symlinks.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import unicodedata
from pathlib import Path

import platformdirs
import platformdirs.macos
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from relocator import resolver, store
from tests import helpers
from tests.helpers import CLOUD_DOCS

DIRECTIONS = ("documents-link", "clouddocs-link")


@pytest.fixture
def home(isolated: Path) -> Path:
    return isolated


def _real(p: Path) -> str:
    return os.path.realpath(p)


# -- iCloud Desktop & Documents: two spellings, one folder ------------------------


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("folder", ["Documents", "Desktop"])
def test_both_spellings_give_one_key_and_the_real_spelling(home, direction, folder):
    helpers.mac_home(home, direction)
    short, long_ = home / folder / "proj", home / CLOUD_DOCS / folder / "proj"
    short.mkdir()  # through whichever side is the link
    real = _real(short)
    # The spelling is the side that is a real folder, whichever it is.
    expected_real = str(long_ if direction == "documents-link" else short)
    assert real == expected_real

    a, b = resolver.resolve(str(short)), resolver.resolve(str(long_))
    assert a == b
    assert a.path == real
    assert a.key == str(home / folder / "proj")  # the canonical, short spelling
    assert a.provider == "icloud"
    # Inside the project, and through "~", the same.
    assert resolver.resolve(f"~/{folder}/proj") == a
    inner = resolver.resolve(str(long_ / "src" / "m.py"))
    assert inner.path == os.path.join(real, "src", "m.py")
    assert inner.key == str(home / folder / "proj" / "src" / "m.py")


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_icloud_drive_link_is_one_more_spelling(home, direction):
    spellings = helpers.mac_home(home, direction)
    (home / "iCloud Drive").symlink_to(home / CLOUD_DOCS)
    (spellings["short"] / "proj").mkdir()
    through_drive = resolver.resolve(str(home / "iCloud Drive" / "Documents" / "proj"))
    assert through_drive == resolver.resolve(str(spellings["short"] / "proj"))
    assert through_drive.provider == "icloud"
    # A folder of iCloud Drive itself (not Documents): real path, icloud.
    (home / CLOUD_DOCS / "Notes").mkdir()
    notes = resolver.resolve(str(home / "iCloud Drive" / "Notes"))
    assert notes.path == str(home / CLOUD_DOCS / "Notes")
    assert notes.key == notes.path
    assert notes.provider == "icloud"
    # A missing folder under the link folds onto the CloudDocs spelling too.
    gone = resolver.resolve(str(home / "iCloud Drive" / "gone"))
    assert gone.key == resolver.resolve(str(home / CLOUD_DOCS / "gone")).key


# -- providers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("root", "expected"),
    [
        ("Dropbox", "dropbox"),
        ("Library/CloudStorage/Dropbox", "dropbox"),
        ("Library/CloudStorage/OneDrive-Personal", "onedrive"),
        ("OneDrive", "onedrive"),
        ("Library/CloudStorage/GoogleDrive-me@x.com", "google-drive"),
        ("Library/CloudStorage/Box-Box", "box"),
        ("Box", "box"),
        ("Library/Mobile Documents/com~apple~CloudDocs", "icloud"),
        ("plain", None),
        ("Library/CloudStorage", None),
    ],
)
def test_provider_from_the_layout_under_home(home, root, expected):
    project = home / root / "work" / "proj"
    project.mkdir(parents=True)
    found = resolver.resolve(str(project))
    assert found.provider == expected
    assert found.path == str(project)
    # A path below that does not exist yet has the same provider.
    assert resolver.resolve(str(project / "not-yet")).provider == expected


def test_provider_is_none_outside_home(home, tmp_path):
    # Even when the outside folder is named like a sync root.
    for name in ("outside", "Dropbox", "Library/CloudStorage/Box-Box"):
        folder = tmp_path / name / "proj"
        folder.mkdir(parents=True)
        assert resolver.resolve(str(folder)).provider is None
    # A sibling of HOME whose name starts like it is not inside it.
    twin = Path(str(home) + "-twin") / "Dropbox" / "p"
    twin.mkdir(parents=True)
    assert resolver.resolve(str(twin)).provider is None


def test_dropbox_link_to_cloudstorage_is_one_folder(home):
    real = home / "Library/CloudStorage/Dropbox"
    (real / "proj").mkdir(parents=True)
    (home / "Dropbox").symlink_to(real)
    a = resolver.resolve(str(home / "Dropbox" / "proj"))
    b = resolver.resolve(str(real / "proj"))
    assert a == b
    assert a.path == str(real / "proj")
    assert a.key == str(home / "Dropbox" / "proj")
    assert a.provider == "dropbox"


def test_documents_not_synced_has_no_provider(home):
    (home / "Documents" / "x").mkdir(parents=True)
    (home / CLOUD_DOCS / "Notes").mkdir(parents=True)  # iCloud Drive on, Documents not in it
    found = resolver.resolve(str(home / "Documents" / "x"))
    assert found.provider is None
    assert found.key == found.path == str(home / "Documents" / "x")
    assert resolver.resolve(str(home / CLOUD_DOCS / "Notes")).provider == "icloud"


def test_documents_with_sync_turned_off_is_local(home):
    # macOS leaves a real iCloud Drive/Documents beside a new, local ~/Documents.
    (home / CLOUD_DOCS / "Documents" / "old").mkdir(parents=True)
    (home / "Documents" / "x").mkdir(parents=True)
    assert resolver.resolve(str(home / CLOUD_DOCS / "Documents" / "old")).provider == "icloud"
    assert resolver.resolve(str(home / "Documents" / "x")).provider is None


# -- aliases of paths that do not exist --------------------------------------------


def test_missing_paths_fold_when_neither_folder_exists(home):
    long_ = home / CLOUD_DOCS / "Documents" / "gone"
    short = home / "Documents" / "gone"
    assert not long_.parent.exists()
    assert not short.parent.exists()
    a, b = resolver.resolve(str(long_)), resolver.resolve(str(short))
    assert a.key == b.key == str(short)
    # Nothing exists, so each spelling is kept as given.
    assert a.path == str(long_)
    assert b.path == str(short)
    desk = resolver.resolve(str(home / CLOUD_DOCS / "Desktop" / "gone"))
    assert desk.key == str(home / "Desktop" / "gone")
    drive = resolver.resolve(str(home / "iCloud Drive" / "Documents" / "gone"))
    assert drive.key == str(short)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_missing_paths_fold_when_the_folders_are_one(home, direction):
    helpers.mac_home(home, direction)
    long_ = home / CLOUD_DOCS / "Documents" / "gone" / "deeper"
    short = home / "Documents" / "gone" / "deeper"
    a, b = resolver.resolve(str(long_)), resolver.resolve(str(short))
    assert a == b
    assert a.key == str(short)
    assert not os.path.lexists(a.path)


def test_different_real_folders_keep_different_keys(home):
    # Desktop & Documents sync turned off: two real folders with the two names.
    for base in (home / "Documents", home / CLOUD_DOCS / "Documents"):
        (base / "proj").mkdir(parents=True)
    local = resolver.resolve(str(home / "Documents" / "proj"))
    cloud = resolver.resolve(str(home / CLOUD_DOCS / "Documents" / "proj"))
    assert local.key != cloud.key
    assert local.key == str(home / "Documents" / "proj")
    assert cloud.key == str(home / CLOUD_DOCS / "Documents" / "proj")
    # The same for paths below them that do not exist.
    assert (
        resolver.resolve(str(home / "Documents" / "gone")).key
        != resolver.resolve(str(home / CLOUD_DOCS / "Documents" / "gone")).key
    )


def test_root_aliases_fold(home):
    # /private/var and /private/tmp are macOS's real names of /var and /tmp.
    assert resolver.key("/private/tmp/x/y") == resolver.key("/tmp/x/y")
    assert resolver.key("/private/var/folders/x") == resolver.key("/var/folders/x")
    assert resolver.key("/privatevar/x") == "/privatevar/x"


# -- Unicode normalization ----------------------------------------------------------


NFC = unicodedata.normalize("NFC", "café")
NFD = unicodedata.normalize("NFD", "café")


def test_nfd_folder_is_spelled_as_on_disk_and_keyed_nfc(home):
    assert NFC != NFD
    parent = home / "work"
    (parent / NFD / "src").mkdir(parents=True)
    assert os.listdir(parent) == [NFD]

    by_nfc = resolver.resolve(str(parent / NFC))
    by_nfd = resolver.resolve(str(parent / NFD))
    assert by_nfc == by_nfd
    assert os.fsencode(by_nfc.path) == os.fsencode(str(parent / NFD))
    assert by_nfc.key == unicodedata.normalize("NFC", str(parent / NFD))
    assert by_nfc.key.endswith(NFC)
    assert os.fsencode(by_nfc.key) != os.fsencode(by_nfc.path)
    # Below it, existing or not, the on-disk spelling of the NFD component is kept.
    for tail in ("src", "missing"):
        inner = resolver.resolve(str(parent / NFC / tail))
        assert os.fsencode(inner.path) == os.fsencode(str(parent / NFD / tail))
        assert inner.key == unicodedata.normalize("NFC", inner.path)


def test_nfc_folder_reached_by_nfd_spelling(home):
    (home / "work" / NFC).mkdir(parents=True)
    found = resolver.resolve(str(home / "work" / NFD))
    assert os.fsencode(found.path) == os.fsencode(str(home / "work" / NFC))
    assert found.key == found.path


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_nfd_folder_behind_the_icloud_alias(home, direction):
    spellings = helpers.mac_home(home, direction)
    (spellings["short"] / NFD).mkdir()
    results = {
        resolver.resolve(str(spellings[side] / form))
        for side in ("short", "long")
        for form in (NFC, NFD)
    }
    assert len(results) == 1
    (found,) = results
    assert os.fsencode(found.path) == os.fsencode(os.path.join(_real(spellings["short"]), NFD))
    assert found.key == str(home / "Documents" / NFC)


# -- the CLI surface --------------------------------------------------------------------


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_relocate_resolve_json_matches_in_process(home, direction):
    spellings = helpers.mac_home(home, direction)
    (spellings["short"] / "my proj").mkdir()
    for side in ("short", "long"):
        arg = str(spellings[side] / "my proj")
        printed = helpers.relocate_json("resolve", arg)
        assert set(printed) == {"path", "key", "provider"}
        assert printed == resolver.resolve(arg)._asdict()
        assert printed["provider"] == "icloud"
        assert printed["key"] == str(home / "Documents" / "my proj")


def test_relocate_resolve_json_for_nfd_and_outside(home, tmp_path):
    (home / "work" / NFD).mkdir(parents=True)
    printed = helpers.relocate_json("resolve", str(home / "work" / NFC))
    assert printed["path"].encode() == os.fsencode(str(home / "work" / NFD))
    assert printed["key"] == str(home / "work" / NFC)
    assert printed["provider"] is None
    nowhere = str(tmp_path / "nowhere")
    outside = helpers.relocate_json("resolve", nowhere)
    assert outside == {"path": nowhere, "key": nowhere, "provider": None}
    text = helpers.relocate_ok("resolve", nowhere).splitlines()
    assert text == [f"path:     {nowhere}", f"key:      {nowhere}", "provider: None"]


# -- properties ---------------------------------------------------------------------------

SAFE_ALPHABET = st.one_of(
    st.sampled_from(list("abcXYZ019 -_~'\"$()`!&;*?[]{}#%@+=,:\\\n\t")),
    st.sampled_from(list("éÉüßñøÅÆçłŁžЖжλΩ日本語")),
    st.sampled_from([unicodedata.normalize("NFD", c) for c in "éüñÅç"]),
    st.characters(categories=("L",), max_codepoint=0x2FFF),
)
NAMES = (
    st.lists(SAFE_ALPHABET, min_size=1, max_size=12)
    .map("".join)
    .filter(lambda s: s not in (".", "..") and "/" not in s and "\0" not in s)
)
_counter = itertools.count()
PROPERTY = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _other_forms(name: str) -> set[str]:
    return {unicodedata.normalize(form, name) for form in ("NFC", "NFD")}


@pytest.mark.parametrize("direction", DIRECTIONS)
@PROPERTY
@given(name=NAMES)
def test_property_every_spelling_one_key(home, direction, name):
    assume(len(os.fsencode(name)) < 200)
    if not (home / "Documents").exists() and not (home / "Documents").is_symlink():
        helpers.mac_home(home, direction)
        (home / "iCloud Drive").symlink_to(home / CLOUD_DOCS)
    # A fresh parent per example: names from other examples cannot interfere.
    parent = f"ex{next(_counter)}"
    real_docs = Path(_real(home / "Documents"))
    (real_docs / parent / name).mkdir(parents=True)

    bases = [
        home / "Documents",
        home / CLOUD_DOCS / "Documents",
        home / "iCloud Drive" / "Documents",
        real_docs,
    ]
    results = set()
    for base in bases:
        for form in _other_forms(name) | {name}:
            results.add(resolver.resolve(os.path.join(base, parent, form)))
    assert len(results) == 1, results
    (found,) = results
    assert os.fsencode(found.path) == os.fsencode(os.path.join(real_docs, parent, name))
    assert found.key == unicodedata.normalize("NFC", str(home / "Documents" / parent / name))
    assert found.provider == "icloud"


@pytest.mark.parametrize("direction", DIRECTIONS)
@PROPERTY
@given(name=NAMES, tail=st.lists(NAMES, max_size=2))
def test_property_resolve_is_idempotent(home, direction, name, tail):
    assume(len(os.fsencode(name)) < 200)
    if not (home / "Documents").exists() and not (home / "Documents").is_symlink():
        helpers.mac_home(home, direction)
    parent = f"ex{next(_counter)}"
    (home / "Documents" / parent / name).mkdir(parents=True)
    for base in (home / "Documents", home / CLOUD_DOCS / "Documents"):
        # The folder itself, and paths below it that do not exist.
        path = os.path.join(base, parent, name, *tail)
        once = resolver.resolve(path)
        assert resolver.resolve(once.path) == once
        assert resolver.key(once.path) == once.key
        assert once.key == unicodedata.normalize("NFC", once.key)
        assert os.path.lexists(once.path) == (not tail)


# -- rebase and same_location ------------------------------------------------------------


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_rebase_onto_the_project_spelling(home, direction):
    spellings = helpers.mac_home(home, direction)
    (spellings["short"] / "proj" / "src").mkdir(parents=True)
    (spellings["short"] / "proj2").mkdir()
    project = resolver.resolve(str(spellings["short"] / "proj"))
    for side in ("short", "long"):
        base = spellings[side] / "proj"
        assert resolver.rebase(str(base), project) == project.path
        assert resolver.rebase(str(base / "src" / "m.py"), project) == os.path.join(
            project.path, "src", "m.py"
        )
        assert resolver.rebase(str(base / "not" / "yet"), project) == os.path.join(
            project.path, "not", "yet"
        )
    # Elsewhere: the parent, a sibling sharing the name as a prefix, outside HOME.
    assert resolver.rebase(str(spellings["long"]), project) is None
    assert resolver.rebase(str(spellings["long"] / "proj2"), project) is None
    assert resolver.rebase(str(spellings["short"] / "proj2" / "x"), project) is None
    assert resolver.rebase("/", project) is None


def test_rebase_through_nfc_spelling_keeps_disk_spelling(home):
    (home / "work" / NFD / "src").mkdir(parents=True)
    project = resolver.resolve(str(home / "work" / NFD))
    got = resolver.rebase(str(home / "work" / NFC / "src"), project)
    assert got is not None
    assert os.fsencode(got) == os.fsencode(str(home / "work" / NFD / "src"))


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_same_location_does_not_follow_the_last_link(home, direction, tmp_path):
    spellings = helpers.mac_home(home, direction)
    project = spellings["short"] / "proj"
    project.mkdir()
    target = tmp_path / "elsewhere" / "venv"
    target.mkdir(parents=True)
    (project / ".venv").symlink_to(target)
    short_link, long_link = project / ".venv", spellings["long"] / "proj" / ".venv"
    assert resolver.same_location(str(short_link), str(long_link))
    assert not resolver.same_location(str(short_link), str(target))
    assert resolver.same_location(str(project), str(spellings["long"] / "proj"))
    assert not resolver.same_location(str(project), str(short_link))
    # Following the link, resolve() would call the link and its target one place.
    assert resolver.resolve(str(short_link)) == resolver.resolve(str(target))


def test_same_location_across_normalizations(home):
    (home / "w" / NFD).mkdir(parents=True)
    assert resolver.same_location(str(home / "w" / NFC), str(home / "w" / NFD))
    assert resolver.same_location(str(home / "w" / NFC / "x"), str(home / "w" / NFD / "x"))
    assert not resolver.same_location(str(home / "w" / NFC), str(home / "w" / "cafe"))


# -- the store's default root ----------------------------------------------------------------


@contextlib.contextmanager
def _platform(monkeypatch: pytest.MonkeyPatch, name: str):
    with monkeypatch.context() as m:
        m.setattr(sys, "platform", name)
        yield


@pytest.mark.parametrize(
    "xdg", [None, "ABS", "relative/cache", "", "~/cache"], ids=["unset", "abs", "rel", "empty", "~"]
)
def test_default_root_matches_platformdirs(monkeypatch, tmp_path, home, xdg):
    monkeypatch.delenv("RELOCATOR_HOME")
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg") if xdg == "ABS" else xdg)

    linux = store.default_root()
    assert linux == str(platformdirs.user_cache_path("relocator"))
    if xdg == "ABS":
        assert linux == str(tmp_path / "xdg" / "relocator")
    else:
        assert linux == str(home / ".cache" / "relocator")

    with _platform(monkeypatch, "darwin"):
        mac = store.default_root()
    assert mac == platformdirs.macos.MacOS("relocator").user_cache_dir
    if xdg != "ABS":
        assert mac == str(home / "Library" / "Caches" / "relocator")


@pytest.mark.parametrize("home_value", ["", "relative/home"])
def test_default_root_with_unusable_home_matches_platformdirs(monkeypatch, home_value):
    monkeypatch.delenv("RELOCATOR_HOME")
    monkeypatch.setenv("HOME", home_value)
    assert store.default_root() == str(platformdirs.user_cache_path("relocator"))
    assert os.path.isabs(store.default_root())


def test_relocator_home_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("RELOCATOR_HOME", str(tmp_path / "mine"))
    assert store.default_root() == str(tmp_path / "mine")
    with _platform(monkeypatch, "darwin"):
        assert store.default_root() == str(tmp_path / "mine")
    monkeypatch.setenv("RELOCATOR_HOME", "~/relstore")
    assert store.default_root() == os.path.join(os.environ["HOME"], "relstore")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RELOCATOR_HOME", "rel/store")
    assert store.default_root() == str(tmp_path / "rel" / "store")
    # An empty one is unset.
    monkeypatch.setenv("RELOCATOR_HOME", "")
    assert store.default_root() == str(platformdirs.user_cache_path("relocator"))
