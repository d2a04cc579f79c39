"""Engine errors as pages: the same exit-code meanings as the command line, as HTTP statuses."""

from __future__ import annotations

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from engine.errors import BadInput, Conflict, MadoguchiError, NotFound, PermissionRefused

STATUS = ((NotFound, 404), (PermissionRefused, 403), (Conflict, 409), (BadInput, 400))


def status_of(error: MadoguchiError) -> int:
    for kind, status in STATUS:
        if isinstance(error, kind):
            return status
    return 500


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(MadoguchiError)
    def engine_error(error: MadoguchiError):
        status = status_of(error)
        return render_template("error.html", status=status, message=str(error)), status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return render_template("error.html", status=error.code, message=error.description), error.code
