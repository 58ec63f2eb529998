"""The resolver: one folder, one key; the spelling is always the real path on disk.

Every test runs in its own fake HOME (see conftest.isolated); macOS layouts are
built there with real folders and real symlinks.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import sys
import tempfile
import unicodedata
from pathlib import Path

import platformdirs
import platformdirs.macos
import platformdirs.unix
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from relocator.errors import RelocatorError
from relocator.paths import resolver, storeroot
from relocator.state.registry import Registry
from relocator.state.rows import Row
from relocator.state.store import Store
from tests import helpers
from tests.helpers import CLOUD_DOCS, linux_only

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


# -- aliases: only two names that exist and are one folder fold ----------------------


def test_missing_aliases_do_not_fold(home):
    long_ = home / CLOUD_DOCS / "Documents" / "gone"
    short = home / "Documents" / "gone"
    assert not long_.parent.exists()
    assert not short.parent.exists()
    # Nothing says the two names will be one folder: each is its own key, kept as given.
    a, b = resolver.resolve(str(long_)), resolver.resolve(str(short))
    assert (a.path, a.key) == (str(long_), str(long_))
    assert (b.path, b.key) == (str(short), str(short))
    desk = home / CLOUD_DOCS / "Desktop" / "gone"
    assert resolver.resolve(str(desk)).key == str(desk)
    drive = home / "iCloud Drive" / "Documents" / "gone"
    assert resolver.resolve(str(drive)).key == str(drive)
    # One of the two names existing is not enough either.
    (home / CLOUD_DOCS / "Documents").mkdir(parents=True)
    assert resolver.resolve(str(long_)).key == str(long_)
    assert resolver.resolve(str(short)).key == str(short)


def test_a_missing_dropbox_alias_never_collides_with_a_later_real_folder(home, store):
    # Dropbox on File Provider, no ~/Dropbox link (yet).
    cloud = home / "Library/CloudStorage/Dropbox/proj"
    cloud.mkdir(parents=True)
    first = resolver.resolve(str(cloud))
    assert first.key == first.path == str(cloud)
    assert first.provider == "dropbox"
    # Later a real, different ~/Dropbox/proj appears (an old install, a restore): before the
    # fix both keyed as ~/Dropbox/proj, one registry row for two projects.
    local = home / "Dropbox" / "proj"
    local.mkdir(parents=True)
    second = resolver.resolve(str(local))
    assert second.key == second.path == str(local)
    assert second.key != first.key
    assert resolver.resolve(str(cloud)) == first  # the first key did not change meaning
    with Registry(Store().ensure()) as registry:
        for n, found in enumerate((first, second)):
            registry.put(Row(found.key, found.path, f"proj-{n}", None, found.provider, 1.0, 1.0))
        assert [r.venv for r in registry.all()] == ["proj-1", "proj-0"]  # two projects
    # Once ~/Dropbox is the same folder as the CloudStorage one, the two spellings are one.
    local.rmdir()
    (home / "Dropbox").rmdir()
    (home / "Dropbox").symlink_to(cloud.parent)
    assert resolver.resolve(str(local)) == resolver.resolve(str(cloud))
    assert resolver.resolve(str(cloud)).key == str(local)


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


def test_root_aliases_fold_only_where_both_exist(monkeypatch, tmp_path):
    # This Linux has no /private: /private/tmp is another (missing) folder, not /tmp.
    for alias, canonical in resolver.ROOT_ALIASES:
        if not os.path.exists(alias):
            assert resolver.key(alias + "/x/y") == alias + "/x/y"
            assert resolver.key(alias + "/x/y") != resolver.key(canonical + "/x/y")
    # macOS's layout, /var -> /private/var, built under tmp_path.
    private, var = tmp_path / "private" / "var", tmp_path / "var"
    (private / "folders").mkdir(parents=True)
    var.symlink_to(private)
    monkeypatch.setattr(resolver, "ROOT_ALIASES", ((str(private), str(var)),))
    assert resolver.key(str(private / "folders" / "x")) == str(var / "folders" / "x")
    assert resolver.resolve(str(var / "folders" / "x")).path == str(private / "folders" / "x")
    assert resolver.key(str(tmp_path / "privatevar" / "x")) == str(tmp_path / "privatevar" / "x")


# -- Unicode normalization and case: folded only where the volume folds them ---------


NFC = unicodedata.normalize("NFC", "café")
NFD = unicodedata.normalize("NFD", "café")
NOTHING_FOLDS = resolver.Folding(case=False, unicode=False)


def _fake_volume(monkeypatch: pytest.MonkeyPatch, path: Path, *, case: bool, unicode: bool):
    """Make the volume of ``path`` answer the resolver's probe as a macOS volume would."""
    dev = os.lstat(path).st_dev
    monkeypatch.setitem(resolver._case_cache, dev, case)
    monkeypatch.setitem(resolver._unicode_cache, dev, unicode)
    return resolver.Folding(case, unicode)


