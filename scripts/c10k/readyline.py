"""The ready line our servers print once they listen: `listening on HOST:PORT` (HOST may be an
[IPv6] address). One reader for the runner, the gates, the benchmark helpers and the tests."""

PREFIX = "listening on "


def parse(line):
    """(host, port) of a ready line; None when the line is not one; ValueError when it is one
    whose address cannot be read."""
    if not line.startswith(PREFIX):
        return None
    host, _, port = line[len(PREFIX):].strip().rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"unreadable ready line {line.strip()!r}")
    return host.strip("[]"), int(port)


def find(text):
    """(host, port) of the first ready line among the complete lines of text (a server's output so
    far: a line still being written is not read), or None."""
    for line in text.splitlines(keepends=True):
        if line.endswith("\n"):
            found = parse(line)
            if found:
                return found
    return None
