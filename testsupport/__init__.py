"""Scaffolding shared by the test suite (`tests/`) and the bench scripts (`bench/`): builders for rows
(`factories`), the processes a run needs (`processes`: redis-server, RQ workers; the Google emulator is
`google_emulator.testing.EmulatorServer`), a real SMTP server that keeps what it receives (`mail`, also
`make run`'s mail sink) and small waiting helpers (`helpers`).

It lives at the top level, not under `tests/`, because `bench/` imports it and must not import the test tree
(its conftest files are pytest's, with fixtures and hooks). Pytest fixtures stay in the conftest files and call
this package.
"""
