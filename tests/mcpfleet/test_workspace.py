import json

import pytest

from mcpfleet.errors import InvalidArgument
from mcpfleet.workspace import check_name, content_version, parse_workspace

GOOD = {"mcpServers": {"time": {"command": "mcp-server-time"}, "web": {"url": "http://x/mcp"},
                       "off": {"command": "x", "disabled": True}},
        "fleet": {"requestTimeoutSeconds": 5, "limits": {"memoryMB": 256, "cpuPercent": 50}}}


def test_good_file_parses_and_keeps_server_entries_untouched() -> None:
    cfg = parse_workspace(json.dumps(GOOD))
    assert cfg.mcp_servers["time"] == {"command": "mcp-server-time"}
    assert set(cfg.enabled_servers()) == {"time", "web"}
    assert cfg.fleet.request_timeout_seconds == 5
    assert cfg.fleet.limits.memory_mb == 256


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"mcpServers": {', "line 1 column"),
        ("[]", "top level must be a JSON object"),
        (" \n", "the file is empty"),
        ('{"mcpServers": {}}', "at least one server"),
        ('{"mcpServers": {"a": {"command": "x"}}, "extra": 1}', "extra: Extra inputs"),
        ('{"mcpServers": {"a": {"args": []}}}', "exactly one of 'command' or 'url'"),
        ('{"mcpServers": {"a": {"command": 5}}}', "server 'a': command: Input should be a valid string"),
        ('{"mcpServers": {"a": {"command": ""}}}', "server 'a': command: String should have at least 1"),
        ('{"mcpServers": {"a": {"command": "x", "args": "-v"}}}', "server 'a': args: Input should be a valid list"),
        ('{"mcpServers": {"a": {"command": "x", "env": {"A": 1}}}}', "server 'a': env.A: Input should be a valid str"),
        ('{"mcpServers": {"a": {"url": "http://x", "headers": []}}}', "server 'a': headers: Input should be a valid"),
        ('{"mcpServers": {"a": {"command": "x"}}, "fleet": {"bogus": 1}}', "fleet.bogus"),
        ('{"mcpServers": {"a": {"command": "x"}}, "fleet": {"requestTimeoutSeconds": -1}}',
         "fleet.requestTimeoutSeconds"),
    ],
)
def test_bad_files_are_rejected_with_where_and_why(raw: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        parse_workspace(raw, source="ws.json")
    assert str(err.value).startswith("ws.json: ")
    assert message in str(err.value)


@pytest.mark.parametrize("name", ["demo", "a", "a-b-1", "0" * 63])
def test_valid_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "-a", "A", "a_b", "a.b", "0" * 64])
def test_invalid_names(name: str) -> None:
    with pytest.raises(InvalidArgument):
        check_name(name)


def test_version_is_a_content_hash() -> None:
    assert content_version(b"x") == content_version(b"x") != content_version(b"y")
