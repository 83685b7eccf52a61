import pytest
from hypothesis import given
from hypothesis import strategies as st

from control_plane.ports import PortAllocator, PortRange
from mcpfleet.errors import InvalidArgument, ResourceExhausted


def alloc(lo: int = 40000, hi: int = 40004) -> PortAllocator:
    a = PortAllocator()
    a.set_range("h1", PortRange(lo, hi))
    return a


def test_lowest_free_port_then_reuse() -> None:
    a = alloc()
    assert a.allocate("h1", "a") == (40000, True)
    assert a.allocate("h1", "b") == (40001, True)
    assert a.allocate("h1", "a") == (40000, False)


def test_release_frees_the_port_for_the_next() -> None:
    a = alloc()
    a.allocate("h1", "a")
    a.allocate("h1", "b")
    assert a.release("h1", "a") == 40000
    assert a.allocate("h1", "c") == (40000, True)


def test_avoid_skips_ports_held_by_foreign_processes_and_moves_an_allocation() -> None:
    a = alloc()
    a.allocate("h1", "a")
    assert a.allocate("h1", "a", avoid=frozenset({40000})) == (40001, True)


def test_full_range_is_resource_exhausted() -> None:
    a = alloc(40000, 40001)
    a.allocate("h1", "a")
    a.allocate("h1", "b")
    with pytest.raises(ResourceExhausted, match="no free port"):
        a.allocate("h1", "c")


def test_unknown_host_is_invalid() -> None:
    with pytest.raises(InvalidArgument):
        PortAllocator().allocate("nope", "a")


def test_json_round_trip_keeps_allocations() -> None:
    a = alloc()
    a.allocate("h1", "a")
    a.allocate("h1", "b")
    b = PortAllocator.from_json(a.to_json())
    assert b.to_json() == a.to_json()
    assert b.allocate("h1", "b") == (40001, False)


@pytest.mark.parametrize("bad", [{}, {"schemaVersion": 99}, [], {"schemaVersion": 1, "hosts": {"h": {}}},
                                 {"schemaVersion": 1, "hosts": {"h": {"portRange": {"min": 1, "max": 9},
                                                                     "allocatedPorts": {"a": 2, "b": 2}}}}])
def test_bad_json_is_invalid(bad: object) -> None:
    with pytest.raises(InvalidArgument):
        PortAllocator.from_json(bad)


def test_shrinking_the_range_drops_allocations_outside_it() -> None:
    a = alloc()
    for ws in "abc":
        a.allocate("h1", ws)
    a.set_range("h1", PortRange(40001, 40004))
    assert a.port_of("h1", "a") is None
    assert a.port_of("h1", "b") == 40001


ops = st.lists(st.tuples(st.sampled_from(["alloc", "release"]), st.sampled_from("abcdefghij"),
                         st.sampled_from(["h1", "h2"]), st.frozensets(st.integers(40000, 40007), max_size=3)),
               max_size=60)


@given(ops)
def test_property_no_port_is_ever_allocated_twice_on_a_host(sequence: list) -> None:
    a = PortAllocator()
    a.set_range("h1", PortRange(40000, 40007))
    a.set_range("h2", PortRange(40000, 40007))
    for op, ws, host, avoid in sequence:
        if op == "alloc":
            try:
                port, _ = a.allocate(host, ws, avoid)
            except ResourceExhausted:
                continue
            assert port not in avoid
            assert a.port_of(host, ws) == port
        else:
            a.release(host, ws)
        for hp in a.hosts.values():
            ports = list(hp.allocated.values())
            assert len(ports) == len(set(ports))
            assert all(hp.port_range.min <= p <= hp.port_range.max for p in ports)
