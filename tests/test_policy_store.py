"""PolicyStore: validated atomic swap on reload, old policy kept on a broken edit, watcher, callbacks."""

from __future__ import annotations

import os
import threading

import pytest

from gateway.policy import PolicyError, PolicyStore

GOOD = "version: 1\nname: {name}\ndestinations:\n  - {{name: d, hosts: [a.example]}}\nrules: []\n"


def write(path, text: str) -> None:
    """Write and push mtime forward so a poll sees the change even within one mtime tick."""
    path.write_text(text)
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


@pytest.fixture
def store(tmp_path):
    f = tmp_path / "p.yaml"
    write(f, GOOD.format(name="one"))
    s = PolicyStore(f)
    events: list[tuple] = []
    s.on_reload.append(lambda p, ok, err: events.append((p.name if p else None, ok, err)))
    s.events = events
    s.file = f
    yield s
    s.stop_watching()


def test_start_up_with_broken_policy_raises(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("version: 1\nrules: [{name: r, action: nope}]\n")
    with pytest.raises(PolicyError):
        PolicyStore(f)


def test_reload_valid_swaps(store):
    old = store.current
    write(store.file, GOOD.format(name="two"))
    assert store.reload() is True
    assert store.current.name == "two" and store.current.version_id != old.version_id
    assert store.events == [("two", True, "")]


def test_reload_broken_keeps_old_and_reports(store):
    old = store.current
    write(store.file, "version: 1\nrules: [{name: r, action: blok}]\n")
    assert store.reload() is False
    assert store.current is old
    assert len(store.events) == 1
    name, ok, err = store.events[0]
    assert name is None and ok is False and "did you mean 'block'?" in err and ":2:" in err
    assert store.last_error == err


def test_reload_unchanged_keeps_object(store):
    old = store.current
    assert store.reload() is True
    assert store.current is old and store.events == [("one", True, "")]


def test_check_only_reloads_on_content_change(store):
    assert store.check() is None
    os.utime(store.file, ns=(0, os.stat(store.file).st_mtime_ns + 5_000_000_000))  # touched, same content
    assert store.check() is None and store.events == []
    write(store.file, GOOD.format(name="three"))
    assert store.check() is True and store.current.name == "three"
    write(store.file, "not: [valid")
    assert store.check() is False and store.current.name == "three"
    assert store.check() is None  # a broken file is reported once, not every poll


def test_callback_exception_does_not_break_reload(store):
    store.on_reload.insert(0, lambda *a: 1 / 0)
    write(store.file, GOOD.format(name="four"))
    assert store.reload() is True and store.events == [("four", True, "")]


def test_watcher_thread_swaps_and_keeps(store):
    seen = threading.Event()
    store.on_reload.append(lambda p, ok, err: seen.set())
    store.start_watching(interval=0.05)
    write(store.file, GOOD.format(name="watched"))
    assert seen.wait(5)
    assert store.current.name == "watched"
    seen.clear()
    write(store.file, "version: 1\nrules: [{name: r, action: nope}]\n")
    assert seen.wait(5)
    assert store.current.name == "watched" and store.events[-1][1] is False
    store.stop_watching()


def test_groups_file_change_triggers_reload(tmp_path):
    g = tmp_path / "groups.yaml"
    write(g, "fin: [alice]\n")
    f = tmp_path / "p.yaml"
    write(f, GOOD.format(name="g").replace("rules: []", "identity: {groups_file: groups.yaml}\nrules: []"))
    s = PolicyStore(f)
    assert s.current.groups_for("bob") == frozenset()
    write(g, "fin: [alice, bob]\n")
    assert s.check() is True
    assert s.current.groups_for("bob") == {"fin"}


def test_readers_never_see_a_partial_policy(store):
    """Readers hammering .current during reloads always get a complete, validated policy."""
    stop = threading.Event()
    bad: list[object] = []

    def reader():
        while not stop.is_set():
            p = store.current
            if p.name not in ("one", "two") or p.rules != ():
                bad.append(p)

    t = threading.Thread(target=reader)
    t.start()
    for n in range(20):
        write(store.file, GOOD.format(name="two" if n % 2 else "one") if n % 3 else "broken: [")
        store.reload()
    stop.set()
    t.join()
    assert bad == []
