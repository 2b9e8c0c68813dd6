"""Placeholder; replaced by the click commands."""


def main() -> None:
    raise SystemExit(0)
