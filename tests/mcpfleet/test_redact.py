from mcpfleet.workspace import REDACTED, redact_secrets


def test_env_and_headers_values_are_redacted_and_nothing_else() -> None:
    data = {"description": "d",
            "mcpServers": {"a": {"command": "x", "args": ["--token", "visible-arg"], "env": {"K": "v"}},
                           "b": {"url": "http://h/mcp", "headers": {"Authorization": "Bearer t"}}},
            "fleet": {"auth": {"tokenSha256": ["ab"]}}}
    out = redact_secrets(data)
    assert out["mcpServers"]["a"] == {"command": "x", "args": ["--token", "visible-arg"], "env": {"K": REDACTED}}
    assert out["mcpServers"]["b"]["headers"] == {"Authorization": REDACTED}
    assert out["fleet"] == data["fleet"] and out["description"] == "d"
    assert data["mcpServers"]["a"]["env"] == {"K": "v"}  # the input is not modified