@pytest.fixture
def folds(monkeypatch, tmp_path):
    """The test volume folds normalization, as APFS does (here its case-sensitive variant)."""
    return _fake_volume(monkeypatch, tmp_path, case=False, unicode=True)


@pytest.fixture
def fresh_probe(monkeypatch):
    """Forget what volumes answered so far: the next question probes again."""
    for name in ("_case_cache", "_unicode_cache"):
        monkeypatch.setattr(resolver, name, {})
    monkeypatch.setattr(resolver, "_walked", set())


#: The volumes of these cases fold neither case nor normalization, as Linux's do; APFS
#: and HFS+ fold both (the macOS cases fake the probe, or run in scripts/macos-check).
LINUX_NAMES = linux_only("ext4 and tmpfs keep NFC and NFD, and cases, apart")


@pytest.fixture(
    params=[pytest.param("disk", marks=LINUX_NAMES), pytest.param("tmpfs", marks=LINUX_NAMES)]
)
def volume(request, tmp_path):
    """A folder on this machine's disk (ext4 or overlay, in /tmp) and one on tmpfs (/dev/shm)."""
    if request.param == "disk":
        yield tmp_path / "vol"
        return
    shm = tempfile.mkdtemp(prefix="relocator-test-", dir="/dev/shm")
    try:
        assert os.lstat(shm).st_dev != os.lstat(tmp_path).st_dev
        yield Path(shm)
    finally:
        shutil.rmtree(shm)


def test_nfc_and_nfd_folders_are_two_projects_here(volume, fresh_probe):
    (volume / NFC).mkdir(parents=True)
    (volume / NFD).mkdir()
    assert sorted(os.listdir(volume)) == sorted([NFC, NFD])  # two folders: no folding here
    a, b = resolver.resolve(str(volume / NFC)), resolver.resolve(str(volume / NFD))
    assert os.fsencode(a.path) == os.fsencode(str(volume / NFC))
    assert os.fsencode(b.path) == os.fsencode(str(volume / NFD))
    assert a.key == a.path
    assert b.key == b.path
    assert a.key != b.key
    assert not resolver.same_location(str(volume / NFC), str(volume / NFD))
    # The volume said so (probed and cached), whatever the platform.
    dev = os.lstat(volume).st_dev
    assert resolver.folding(str(volume / NFC)) == NOTHING_FOLDS
    assert resolver._unicode_cache[dev] is False
    assert resolver._case_cache[dev] is False


def test_typed_nfc_of_an_nfd_folder_is_another_name_here(volume, fresh_probe):
    # Only the NFD folder exists; on this volume the NFC name is a different, missing file.
    (volume / NFD / "src").mkdir(parents=True)
    nfd = resolver.resolve(str(volume / NFD))
    for tail in ((), ("src",), ("missing",)):
        typed = str(volume.joinpath(NFC, *tail))
        found = resolver.resolve(typed)
        assert os.fsencode(found.path) == os.fsencode(typed)  # never switched to the NFD entry
        assert not os.path.lexists(found.path)
        assert found.key == found.path
        assert found.key != nfd.key
        assert resolver.rebase(typed, nfd) is None
    assert os.fsencode(nfd.path) == os.fsencode(str(volume / NFD))
    assert os.fsencode(nfd.key) == os.fsencode(str(volume / NFD))
    # The same for an NFC folder typed in NFD, and for the case of a name.
    (volume / "Proj").mkdir()
    assert resolver.spelling(str(volume / "proj")) == str(volume / "proj")
    (volume / "other" / NFC).mkdir(parents=True)
    assert os.fsencode(resolver.spelling(str(volume / "other" / NFD))) == os.fsencode(
        str(volume / "other" / NFD)
    )


@LINUX_NAMES
def test_without_a_probe_the_platform_decides(tmp_path, monkeypatch, fresh_probe):
    plain = tmp_path / "plain" / "sub"  # no name on the way can probe normalization
    plain.mkdir(parents=True)
    dev = os.lstat(plain).st_dev
    missing = str(plain / NFD)
    assert resolver.folding(str(plain)) == NOTHING_FOLDS
    assert resolver.key(missing) == missing
    monkeypatch.setattr(sys, "platform", "darwin")  # APFS and HFS+ fold normalization
    assert resolver.folding(str(plain)).unicode is True
    assert resolver.key(missing) == unicodedata.normalize("NFC", missing)
    assert resolver.folding(str(plain)).case is False  # that one was probed: "plain" exists
    assert dev not in resolver._unicode_cache  # a guess is not the volume's answer
    # Once a name on the volume can answer, its answer wins over the guess.
    (tmp_path / NFD).mkdir()
    assert resolver.folding(str(tmp_path / NFD)) == NOTHING_FOLDS
    assert resolver._unicode_cache[dev] is False
    assert resolver.key(missing) == missing


