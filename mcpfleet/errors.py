"""The one error tree of mcp-fleet.

Services raise these; `mcpfleet.rpc` maps each class to a gRPC status code in one table (never by
matching message text) and back again on the calling side, so a caller catches the same class the
server raised. The message is shown to operators as is: make it say what and why.
"""

from __future__ import annotations


class FleetError(Exception):
    """Base of every error we raise on purpose. `str(err)` is the operator-facing message."""


class InvalidArgument(FleetError):
    """The request or the input file is malformed (gRPC INVALID_ARGUMENT, CLI exit 1)."""


class NotFound(FleetError):
    """The named workspace, agent or component does not exist (gRPC NOT_FOUND)."""


class AlreadyExists(FleetError):
    """The thing to create exists already (gRPC ALREADY_EXISTS)."""


class FailedPrecondition(FleetError):
    """The system is not in a state where the operation can run (gRPC FAILED_PRECONDITION)."""


class ResourceExhausted(FleetError):
    """No port, capacity or slot left (gRPC RESOURCE_EXHAUSTED)."""


class Unauthenticated(FleetError):
    """A credential is required and missing or wrong (gRPC UNAUTHENTICATED)."""


class PermissionDenied(FleetError):
    """The caller is known but may not do this (gRPC PERMISSION_DENIED)."""


class Unavailable(FleetError):
    """The peer cannot be reached or went away (gRPC UNAVAILABLE; CLI exit 3)."""


class DeadlineExceeded(FleetError):
    """The call did not finish within its deadline (gRPC DEADLINE_EXCEEDED)."""


class Internal(FleetError):
    """A bug or an unexpected failure on the other side (gRPC INTERNAL/UNKNOWN)."""
