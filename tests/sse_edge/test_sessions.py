"""Table tests for sse_edge.sessions (pure registry, fake time)."""

from __future__ import annotations

import base64

import pytest

from sse_edge.sessions import SessionRegistry, new_session_id, owner_of


def test_session_ids_have_at_least_128_bits_and_are_url_safe() -> None:
    ids = {new_session_id("edge-a", "ws", b"k") for _ in range(1000)}
    assert len(ids) == 1000
    for sid in list(ids)[:50]:
        edge, secret, mac = sid.split(".")
        assert edge == "edge-a"
        raw = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
        assert len(raw) * 8 >= 128
        assert sid.replace("-", "").replace("_", "").replace(".", "").isalnum()


SID = new_session_id("edge-a", "alpha", b"key")
_EDGE, _SECRET, _MAC = SID.split(".")


@pytest.mark.parametrize(
    ("sid", "workspace", "key", "owner"),
    [
        (SID, "alpha", b"key", "edge-a"),
        (SID, "beta", b"key", None),  # minted for another workspace
        (SID, "alpha", b"other key", None),  # minted under another key
        (f"edge-b.{_SECRET}.{_MAC}", "alpha", b"key", None),  # owner rewritten: MAC fails
        (f"{_EDGE}.{_SECRET}x.{_MAC}", "alpha", b"key", None),  # secret altered
        (f"{_EDGE}.{_SECRET}", "alpha", b"key", None),
        ("bogus", "alpha", b"key", None),
        ("", "alpha", b"key", None),
        (None, "alpha", b"key", None),
        ("a.b.c.d", "alpha", b"key", None),
        ("x" * 500, "alpha", b"key", None),
    ],
)
def test_owner_of(sid: str | None, workspace: str, key: bytes, owner: str | None) -> None:
    assert owner_of(sid, workspace, key) == owner


def test_bad_edge_id_rejected() -> None:
    with pytest.raises(ValueError):
        new_session_id("a.b", "ws", b"")
    with pytest.raises(ValueError):
        SessionRegistry(edge_id="")


def test_create_binds_workspace_handle_and_time() -> None:
    reg: SessionRegistry[str] = SessionRegistry()
    s = reg.create("alpha", "handle-1", now=12.5)
    assert (s.workspace, s.handle, s.created_at) == ("alpha", "handle-1", 12.5)
    assert len(reg) == 1


@pytest.mark.parametrize(
    ("lookup_id", "lookup_ws", "found"),
    [
        ("own", "alpha", True),
        ("own", "beta", False),  # right id, wrong workspace: not found, like an unknown id
        ("bogus", "alpha", False),
        ("", "alpha", False),
        (None, "alpha", False),
    ],
)
def test_lookup(lookup_id: str | None, lookup_ws: str, found: bool) -> None:
    reg: SessionRegistry[int] = SessionRegistry()
    s = reg.create("alpha", 1, now=0.0)
    reg.create("beta", 2, now=0.0)
    sid = s.session_id if lookup_id == "own" else lookup_id
    got = reg.lookup(sid, lookup_ws)
    assert (got is s) if found else (got is None)


def test_remove_is_idempotent_and_counts() -> None:
    reg: SessionRegistry[int] = SessionRegistry()
    a = reg.create("alpha", 1, now=0.0)
    reg.create("alpha", 2, now=1.0)
    reg.create("beta", 3, now=2.0)
    assert (reg.count(), reg.count("alpha"), reg.count("beta"), reg.count("gamma")) == (3, 2, 1, 0)
    assert reg.remove(a.session_id) is a
    assert reg.remove(a.session_id) is None
    assert reg.lookup(a.session_id, "alpha") is None
    assert reg.count("alpha") == 1


def test_sessions_snapshot_allows_removal_while_iterating() -> None:
    reg: SessionRegistry[int] = SessionRegistry()
    for i in range(5):
        reg.create("alpha", i, now=float(i))
    for s in reg.sessions():
        reg.remove(s.session_id)
    assert len(reg) == 0