def test_the_probe_is_cached_per_volume(volume, tmp_path, fresh_probe, monkeypatch):
    (volume / NFD / "a" / "b").mkdir(parents=True)
    probes: list[str] = []
    real_probe = resolver._probe

    def counting(path: str, dev: int) -> None:
        probes.append(path)
        real_probe(path, dev)

    monkeypatch.setattr(resolver, "_probe", counting)
    first = resolver.folding(str(volume / NFD / "a" / "b"))
    assert first == NOTHING_FOLDS
    assert len(probes) == 1
    for _ in range(3):
        assert resolver.folding(str(volume / NFD / "a" / "b" / "missing")) == first
        assert resolver.key(str(volume / NFD / "a" / "b")) == str(volume / NFD / "a" / "b")
        assert resolver.key(str(volume / NFD)) == str(volume / NFD)
    assert len(probes) == 1  # the volume answered once
    # Another volume is probed for itself.
    other = tmp_path if "relocator-test-" in str(volume) else Path("/dev/shm")
    resolver.folding(str(other))
    assert len(probes) == 2
    assert os.lstat(volume).st_dev in resolver._case_cache


def test_nfd_folder_is_spelled_as_on_disk_and_keyed_nfc(home, folds):
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


def test_nfc_folder_reached_by_nfd_spelling(home, folds):
    (home / "work" / NFC).mkdir(parents=True)
    found = resolver.resolve(str(home / "work" / NFD))
    assert os.fsencode(found.path) == os.fsencode(str(home / "work" / NFC))
    assert found.key == found.path


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_nfd_folder_behind_the_icloud_alias(home, direction, folds):
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


def test_a_case_insensitive_volume_folds_case(home, monkeypatch, tmp_path):
    _fake_volume(monkeypatch, tmp_path, case=True, unicode=True)  # APFS as macOS ships it
    (home / "Code" / "Proj").mkdir(parents=True)
    found = resolver.resolve(str(home / "code" / "PROJ"))
    assert found.path == str(home / "Code" / "Proj")
    assert found.key == found.path.casefold()
    assert resolver.resolve(str(home / "Code" / "Proj")) == found
    assert resolver.case_insensitive(str(home)) is True
    new_a = resolver.resolve(str(home / "Code" / "Proj" / "New"))
    new_b = resolver.resolve(str(home / "CODE" / "proj" / "nEW"))
    assert new_a.key == new_b.key
    assert new_b.path == str(home / "Code" / "Proj" / "nEW")  # a missing tail stays as typed


# -- the CLI surface --------------------------------------------------------------------


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_relocate_resolve_json_matches_in_process(home, direction):
    spellings = helpers.mac_home(home, direction)
    (spellings["short"] / "my proj").mkdir()
    for side in ("short", "long"):
        arg = str(spellings[side] / "my proj")
        printed = helpers.relocate_json("resolve", arg)
        assert printed == {**resolver.resolve(arg)._asdict(), "exists": True}
        assert printed["provider"] == "icloud"
        assert printed["key"] == str(home / "Documents" / "my proj")


def test_relocate_resolve_json_for_nfd_and_outside(home, tmp_path):
    (home / "work" / NFD).mkdir(parents=True)
    by_nfd = helpers.relocate_json("resolve", str(home / "work" / NFD))
    assert by_nfd["path"].encode() == os.fsencode(str(home / "work" / NFD))
    assert by_nfd["key"].encode() == os.fsencode(str(home / "work" / NFD))
    assert by_nfd["provider"] is None
    # On this volume the NFC name is another (missing) folder: another key, spelled as typed.
    result = helpers.relocate("resolve", "--json", str(home / "work" / NFC))
    assert result.returncode == 1
    by_nfc = json.loads(result.stdout)
    assert by_nfc["exists"] is False
    assert by_nfc["path"].encode() == os.fsencode(str(home / "work" / NFC))
    assert by_nfc["key"] == by_nfc["path"]
    assert by_nfc["key"] != by_nfd["key"]
    nowhere = str(tmp_path / "elsewhere")  # outside the home
    os.mkdir(nowhere)
    outside = helpers.relocate_json("resolve", nowhere)
    assert outside == {"path": nowhere, "key": nowhere, "provider": None, "exists": True}
    text = helpers.relocate_ok("resolve", nowhere).splitlines()
    assert text[:2] == [f"path:     {nowhere}", f"key:      {nowhere}"]
    assert text[2] == "provider: none (no known sync engine syncs it)"


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


