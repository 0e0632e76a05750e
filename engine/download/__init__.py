"""Downloading, verifying and installing models: the only part of Ponder that uses the network,
and only when the user starts a download."""
