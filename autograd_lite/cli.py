"""The ``autograd-lite`` command line."""

from __future__ import annotations

import argparse
import sys

from autograd_lite import walkthrough


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograd-lite", description="Backpropagation you can hold in your hands.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="the course walkthrough: the z → a → L graph and its derivatives")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        walkthrough.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
