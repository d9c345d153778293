"""WSGI middleware in front of moto: a role's checked calls answer AccessDenied unless allowed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from moto.utilities.utils import get_partition

from scones.local.iam.authorizer import AccessDeniedError, Authorizer
from scones.local.iam.calls import Signature, call_of
from scones.local.iam.denials import denial_for

StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class IAMEnforcement:
    def __init__(self, app: WSGIApp, authorizer: Authorizer) -> None:
        self._app = app
        self._authorizer = authorizer

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        signature = Signature.of(environ)
        principal = (
            None if signature is None else self._authorizer.principal_for(signature.access_key_id, signature.region)
        )
        if signature is None or principal is None:  # unsigned (moto's own API) or the admin
            return self._app(environ, start_response)
        call = call_of(environ, signature, get_partition(signature.region), principal.account_id)
        if call is None:
            return self._app(environ, start_response)
        try:
            for resource in (call.resource, *call.also):
                self._authorizer.check(principal, call.action, resource, call.context)
        except AccessDeniedError as error:
            denial = denial_for(call.service, error, head=str(environ.get("REQUEST_METHOD")).upper() == "HEAD")
            start_response(denial.status, denial.headers)
            return [denial.body]
        return self._app(environ, start_response)
