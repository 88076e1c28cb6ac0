"""Property: random JSON bodies shaped by the OpenAPI schema (valid, nearly valid and junk)
never get a 5xx answer from any POST route, and the server keeps answering."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engine.server import EngineState, ServerConfig, create_app
from tests.server.conftest import serving

JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
SMALL_INTS = st.integers(-5, 40) | st.sampled_from([0, 1, 10**18, -(10**18), 2**63])
NUMBERS = st.floats(0, 1) | st.floats(-2, 3) | st.floats(allow_nan=False, allow_infinity=False)


def openapi_document() -> dict:
    return create_app(EngineState(ServerConfig())).openapi()


def post_routes() -> dict[str, dict]:
    """path -> request body schema, for every POST route that takes a body."""
    routes = {}
    for path, ops in openapi_document()["paths"].items():
        body = ops.get("post", {}).get("requestBody")
        if body:
            routes[path] = body["content"]["application/json"]["schema"]
    return routes


def strategy_for(schema: dict, components: dict, depth: int = 0, junk: bool = False):
    """Values of the schema's types; with ``junk``, top-level fields may also be any JSON."""
    if "$ref" in schema:
        return strategy_for(components[schema["$ref"].split("/")[-1]], components, depth, junk)
    if "anyOf" in schema:
        return st.one_of([strategy_for(s, components, depth) for s in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        return _object(schema, components, depth, junk)
    simple = {"string": st.text(max_size=12), "integer": SMALL_INTS, "number": NUMBERS,
              "boolean": st.booleans(), "null": st.none()}
    if kind in simple:
        return simple[kind]
    if kind == "array" and depth < 3:
        return st.lists(strategy_for(schema.get("items", {}), components, depth + 1), max_size=3)
    return JUNK


def _object(schema: dict, components: dict, depth: int, junk: bool):
    required = set(schema.get("required", ()))
    fields = {}
    for name, sub in schema["properties"].items():
        typed = strategy_for(sub, components, depth + 1)
        fields[name] = typed | JUNK if junk and depth == 0 else typed
    return st.fixed_dictionaries({k: v for k, v in fields.items() if k in required},
                                 optional={k: v for k, v in fields.items() if k not in required})


def request_cases():
    document = openapi_document()
    components = document.get("components", {}).get("schemas", {})
    return st.one_of([
        st.tuples(st.just(path), st.one_of(strategy_for(schema, components), strategy_for(schema, components, junk=True), JUNK))
        for path, schema in sorted(post_routes().items())
    ])


def test_every_post_route_is_fuzzed():
    assert set(post_routes()) == {"/api/v1/generate", "/api/extra/generate/stream", "/api/extra/tokencount",
                                  "/v1/completions", "/v1/chat/completions"}


@pytest.fixture(scope="module")
def fuzz_server(tiny_parts):
    with serving(tiny_parts) as running, httpx.Client(base_url=running.url, timeout=60) as client:
        yield client


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(case=request_cases())
def test_random_bodies_never_get_a_5xx(fuzz_server, case):
    path, body = case
    answer = fuzz_server.post(path, json=body)
    event(f"{path} -> {answer.status_code}")
    assert answer.status_code < 500, (path, body, answer.text[:300])
    assert fuzz_server.get("/health").status_code == 200
