"""Sending a stored file (app.services.storage.open) as a response: streamed a chunk at a time,
with its length, whatever the storage backend."""

from __future__ import annotations

from typing import Any, BinaryIO

from flask import Response, send_file


def send_stored(file: BinaryIO, **options: Any) -> Response:
    """`flask.send_file` for an opened stored file; the file is closed once it is sent."""
    response = send_file(file, **options)
    if response.status_code == 200:
        response.content_length = file.size
    return response
