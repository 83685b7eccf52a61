"""Table tests for sse_edge.sse_frames (pure: encoding and the incremental parser)."""

from __future__ import annotations

import pytest

from sse_edge.sse_frames import SSEEvent, SSEParser, SSEProtocolError, encode_comment, encode_event


@pytest.mark.parametrize(
    ("event", "data", "kwargs", "expected"),
    [
        ("endpoint", "/m?session_id=x", {}, b"event: endpoint\r\ndata: /m?session_id=x\r\n\r\n"),
        (None, "hi", {}, b"data: hi\r\n\r\n"),
        ("message", "a\nb\r\nc\rd", {},
         b"event: message\r\ndata: a\r\ndata: b\r\ndata: c\r\ndata: d\r\n\r\n"),
        ("message", "", {}, b"event: message\r\ndata: \r\n\r\n"),
        ("message", "x", {"id": "7"}, b"event: message\r\ndata: x\r\nid: 7\r\n\r\n"),
        ("message", "caf\u00e9", {}, "event: message\r\ndata: caf\u00e9\r\n\r\n".encode()),
    ],
)
def test_encode_event(event: str | None, data: str, kwargs: dict[str, str], expected: bytes) -> None:
    assert encode_event(event, data, **kwargs) == expected


@pytest.mark.parametrize(("event", "id"), [("a\nb", None), ("a\rb", None), ("message", "1\n2")])
def test_encode_event_refuses_forged_fields(event: str, id: str | None) -> None:
    with pytest.raises(ValueError):
        encode_event(event, "x", id=id)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("ping", b": ping\r\n\r\n"), ("", b": \r\n\r\n"), ("a\nb", b": a\r\n: b\r\n\r\n")],
)
def test_encode_comment(text: str, expected: bytes) -> None:
    assert encode_comment(text) == expected


M = "message"
PARSE_CASES: list[tuple[str, bytes, list[SSEEvent]]] = [
    ("fastmcp endpoint, CRLF", b"event: endpoint\r\ndata: /messages/?session_id=ab\r\n\r\n",
     [SSEEvent("endpoint", "/messages/?session_id=ab")]),
    ("LF only", b"event: message\ndata: {}\n\n", [SSEEvent(M, "{}")]),
    ("CR only", b"event: message\rdata: {}\r\r", [SSEEvent(M, "{}")]),
    ("mixed line endings", b"data: a\r\ndata: b\ndata: c\r\r\n", [SSEEvent(M, "a\nb\nc")]),
    ("no event field -> message", b"data: x\n\n", [SSEEvent(M, "x")]),
    ("multi-line data", b"event: message\r\ndata: {\r\ndata:  \"a\": 1\r\ndata: }\r\n\r\n",
     [SSEEvent(M, '{\n "a": 1\n}')]),
    ("no space after colon", b"data:x\n\n", [SSEEvent(M, "x")]),
    ("only first space stripped", b"data:  x\n\n", [SSEEvent(M, " x")]),
    ("field without colon", b"data\n\n", [SSEEvent(M, "")]),
    ("comments ignored", b": ping\r\n\r\n: hello\r\ndata: x\r\n: mid\r\n\r\n", [SSEEvent(M, "x")]),
    ("blank lines without data dispatch nothing", b"\r\n\r\nevent: endpoint\r\n\r\n", []),
    ("event name reset after dispatch", b"event: endpoint\ndata: a\n\ndata: b\n\n",
     [SSEEvent("endpoint", "a"), SSEEvent(M, "b")]),
    ("id and retry", b"id: 5\nretry: 300\ndata: x\n\n", [SSEEvent(M, "x", "5", 300)]),
    ("bad retry ignored", b"retry: 3s\ndata: x\n\n", [SSEEvent(M, "x")]),
    ("unknown field ignored", b"foo: bar\ndata: x\n\n", [SSEEvent(M, "x")]),
    ("leading BOM stripped", b"\xef\xbb\xbfdata: x\n\n", [SSEEvent(M, "x")]),
    ("incomplete event not dispatched", b"data: x\n", []),
    ("two events in one chunk", b"data: 1\r\n\r\ndata: 2\r\n\r\n", [SSEEvent(M, "1"), SSEEvent(M, "2")]),
    ("utf-8", "data: caf\u00e9 \u2713\n\n".encode(), [SSEEvent(M, "caf\u00e9 \u2713")]),
]


PARSE_TABLE = pytest.mark.parametrize(
    ("stream", "expected"), [c[1:] for c in PARSE_CASES], ids=[c[0] for c in PARSE_CASES]
)


@PARSE_TABLE
def test_parse_whole(stream: bytes, expected: list[SSEEvent]) -> None:
    assert SSEParser().feed(stream) == expected


@PARSE_TABLE
def test_parse_split_at_every_position(stream: bytes, expected: list[SSEEvent]) -> None:
    """Chunk boundaries anywhere (inside CRLF, inside a UTF-8 character) change nothing."""
    for cut in range(len(stream) + 1):
        parser = SSEParser()
        events = parser.feed(stream[:cut]) + parser.feed(b"") + parser.feed(stream[cut:])
        assert events == expected, f"cut at {cut}"


@PARSE_TABLE
def test_parse_byte_by_byte(stream: bytes, expected: list[SSEEvent]) -> None:
    parser = SSEParser()
    events: list[SSEEvent] = []
    for i in range(len(stream)):
        events += parser.feed(stream[i : i + 1])
    assert events == expected


def test_cr_at_chunk_end_then_lf_is_one_line_break() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\n") == []  # the LF completes the CRLF: no blank line yet
    assert parser.feed(b"\r") == [SSEEvent(M, "a")]  # a lone CR is a blank line
    assert parser.feed(b"\ndata: b\n\n") == [SSEEvent(M, "b")]  # that CR's LF is skipped


def test_cr_at_chunk_end_then_cr_is_blank_line() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\r") == [SSEEvent(M, "a")]


def test_round_trip() -> None:
    data = '{"jsonrpc":"2.0","id":1,"result":{"text":"a\\nb"}}\nsecond line'
    assert SSEParser().feed(encode_event("message", data)) == [SSEEvent(M, data)]


@pytest.mark.parametrize(
    "stream",
    [
        b"data: " + b"x" * 200 + b"\n\n",
        b"data: " + b"x" * 200,
        b"data: " + b"x" * 60 + b"\n" + b"data: " + b"y" * 60 + b"\n",
    ],
    ids=["complete line", "unterminated line", "many lines"],
)
def test_event_size_cap(stream: bytes) -> None:
    with pytest.raises(SSEProtocolError):
        SSEParser(max_event_bytes=100).feed(stream)


def test_size_cap_resets_per_event() -> None:
    parser = SSEParser(max_event_bytes=100)
    chunk = b"data: " + b"x" * 80 + b"\n\n"
    assert len(parser.feed(chunk * 5)) == 5


def test_invalid_utf8() -> None:
    with pytest.raises(SSEProtocolError):
        SSEParser().feed(b"data: \xff\xfe\n\n")