def _icloud_home(home: Path, direction: str) -> Path:
    if not (home / "Documents").exists() and not (home / "Documents").is_symlink():
        helpers.mac_home(home, direction)
        (home / "iCloud Drive").symlink_to(home / CLOUD_DOCS)
    return Path(_real(home / "Documents"))


def _bases(home: Path, real_docs: Path) -> list[Path]:
    return [
        home / "Documents",
        home / CLOUD_DOCS / "Documents",
        home / "iCloud Drive" / "Documents",
        real_docs,
    ]


@pytest.mark.parametrize("direction", DIRECTIONS)
@PROPERTY
@given(name=NAMES)
def test_property_every_spelling_one_key(home, direction, folds, name):
    # A volume that folds normalization (APFS): every form of the name is the one folder.
    assume(len(os.fsencode(name)) < 200)
    real_docs = _icloud_home(home, direction)
    # A fresh parent per example: names from other examples cannot interfere.
    parent = f"ex{next(_counter)}"
    (real_docs / parent / name).mkdir(parents=True)

    results = set()
    for base in _bases(home, real_docs):
        for form in _other_forms(name) | {name}:
            results.add(resolver.resolve(os.path.join(base, parent, form)))
    assert len(results) == 1, results
    (found,) = results
    assert os.fsencode(found.path) == os.fsencode(os.path.join(real_docs, parent, name))
    assert found.key == unicodedata.normalize("NFC", str(home / "Documents" / parent / name))
    assert found.provider == "icloud"


@pytest.mark.parametrize("direction", DIRECTIONS)
@PROPERTY
@given(name=NAMES)
def test_property_each_form_its_own_key_here(home, direction, name):
    # This volume does not fold: each form is its own name, one key per form across aliases.
    assume(len(os.fsencode(name)) < 200)
    real_docs = _icloud_home(home, direction)
    parent = f"ex{next(_counter)}"
    (real_docs / parent / name).mkdir(parents=True)

    keys = set()
    for form in _other_forms(name) | {name}:
        results = {resolver.resolve(os.path.join(b, parent, form)) for b in _bases(home, real_docs)}
        assert len(results) == 1, results
        (found,) = results
        assert os.fsencode(found.path) == os.fsencode(os.path.join(real_docs, parent, form))
        assert os.path.lexists(found.path) == (form == name)
        assert found.key == str(home / "Documents" / parent / form)
        assert found.provider == "icloud"
        keys.add(found.key)
    assert len(keys) == len(_other_forms(name) | {name})


@pytest.mark.parametrize("unicode_folds", [False, True], ids=["here", "apfs"])
@pytest.mark.parametrize("direction", DIRECTIONS)
@PROPERTY
@given(name=NAMES, tail=st.lists(NAMES, max_size=2))
def test_property_resolve_is_idempotent(  # noqa: PLR0917 - fixtures and drawn values
    home, tmp_path, monkeypatch, unicode_folds, direction, name, tail
):
    assume(len(os.fsencode(name)) < 200)
    _fake_volume(monkeypatch, tmp_path, case=False, unicode=unicode_folds)
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
        canonical = os.path.join(home, "Documents", parent, name, *tail)
        expected = unicodedata.normalize("NFC", canonical) if unicode_folds else canonical
        assert once.key == expected
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


def test_rebase_through_nfc_spelling_keeps_disk_spelling(home, folds):
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


def test_same_location_across_normalizations(home, folds):
    (home / "w" / NFD).mkdir(parents=True)
    assert resolver.same_location(str(home / "w" / NFC), str(home / "w" / NFD))
    assert resolver.same_location(str(home / "w" / NFC / "x"), str(home / "w" / NFD / "x"))
    assert not resolver.same_location(str(home / "w" / NFC), str(home / "w" / "cafe"))


def test_other_normalizations_are_other_locations_here(home):
    (home / "w" / NFD).mkdir(parents=True)
    assert not resolver.same_location(str(home / "w" / NFC), str(home / "w" / NFD))
    assert not resolver.same_location(str(home / "w" / NFC / "x"), str(home / "w" / NFD / "x"))
    assert resolver.same_location(str(home / "w" / NFD / "x"), str(home / "w" / NFD / "x"))


# -- the store's default root ----------------------------------------------------------------

