"""Regenerate the committed gRPC stubs in mcpfleet/v1/ from protos/.

Usage: python scripts/gen_protos.py [--out DIR]
The drift test runs this into a temp dir and compares it with the committed files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"


def generate(out: Path) -> None:
    """Run protoc (grpcio-tools) over every proto into `out` (a python package root)."""
    import grpc_tools
    from grpc_tools import protoc

    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    include = str(Path(grpc_tools.__file__).parent / "_proto")
    args = ["protoc", f"-I{PROTO_ROOT}", f"-I{include}", f"--python_out={out}", f"--pyi_out={out}",
            f"--grpc_python_out={out}", *protos]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    pkg = out / "mcpfleet" / "v1"
    (pkg / "__init__.py").write_text('"""GENERATED gRPC stubs: run `make protos`, never edit."""\n')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT)
    generate(parser.parse_args().out)


if __name__ == "__main__":
    sys.exit(main())
