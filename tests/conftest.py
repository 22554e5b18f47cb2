"""Shared fixtures. Tests never touch the network: `no_network` makes any attempt fail."""

import os
import socket

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def smoke_profile(monkeypatch):
    """Tests run in the smoke profile unless a test says otherwise."""
    monkeypatch.setenv("COURSE_PROFILE", "smoke")


@pytest.fixture
def no_network(monkeypatch):
    """Any connection attempt raises at once, like a machine with no network."""

    def refuse(*args, **kwargs):
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