#: relocator computes platformdirs' answer with the standard library, by the rules of
#: platformdirs 4.14: an absolute XDG_* wins on macOS too, a relative or ``~`` one is
#: ignored, a HOME that is not absolute gives way to the password entry's. Older releases
#: differ on each (4.6 took XDG on macOS, 4.12 ignored relative ones, 4.14 the unusable
#: HOME), and Python 3.9 gets at most 4.4.0: there each test checks the paths it spells out.
PLATFORMDIRS_RULES = tuple(int(n) for n in platformdirs.__version__.split(".")[:2]) >= (4, 14)


def _passwd_home() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_dir


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

    with _platform(monkeypatch, "linux"):
        linux = storeroot.default_root()
    if PLATFORMDIRS_RULES:
        assert linux == platformdirs.unix.Unix("relocator").user_cache_dir
    if xdg == "ABS":
        assert linux == str(tmp_path / "xdg" / "relocator")
    else:
        assert linux == str(home / ".cache" / "relocator")

    with _platform(monkeypatch, "darwin"):
        mac = storeroot.default_root()
    if PLATFORMDIRS_RULES:
        assert mac == platformdirs.macos.MacOS("relocator").user_cache_dir
    if xdg == "ABS":
        assert mac == str(tmp_path / "xdg" / "relocator")
    else:
        assert mac == str(home / "Library" / "Caches" / "relocator")


@pytest.mark.parametrize(
    "xdg", [None, "ABS", "", "  ", "~/conf"], ids=["unset", "abs", "empty", "blank", "~"]
)
def test_config_path_matches_platformdirs(monkeypatch, tmp_path, home, xdg):
    from relocator.state import settings

    monkeypatch.delenv("RELOCATOR_CONFIG", raising=False)
    if xdg is None:
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg") if xdg == "ABS" else xdg)
    with _platform(monkeypatch, "linux"):
        linux = settings.config_path()
    if PLATFORMDIRS_RULES:
        assert linux == os.path.join(
            platformdirs.unix.Unix("relocator").user_config_dir, "service.toml"
        )
    with _platform(monkeypatch, "darwin"):
        mac = settings.config_path()
    if PLATFORMDIRS_RULES:
        assert mac == os.path.join(
            platformdirs.macos.MacOS("relocator").user_config_dir, "service.toml"
        )
    if xdg == "ABS":
        assert linux == mac == str(tmp_path / "xdg" / "relocator" / "service.toml")
    else:
        assert linux == str(home / ".config" / "relocator" / "service.toml")
        assert mac == str(home / "Library/Application Support/relocator/service.toml")


@pytest.mark.parametrize("home_value", ["", "relative/home"])
def test_default_root_with_unusable_home_matches_platformdirs(monkeypatch, home_value):
    monkeypatch.delenv("RELOCATOR_HOME")
    monkeypatch.setenv("HOME", home_value)
    with _platform(monkeypatch, "linux"):
        linux = storeroot.default_root()
    if PLATFORMDIRS_RULES:
        assert linux == platformdirs.unix.Unix("relocator").user_cache_dir
    assert linux == os.path.join(_passwd_home(), ".cache", "relocator")


def test_relocator_home_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("RELOCATOR_HOME", str(tmp_path / "mine"))
    assert storeroot.default_root() == str(tmp_path / "mine")
    with _platform(monkeypatch, "darwin"):
        assert storeroot.default_root() == str(tmp_path / "mine")
    monkeypatch.setenv("RELOCATOR_HOME", "~/relstore")
    assert storeroot.default_root() == os.path.join(os.environ["HOME"], "relstore")
    monkeypatch.setenv("RELOCATOR_HOME", str(tmp_path / "a" / ".." / "b") + "/")
    assert storeroot.default_root() == str(tmp_path / "b")
    # A relative one would be relative to whatever folder relocate runs in: refused.
    monkeypatch.chdir(tmp_path)
    for relative in ("rel/store", "store", "./x", "~nosuchuser-here/x"):
        monkeypatch.setenv("RELOCATOR_HOME", relative)
        with pytest.raises(RelocatorError) as caught:
            storeroot.default_root()
        assert str(caught.value) == f"RELOCATOR_HOME must be an absolute path (got {relative!r})"
    assert os.listdir(tmp_path) == ["home"]
    # An empty one is unset.
    monkeypatch.setenv("RELOCATOR_HOME", "")
    assert storeroot.default_root() == str(tmp_path / "xdg" / "relocator")
    if PLATFORMDIRS_RULES:
        assert storeroot.default_root() == str(platformdirs.user_cache_path("relocator"))
