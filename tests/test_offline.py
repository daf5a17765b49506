"""The suite itself runs offline: the socket guard refuses outside connections."""

import socket

import pytest

from tests.conftest import NetworkAccessBlocked


def test_socket_guard_blocks_outside_connections():
    with pytest.raises(NetworkAccessBlocked):
        socket.create_connection(("192.0.2.1", 80), timeout=1)


def test_socket_guard_blocks_name_lookups():
    with pytest.raises(NetworkAccessBlocked):
        socket.getaddrinfo("pypi.org", 443)
