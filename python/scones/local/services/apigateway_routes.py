"""Which deployed REST API, stage, resource and method an invocation URL names.

The emulator serves a stage at `{emulator}/restapis/{api_id}/{stage}/_user_request_/{path}`
(LocalStack's convention: moto's control plane owns the rest of `/restapis/...`). A resource
path part `{name}` matches one segment and `{name+}` the rest of the path; a literal part wins
over `{name}`, which wins over `{name+}` ("Set up a proxy integration with a proxy resource",
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-set-up-simple-proxy.html).
A method is the request's HTTP method, else `ANY`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from moto.apigateway.models import APIGatewayBackend, Method, Resource, RestAPI, Stage, apigateway_backends

INVOKE_PATH = re.compile(r"^/restapis/(?P<api>[^/]+)/(?P<stage>[^/]+)/_user_request_(?P<path>/.*)?$")


@dataclass(frozen=True)
class Route:
    backend: APIGatewayBackend
    api: RestAPI
    stage: Stage
    resource: Resource
    method: Method
    path: str  # the request's path below the stage, "/classify"
    path_parameters: dict[str, str]

    @property
    def resource_path(self) -> str:
        return self.resource.get_path()


def find_api(api_id: str) -> tuple[APIGatewayBackend, RestAPI] | None:
    for regions in list(apigateway_backends.values()):
        for backend in list(regions.values()):
            api = backend.apis.get(api_id)
            if api is not None:
                return backend, api
    return None


def _match(template: str, path: str) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """A specificity rank (lower is more specific) and the path parameters, or None."""
    wanted = [part for part in template.split("/") if part]
    given = [unquote(part) for part in path.split("/") if part]
    rank: list[int] = []
    parameters: dict[str, str] = {}
    for index, part in enumerate(wanted):
        if part.startswith("{") and part.endswith("+}"):
            rest = given[index:]
            if not rest:
                return None
            parameters[part[1:-2]] = "/".join(rest)
            return (*rank, 2), parameters
        if index >= len(given):
            return None
        if part.startswith("{") and part.endswith("}"):
            parameters[part[1:-1]] = given[index]
            rank.append(1)
        elif part == given[index]:
            rank.append(0)
        else:
            return None
    return (tuple(rank), parameters) if len(wanted) == len(given) else None


def resolve(api: RestAPI, path: str, http_method: str) -> tuple[Resource, Method, dict[str, str]] | None:
    """The resource and method `http_method path` invokes, with its path parameters."""
    best: tuple[tuple[int, ...], Resource, dict[str, str]] | None = None
    for resource in list(api.resources.values()):
        matched = _match(resource.get_path(), path)
        if matched is not None and (best is None or matched[0] < best[0]):
            best = (matched[0], resource, matched[1])
    if best is None:
        return None
    _, resource, parameters = best
    method = resource.resource_methods.get(http_method.upper()) or resource.resource_methods.get("ANY")
    return None if method is None else (resource, method, parameters)
