#!/usr/bin/env python3
"""Keeps schema/gateway.schema.json, the configuration decoder and docs/configuration.md in
agreement (run through scripts/check-schema).

  a. the schema is a valid draft 2020-12 schema, and describes every key (description, and
     default or examples);
  b. every example config (the repository's *.json configs, the JSON examples of README.md and
     docs/configuration.md, and a config that sets every key) passes the schema and
     `portico --check`;
  c. invalid snippets are refused by both, `portico --check` naming the expected json path;
     values on either side of each pattern, and odd values (null, "x", 1.5, -1, true, {}, [])
     in place of every value of that full config, get the same answer from both (but for the
     rules across fields only the decoder knows);
  d. every schema key is in docs/configuration.md's tables and every key there in the schema,
     with the same defaults;
  e. at every level the schema's keys are exactly the keys the decoder accepts
     (ConfigDecoder*.swift `...Keys: Set<String>`), and the decoder reads each of them;
  f. every key is acted on: scripts/schema.d/acted_on.py names, for each schema key, the tests
     (Tests/<Target>/<File>.swift:<function>) that show the gateway doing something different
     because of it ("$schema" alone is "ignored"), with no stale entries; the keys it lists in
     DECODE_ONLY (decoded, no behaviour test yet) are printed as notes.

Usage: check.py PORTICO_BIN
"""

import copy
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "schema" / "gateway.schema.json"
DOCS_PATH = ROOT / "docs" / "configuration.md"
DECODER_DIR = ROOT / "Sources" / "Gateway" / "Config"
DOC_EXAMPLE_FILES = [ROOT / "README.md", DOCS_PATH]
ACTED_ON_PATH = Path(__file__).resolve().parent / "acted_on.py"
DELETE = object()

# The decoder's key sets and the schema object each one describes (json paths as the docs
# write them: `listeners[]` for array elements, `upstreams.NAME` for an upstream).
KEY_SETS = {
    "rootKeys": [""],
    "listenerKeys": ["listeners[]"],
    "adminKeys": ["admin"],
    "limitsKeys": ["limits"],
    "timeoutsKeys": ["timeouts"],
    "accessLogKeys": ["accessLog"],
    "upstreamKeys": ["upstreams.NAME"],
    "serverKeys": ["upstreams.NAME.servers[]"],
    "poolKeys": ["upstreams.NAME.pool"],
    "healthCheckKeys": ["upstreams.NAME.healthCheck"],
    "circuitBreakerKeys": ["upstreams.NAME.circuitBreaker"],
    "routeKeys": ["routes[]"],
    "matchKeys": ["routes[].match"],
    "retryKeys": ["routes[].retries"],
    "backoffKeys": ["routes[].retries.backoff"],
    "rateLimitKeys": ["routes[].rateLimit"],
    "headerRulesKeys": ["routes[].requestHeaders", "routes[].responseHeaders"],
    "directResponseKeys": ["routes[].directResponse"],
    "clusterKeys": ["cluster"],
    "redisKeys": ["cluster.redis"],
}
# Accepted and deliberately ignored (docs/configuration.md: "allowed and ignored").
IGNORED_KEYS = {"$schema"}
# Example configs that may go without a "$schema" key (they are still validated), and why.
NO_SCHEMA_KEY = {
    "contrib/gateway.json": "installed as /etc/portico/gateway.json, where a relative \"$schema\" would not resolve",
}
# Docs/decoder disagreements already reported, printed as warnings until fixed (an entry that
# no longer disagrees fails, so the list cannot go stale). The schema follows the decoder.
KNOWN_DISAGREEMENTS = {}


class Report:
    def __init__(self):
        self.sections = []
        self.warnings = []

    def section(self, name):
        self.sections.append([name, 0, []])

    def ok(self, count=1):
        self.sections[-1][1] += count

    def warn(self, message):
        self.warnings.append(message)

    def fail(self, message):
        self.sections[-1][2].append(message)
        print(f"  FAIL {message}")

    def check(self, condition, message):
        if condition:
            self.ok()
        else:
            self.fail(message)
        return condition

    @property
    def failures(self):
        return sum(len(s[2]) for s in self.sections)


R = Report()
NOTES = {}


# ---------------------------------------------------------------- helpers


def json_path(parts):
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = part if out == "" else f"{out}.{part}"
    return out


def join(path, key):
    return key if path == "" else f"{path}.{key}"


def resolve(schema, node):
    """The node with a local `$ref` merged in (the node's own keywords win)."""
    if isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target = schema
        for part in ref[2:].split("/"):
            target = target[part]
        merged = dict(resolve(schema, target))
        merged.update({k: v for k, v in node.items() if k != "$ref"})
        return merged
    return node


def walk_schema(schema):
    """objects: path -> (node, property names, required); props: path -> (node, parent path)."""
    objects, props = {}, {}

    def walk(node, path):
        node = resolve(schema, node)
        if not isinstance(node, dict):
            return
        if "properties" in node:
            objects[path] = (node, set(node["properties"]), set(node.get("required", [])))
            for key, sub in node["properties"].items():
                props[join(path, key)] = (sub, path)
                walk(sub, join(path, key))
        if isinstance(node.get("items"), dict):
            walk(node["items"], path + "[]")
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], join(path, "NAME"))

    walk(schema, "")
    return objects, props


def instance_paths(value, path="", parent_is_upstreams=False):
    """Normalized property paths set in a config (upstream names as NAME, elements as [])."""
    out = set()
    if isinstance(value, dict):
        for key, sub in value.items():
            name = "NAME" if parent_is_upstreams else key
            child = join(path, name)
            out.add(child)
            out |= instance_paths(sub, child, child == "upstreams")
    elif isinstance(value, list):
        for sub in value:
            out |= instance_paths(sub, path + "[]")
    return out


def set_at(config, path, value):
    """A copy of config with the value at a json path (`a.b[0].c`) set, or deleted with DELETE."""
    config = copy.deepcopy(config)
    parts = [int(p[1:-1]) if p.startswith("[") else p for p in re.findall(r"\[\d+\]|[^.\[\]]+", path)]
    target = config
    for part in parts[:-1]:
        if isinstance(part, str) and part not in target:
            target[part] = {}
        target = target[part]
    if value is DELETE:
        del target[parts[-1]]
    else:
        target[parts[-1]] = value
    return config


def schema_error_paths(error):
    """The json paths an error is about: for unknown, missing or misnamed keys, the key's own."""
    base = json_path(error.absolute_path)
    paths = {base}
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        declared = error.schema.get("properties", {})
        paths |= {join(base, k) for k in error.instance if k not in declared}
    elif error.validator == "required" and isinstance(error.instance, dict):
        paths |= {join(base, k) for k in error.validator_value if k not in error.instance}
    if "propertyNames" in error.absolute_schema_path and isinstance(error.instance, str):
        paths.add(join(base, error.instance))
    for sub in error.context or []:
        paths |= schema_error_paths(sub)
    return paths


class Portico:
    def __init__(self, binary):
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="portico-check-schema.")
        self.count = 0

    def check_text(self, text, name):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return self.check_file(path)

    def check_file(self, path):
        self.count += 1
        done = subprocess.run(
            [self.binary, "--check", "--config", str(path)], capture_output=True, text=True, timeout=20
        )
        return done.returncode, done.stdout + done.stderr

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------- a. the schema itself


def check_schema_itself(schema, validator):
    R.section("a. schema is valid 2020-12 and describes every key")
    R.check(
        schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema",
        "schema $schema is not https://json-schema.org/draft/2020-12/schema",
    )
    try:
        Draft202012Validator.check_schema(schema)
        R.ok()
    except SchemaError as error:
        R.fail(f"not a valid draft 2020-12 schema: {error.message} at {json_path(error.absolute_path)}")
        return None

    patterns = []

    def collect(node):
        if isinstance(node, dict):
            for key, sub in node.items():
                if key == "pattern" and isinstance(sub, str):
                    patterns.append(sub)
                collect(sub)
        elif isinstance(node, list):
            for sub in node:
                collect(sub)

    collect(schema)
    # Patterns must mean the same in ECMA-262 (editors) and Python re (this check).
    for pattern in patterns:
        R.check(
            not re.search(r"\\[dDwWsSbBAZz]|\(\?[iLmsux]|\(\?P|\(\?<[=!]", pattern),
            f"pattern uses syntax outside the ECMA-262 / Python common subset: {pattern[:60]}",
        )
        try:
            re.compile(pattern)
            R.ok()
        except re.error as error:
            R.fail(f"pattern does not compile in Python: {error}: {pattern[:60]}")
    node = shutil.which("node")
    NOTES["a"] = "ECMA-262 patterns checked with node" if node else "no node: ECMA-262 check of patterns skipped"
    if node:
        script = "const ps=JSON.parse(require('fs').readFileSync(0,'utf8'));" \
                 "for(const p of ps){try{new RegExp(p,'u')}catch(e){console.log(p.slice(0,60)+': '+e.message)}}"
        done = subprocess.run([node, "-e", script], input=json.dumps(patterns), capture_output=True, text=True)
        R.check(done.returncode == 0 and not done.stdout.strip(),
                f"patterns ECMA-262 (node, 'u' flag) refuses: {done.stdout.strip() or done.stderr.strip()}")

    objects, props = walk_schema(schema)
    for path, (node, parent) in sorted(props.items()):
        node = resolve(schema, node)
        required = path.rsplit(".", 1)[-1] in objects[parent][2]
        R.check(bool(node.get("description")), f"{path}: no description")
        if path in IGNORED_KEYS:
            continue
        if required:
            R.check("default" not in node, f"{path}: required, but has a default")
            R.check(bool(node.get("examples")), f"{path}: required, so it needs examples (no default)")
        else:
            if not R.check("default" in node, f"{path}: optional, but has no default"):
                continue
            sub = validator.evolve(schema=node)
            problems = [e.message for e in sub.iter_errors(node["default"])]
            R.check(not problems, f"{path}: default {node['default']!r} is invalid: {problems[:1]}")

    # Conditionals (if/then/not/oneOf) may only talk about declared keys.
    def keys_in(node):
        if not isinstance(node, dict):
            return set()
        found = set(node.get("properties", {})) | set(node.get("required", []))
        for keyword in ("if", "then", "else", "not"):
            found |= keys_in(node.get(keyword))
        for keyword in ("allOf", "anyOf", "oneOf"):
            for sub in node.get(keyword, []):
                found |= keys_in(sub)
        return found

    for path, (node, keys, _) in objects.items():
        conditional = {k: node[k] for k in ("if", "then", "else", "not", "allOf", "anyOf", "oneOf") if k in node}
        unknown = keys_in(conditional) - keys
        R.check(not unknown, f"{path or '(top level)'}: a condition names undeclared keys {sorted(unknown)}")
    return objects, props


# ---------------------------------------------------------------- b. examples


KITCHEN_SINK = {
    "$schema": "https://example.com/gateway.schema.json",
    "workers": 2,
    "listeners": [
        {"name": "http", "address": "127.0.0.1:0", "trustedProxies": ["10.0.0.0/8", "::1/128", "192.168.1.10"]},
        {"address": "[::1]:0"},
    ],
    "admin": {"address": "127.0.0.1:0", "token": "s3cret-token"},
    "cluster": {"redis": {"address": "127.0.0.1:6379", "password": "redis pass", "db": 2, "timeoutMs": 20,
                          "replicasHint": 3}},
    "limits": {"maxConnections": 5000, "maxRequestHeaderBytes": 8192, "maxRequestBodyBytes": 0,
               "maxResponseHeaderBytes": 65536},
    "timeouts": {"requestHeaderMs": 5000, "idleMs": 30000, "drainMs": 1000},
    "accessLog": {"path": "off"},
    "upstreams": {
        "users": {
            "servers": [{"address": "127.0.0.1:9001", "weight": 3}, {"address": "localhost:9002"}],
            "balance": "least_request",
            "connectTimeoutMs": 500,
            "pool": {"maxConnectionsPerServer": 64, "maxIdlePerServer": 8, "idleTimeoutMs": 10000, "maxPending": 0},
            "healthCheck": {"path": "/status", "intervalMs": 2000, "timeoutMs": 300, "unhealthyThreshold": 4,
                            "healthyThreshold": 1},
            "circuitBreaker": {"failureThreshold": 7, "openMs": 0, "halfOpenMaxRequests": 2},
        },
        "carts.v2": {"servers": [{"address": "[::1]:9003"}], "balance": "consistent_hash", "hashOn": "header:X-User"},
    },
    "routes": [
        {
            "name": "users-api",
            "match": {"host": "API.example.com", "pathPrefix": "/users", "methods": ["GET", "POST", "PURGE"],
                      "headers": {"X-Version": "2"}},
            "upstream": "users",
            "prefixRewrite": "/",
            "hostRewrite": "users.internal:8080",
            "redirectRewrite": False,
            "timeoutMs": 0,
            "retries": {
                "maxRetries": 3,
                "retryOn": ["connect_failure", "reset", "5xx", "gateway_error", "retriable_status", "per_try_timeout"],
                "retriableStatusCodes": [409, 429],
                "perTryTimeoutMs": 2000,
                "backoff": {"baseMs": 10, "maxMs": 100},
                "budgetPercent": 12.5,
                "retryNonIdempotent": True,
            },
            "rateLimit": {"requestsPerSecond": 0.5, "burst": 3, "key": "header:X-Api-Key", "dryRun": True},
            "requestHeaders": {"set": {"X-Env": "prod"}, "remove": ["X-Debug"]},
            "responseHeaders": {"set": {"Cache-Control": "no-store"}, "remove": ["Server"]},
        },
        {"name": "carts", "match": {"host": "*.shop.example.com", "path": "/cart"}, "upstream": "carts.v2",
         "rateLimit": {"key": "global", "scope": "cluster", "onBackendError": "closed"}},
        {"name": "health", "match": {"path": "/healthz"},
         "directResponse": {"status": 200, "body": "ok", "contentType": "text/plain"}},
        {"name": "nulls", "match": {"host": None, "path": None, "pathPrefix": "/n", "methods": None, "headers": None},
         "upstream": None, "directResponse": {"status": 204, "body": None, "contentType": None},
         "prefixRewrite": None, "hostRewrite": None, "redirectRewrite": None, "timeoutMs": None,
         "retries": None, "rateLimit": None, "requestHeaders": None, "responseHeaders": None},
    ],
}


def minimal_config():
    return {
        "listeners": [{"address": "127.0.0.1:0"}],
        "upstreams": {"users": {"servers": [{"address": "127.0.0.1:9001"}]}},
        "routes": [{"name": "all", "match": {"pathPrefix": "/"}, "upstream": "users"}],
    }


def example_files():
    skip = re.compile(r"^(\.build.*|\.git|\.swiftpm|node_modules|Tests)$")
    found = []
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = sorted(d for d in dirnames if not skip.match(d))
        if Path(dirpath) == SCHEMA_PATH.parent:
            continue
        for name in sorted(filenames):
            if name.endswith(".json"):
                found.append(Path(dirpath) / name)
    return found


def doc_examples():
    """(label, config) for the JSON examples of the docs, wrapped into whole configs."""
    out = []
    for doc in DOC_EXAMPLE_FILES:
        text = doc.read_text()
        for match in re.finditer(r"```json\n(.*?)```", text, re.S):
            line = text[: match.start()].count("\n") + 1
            label = f"{doc.relative_to(ROOT)}:{line}"
            block = match.group(1)
            try:
                value = json.loads(block)
            except json.JSONDecodeError:
                try:
                    value = {"__upstreams__": json.loads("{" + block + "}")}
                except json.JSONDecodeError:
                    R.fail(f"{label}: a ```json block that is neither JSON nor an upstream entry")
                    continue
            if isinstance(value, dict) and "listeners" in value:
                out.append((label, value))
            elif isinstance(value, dict) and "__upstreams__" in value:
                config = minimal_config()
                config["upstreams"] = value["__upstreams__"]
                config["routes"][0]["upstream"] = next(iter(value["__upstreams__"]))
                out.append((label + " (upstream)", config))
            elif isinstance(value, dict) and "name" in value:
                config = minimal_config()
                config["routes"] = [value]
                if value.get("upstream"):
                    config["upstreams"] = {value["upstream"]: {"servers": [{"address": "127.0.0.1:9001"}]}}
                out.append((label + " (route)", config))
            else:
                R.fail(f"{label}: a ```json block that is not a config, a route or an upstream entry")
    return out


def check_examples(validator, props, portico):
    R.section("b. example configs pass the schema and portico --check")
    files = example_files()
    R.check(bool(files), "no example *.json config found in the repository")
    for path in files:
        label = str(path.relative_to(ROOT))
        try:
            config = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            R.fail(f"{label}: not JSON: {error}")
            continue
        ref = config.get("$schema") if isinstance(config, dict) else None
        if ref is None and label in NO_SCHEMA_KEY:
            R.warn(f"{label}: no \"$schema\" key, allowed: {NO_SCHEMA_KEY[label]}")
        elif R.check(isinstance(ref, str), f"{label}: no \"$schema\" key"):
            R.check((path.parent / ref).resolve() == SCHEMA_PATH,
                    f"{label}: \"$schema\": {ref!r} does not point at {SCHEMA_PATH.relative_to(ROOT)}")
        check_valid(validator, portico, label, config, path)
    for label, config in doc_examples():
        check_valid(validator, portico, label, config)
    check_valid(validator, portico, "every key set (check.py KITCHEN_SINK)", KITCHEN_SINK)
    missing = sorted(set(props) - instance_paths(KITCHEN_SINK))
    R.check(not missing, f"KITCHEN_SINK does not set {missing}: add them so every key is tried")
    return len(files)


def check_valid(validator, portico, label, config, path=None):
    problems = [f"{json_path(e.absolute_path) or '(top level)'}: {e.message}" for e in validator.iter_errors(config)]
    R.check(not problems, f"{label}: schema refuses it: {problems[:3]}")
    if path is None:
        status, output = portico.check_text(json.dumps(config, indent=2), "example.json")
    else:
        status, output = portico.check_file(path)
    R.check(status == 0, f"{label}: portico --check exit {status}: {output.strip()[:300]}")


# ---------------------------------------------------------------- c. invalid snippets


def case(path, value, message, schema_path=None, mutate=None):
    return {"path": path, "value": value, "message": message, "schema_path": schema_path or path, "mutate": mutate}


def route0(route):
    return lambda c: set_at(c, "routes[0]", route)


def with_admin(admin):
    return lambda c: set_at(c, "admin", admin)


def with_upstream(upstream):
    return lambda c: set_at(c, "upstreams.users", upstream)


INVALID = [
    case("", [], "expected a JSON object at the top level", mutate=lambda c: []),
    case("workers", "4", "expected a non-negative integer"),
    case("workers", -1, "expected a non-negative integer"),
    case("workers", 2.5, "expected a non-negative integer"),
    case("workers", 2000, "must be at most 1024"),
    case("listener", [], "unknown key"),
    case("listeners", DELETE, "missing required key"),
    case("listeners", [], "must not be empty"),
    case("listeners", {"address": "127.0.0.1:8080"}, "expected an array"),
    case("listeners[0].port", 8080, "unknown key"),
    case("listeners[0].address", DELETE, "missing required key"),
    case("listeners[0].address", "127.0.0.1", "expected host:port"),
    case("listeners[0].address", "127.0.0.1:70000", "port must be a number from 0 to 65535"),
    case("listeners[0].address", "::1:8080", "write IPv6 addresses in brackets"),
    case("listeners[0].address", "256.1.1.1:80", "invalid IPv4 address"),
    case("listeners[0].address", "[::g]:80", "invalid IPv6 address"),
    case("listeners[0].address", "bad_host-:80", "invalid host name"),
    case("listeners[0].name", "", "must not be empty"),
    case("listeners[0].trustedProxies[0]", "10.0.0.0/33", "invalid CIDR", mutate=lambda c: set_at(
        c, "listeners[0].trustedProxies", ["10.0.0.0/33"])),
    case("listeners[0].trustedProxies", "10.0.0.0/8", "expected an array"),
    case("admin.tokn", "x", "unknown key", mutate=with_admin({"tokn": "x"})),
    case("admin.address", "127.0.0.1", "expected host:port", mutate=with_admin({"address": "127.0.0.1"})),
    case("admin.token", "", "must not be empty", mutate=with_admin({"token": ""})),
    case("admin.token", "a b", "visible ASCII", mutate=with_admin({"token": "a b"})),
    case("admin.token", None, "required when the admin address is not loopback",
         mutate=with_admin({"address": "0.0.0.0:9901"})),
    case("admin", "on", "expected an object"),
    case("limits.maxConnections", 0, "must be at least 1"),
    case("limits.maxRequestBodyBytes", 1.5, "expected a non-negative integer"),
    case("limits.maxRequestHeaderBytes", "16k", "expected a non-negative integer"),
    case("limits.maxHeaderBytes", 1, "unknown key"),
    case("timeouts.requestHeaderMs", 0, "must be at least 1"),
    case("timeouts.idleMs", "60s", "expected a non-negative integer"),
    case("timeouts.headerMs", 1, "unknown key"),
    case("accessLog.path", "", "must not be empty"),
    case("accessLog.path", 1, "expected a string"),
    case("accessLog.file", "x", "unknown key"),
    case("upstreams", [], "expected an object"),
    case("upstreams.bad name!", {"servers": [{"address": "127.0.0.1:1"}]}, "invalid upstream name"),
    case("upstreams.users.server", [], "unknown key"),
    case("upstreams.users.servers", DELETE, "missing required key"),
    case("upstreams.users.servers", [], "must not be empty"),
    case("upstreams.users.servers[0].weight", 0, "must be at least 1"),
    case("upstreams.users.servers[0].weight", 1000001, "must be at most 1000000"),
    case("upstreams.users.servers[0].address", "127.0.0.1:0", "port must be a number from 1 to 65535"),
    case("upstreams.users.servers[0].address", DELETE, "missing required key"),
    case("upstreams.users.servers[0].host", "x", "unknown key"),
    case("upstreams.users.balance", "roundrobin", "unknown value"),
    case("upstreams.users.hashOn", "cookie:x", "unknown value", mutate=with_upstream(
        {"servers": [{"address": "127.0.0.1:1"}], "balance": "consistent_hash", "hashOn": "cookie:x"})),
    case("upstreams.users.hashOn", "header:Bad Name", "unknown value", mutate=with_upstream(
        {"servers": [{"address": "127.0.0.1:1"}], "balance": "consistent_hash", "hashOn": "header:Bad Name"})),
    case("upstreams.users.hashOn", "path", "only allowed with \"balance\": \"consistent_hash\"",
         schema_path="upstreams.users.balance"),
    case("upstreams.users.connectTimeoutMs", 0, "must be at least 1"),
    case("upstreams.users.pool.maxConnectionsPerServer", 0, "must be at least 1",
         mutate=lambda c: set_at(c, "upstreams.users.pool", {"maxConnectionsPerServer": 0})),
    case("upstreams.users.pool.maxIdle", 1, "unknown key", mutate=lambda c: set_at(
        c, "upstreams.users.pool", {"maxIdle": 1})),
    case("upstreams.users.healthCheck.path", "healthz", "must start with '/'",
         mutate=lambda c: set_at(c, "upstreams.users.healthCheck", {"path": "healthz"})),
    case("upstreams.users.healthCheck.unhealthyThreshold", 70000, "must be at most 65535",
         mutate=lambda c: set_at(c, "upstreams.users.healthCheck", {"unhealthyThreshold": 70000})),
    case("upstreams.users.healthCheck.intervalMs", 0, "must be at least 1",
         mutate=lambda c: set_at(c, "upstreams.users.healthCheck", {"intervalMs": 0})),
    case("upstreams.users.circuitBreaker.failureThreshold", 0, "must be at least 1",
         mutate=lambda c: set_at(c, "upstreams.users.circuitBreaker", {"failureThreshold": 0})),
    case("upstreams.users.circuitBreaker.openSeconds", 1, "unknown key",
         mutate=lambda c: set_at(c, "upstreams.users.circuitBreaker", {"openSeconds": 1})),
    case("routes", DELETE, "missing required key"),
    case("routes", [], "must not be empty"),
    case("routes[0].upstreams", "users", "unknown key"),
    case("routes[0].name", DELETE, "missing required key"),
    case("routes[0].name", "bad name", "must be 1 to 128 letters"),
    case("routes[0].name", "x" * 129, "must be 1 to 128 letters"),
    case("routes[0]", None, "set either upstream or directResponse, not both",
         mutate=route0({"name": "r", "upstream": "users", "directResponse": {}})),
    case("routes[0]", None, "missing upstream or directResponse", mutate=route0({"name": "r"})),
    case("routes[0].upstream", 5, "expected a string"),
    case("routes[0].match.prefix", "/", "unknown key"),
    case("routes[0].match.pathPrefix", "users", "must start with '/'"),
    case("routes[0].match.pathPrefix", "/a/../b", "must not contain '.' or '..' segments"),
    case("routes[0].match.pathPrefix", "/a?b", "must not contain '?' or '#'"),
    case("routes[0].match.pathPrefix", "/caf\u00e9", "visible ASCII"),
    case("routes[0].match", None, "set either path or pathPrefix, not both",
         mutate=lambda c: set_at(c, "routes[0].match", {"path": "/a", "pathPrefix": "/a"})),
    case("routes[0].match.host", "api.example.com:8080", "invalid host"),
    case("routes[0].match.host", "*.", "invalid host"),
    case("routes[0].match.methods", [], "must not be empty"),
    case("routes[0].match.methods[0]", "get", "methods are case-sensitive",
         mutate=lambda c: set_at(c, "routes[0].match.methods", ["get"])),
    case("routes[0].match.methods[0]", "GE T", "invalid method",
         mutate=lambda c: set_at(c, "routes[0].match.methods", ["GE T"])),
    case("routes[0].match.headers.Bad Name", "x", "invalid header name",
         mutate=lambda c: set_at(c, "routes[0].match.headers", {"Bad Name": "x"})),
    case("routes[0].match.headers.X-A", 1, "expected a string",
         mutate=lambda c: set_at(c, "routes[0].match.headers", {"X-A": 1})),
    case("routes[0].timeoutMs", -5, "expected a non-negative integer"),
    case("routes[0].redirectRewrite", "yes", "expected true or false"),
    case("routes[0].hostRewrite", "bad host/", "invalid host"),
    case("routes[0].hostRewrite", "example.com:99999", "invalid host"),
    case("routes[0].prefixRewrite", "v2", "must start with '/'"),
    case("routes[0].retries.attempts", 1, "unknown key", mutate=lambda c: set_at(c, "routes[0].retries", {"attempts": 1})),
    case("routes[0].retries.retryOn[0]", "timeout", "unknown value",
         mutate=lambda c: set_at(c, "routes[0].retries", {"retryOn": ["timeout"]})),
    case("routes[0].retries.retriableStatusCodes[0]", 600, "expected a status code from 100 to 599",
         mutate=lambda c: set_at(c, "routes[0].retries", {"retriableStatusCodes": [600]})),
    case("routes[0].retries.retriableStatusCodes", None, "must not be empty when retryOn has \"retriable_status\"",
         mutate=lambda c: set_at(c, "routes[0].retries", {"retryOn": ["retriable_status"]})),
    case("routes[0].retries.perTryTimeoutMs", None, "must be greater than 0 when retryOn has \"per_try_timeout\"",
         mutate=lambda c: set_at(c, "routes[0].retries", {"retryOn": ["per_try_timeout"], "perTryTimeoutMs": 0})),
    case("routes[0].retries.budgetPercent", None, "must not be negative",
         mutate=lambda c: set_at(c, "routes[0].retries", {"budgetPercent": -1})),
    case("routes[0].retries.maxRetries", None, "expected a non-negative integer",
         mutate=lambda c: set_at(c, "routes[0].retries", {"maxRetries": True})),
    case("routes[0].retries.backoff.base", None, "unknown key",
         mutate=lambda c: set_at(c, "routes[0].retries", {"backoff": {"base": 1}})),
    case("routes[0].rateLimit.requestsPerSecond", None, "must be greater than 0",
         mutate=lambda c: set_at(c, "routes[0].rateLimit", {"requestsPerSecond": 0})),
    case("routes[0].rateLimit.requestsPerSecond", None, "must be at least 0.001",
         mutate=lambda c: set_at(c, "routes[0].rateLimit", {"requestsPerSecond": 0.0001})),
    case("routes[0].rateLimit.requestsPerSecond", None, "must be at most 1000000000",
         mutate=lambda c: set_at(c, "routes[0].rateLimit", {"requestsPerSecond": 2e9})),
    case("routes[0].rateLimit.burst", None, "must be at least 1",
         mutate=lambda c: set_at(c, "routes[0].rateLimit", {"burst": 0})),
    case("routes[0].rateLimit.key", None, "unknown value",
         mutate=lambda c: set_at(c, "routes[0].rateLimit", {"key": "ip"})),
    case("routes[0].rateLimit.dryRun", None, "expected true or false",
         mutate=lambda c: set_at(c, "routes[0].rateLimit", {"dryRun": "true"})),
    case("routes[0].rateLimit.window", None, "unknown key",
         mutate=lambda c: set_at(c, "routes[0].rateLimit", {"window": 1})),
    case("routes[0].requestHeaders.set.Content-Length", None, "cannot set Content-Length",
         mutate=lambda c: set_at(c, "routes[0].requestHeaders", {"set": {"Content-Length": "5"}})),
    case("routes[0].requestHeaders.set.host", None, "cannot set Host: use hostRewrite",
         mutate=lambda c: set_at(c, "routes[0].requestHeaders", {"set": {"host": "x"}})),
    case("routes[0].requestHeaders.remove[0]", None, "cannot remove CONNECTION",
         mutate=lambda c: set_at(c, "routes[0].requestHeaders", {"remove": ["CONNECTION"]})),
    case("routes[0].requestHeaders.set.X-A", None, "invalid header value",
         mutate=lambda c: set_at(c, "routes[0].requestHeaders", {"set": {"X-A": " padded"}})),
    case("routes[0].requestHeaders.add", None, "unknown key",
         mutate=lambda c: set_at(c, "routes[0].requestHeaders", {"add": {}})),
    case("routes[0].responseHeaders.remove[0]", None, "invalid header name",
         mutate=lambda c: set_at(c, "routes[0].responseHeaders", {"remove": ["Bad Name"]})),
    case("routes[0].responseHeaders.set.Transfer-Encoding", None, "cannot set Transfer-Encoding",
         mutate=lambda c: set_at(c, "routes[0].responseHeaders", {"set": {"Transfer-Encoding": "x"}})),
    case("routes[0].directResponse.status", None, "expected a status code from 200 to 599",
         mutate=route0({"name": "d", "directResponse": {"status": 101}})),
    case("routes[0].directResponse.body", None, "must be empty for status 204",
         mutate=route0({"name": "d", "directResponse": {"status": 204, "body": "x"}})),
    case("routes[0].directResponse.contentType", None, "invalid header value",
         mutate=route0({"name": "d", "directResponse": {"contentType": ""}})),
    case("routes[0].directResponse.headers", None, "unknown key",
         mutate=route0({"name": "d", "directResponse": {"headers": {}}})),
]

# Values on either side of each pattern: schema and decoder must give the same answer.
AGREEMENT = {
    "listeners[0].address": [
        "0.0.0.0:8080", "127.0.0.1:0", "[::1]:8080", "[::]:1", "[::ffff:10.0.0.1]:80", "[1:2:3:4:5:6:7:8]:80",
        "[1::2:3:4:5:6:7]:80", "[1:2:3:4:5:6:7:8:9]:80", "[1::2::3]:80", "[::1]", "localhost:8080",
        "-bad.example:80", "bad_.example-:80", "a..b:80", "01.2.3.4:80", "1.2.3:80", "1.2.3.4:08080",
        "1.2.3.4:123456", "1.2.3.4:", ":80", "[fe80::1%eth0]:80", "1.2.3.4:+80", "x" * 64 + ".example:80"],
    "upstreams.users.servers[0].address": ["127.0.0.1:1", "127.0.0.1:0", "127.0.0.1:00000", "127.0.0.1:65535",
                                           "127.0.0.1:65536", "[::1]:0"],
    "listeners[0].trustedProxies[0]": ["10.0.0.0/8", "10.0.0.1", "::1", "::/0", "10.0.0.0/32", "10.0.0.0/033",
                                       "10.0.0.0/0032", "::1/128", "::1/129", "::1/", "10.0.0.0/8/8", "fe80::1%1",
                                       "1.2.3.04"],
    "routes[0].match.host": ["api.example.com", "API.Example.COM", "*.example.com", "*.*.example.com", "[::1]",
                             "[::1]:80", "example.com.", "exa mple.com", "1.2.3.4", "*", "a_b-c.d"],
    "routes[0].hostRewrite": ["internal", "internal:8080", "internal:", "[::1]:8080", "[::1]", "[::1]x",
                              "a..b", "x:65536", "x:0"],
    "routes[0].match.path": ["/", "/a/b", "/a/./b", "/a/.b", "/a/..", "/a/...", "//", "/a b", "/%2e%2e",
                             "/a/b/", ""],
    "routes[0].match.methods[0]": ["GET", "PURGE", "purge", "Get", "get", "PATCH", "patch", "M-SEARCH", "GET\t"],
    "routes[0].requestHeaders.remove[0]": ["X-Debug", "Host", "hOsT", "Te", "TE-X", "Keep-Alive", "Trailers",
                                           "Upgrade", "X_y", "X:y"],
    "routes[0].responseHeaders.remove[0]": ["Host", "Proxy-Connection", "Server"],
    "routes[0].requestHeaders.set.X-A": ["", "a b", "a\tb", "\tb", "b ", "caf\u00e9", "a\u007fb", "a\nb"],
    "routes[0].directResponse.contentType": ["text/plain", "text/html; charset=utf-8", " text/plain", ""],
    "upstreams.users.hashOn": ["client_ip", "path", "header:X-User", "header:", "header:X User", "cookie",
                               "Client_IP"],
    "routes[0].rateLimit.key": ["client_ip", "global", "header:X-Api-Key", "header:", "path"],
    "admin.token": ["t", "abc~!", "a b", "caf\u00e9", ""],
    "admin.address": ["10.0.0.1:9901", "127.0.0.2:9901", "[::1]:9901"],
    "upstreams.NAME": ["a", "a.b-c_d", "a b", "\u00e9", "x" * 128, "x" * 129],
    "routes[0].name": ["a", "a.b-c_d", "a/b", "x" * 128, "x" * 129],
}


# Values tried in place of every value of KITCHEN_SINK: schema and decoder must agree on each.
SUBSTITUTES = [None, "x", 1.5, -1, True, {}, []]
# Where the decoder refuses what the schema cannot know about (the schema's top-level $comment).
DECODER_ONLY = re.compile(r"unknown upstream|same (name|address|match|field) as|cannot resolve host|duplicate key")


def locations(value, parts=()):
    """(json path parts, normalized path) of every value in a config."""
    if isinstance(value, dict):
        for key, sub in value.items():
            normalized = "NAME" if parts == ("upstreams",) else key
            yield parts + (key,), normalized
            for inner, rest in locations(sub, parts + (key,)):
                yield inner, f"{normalized}.{rest}" if not rest.startswith("[") else normalized + rest
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield parts + (index,), "[]"
            for inner, rest in locations(sub, parts + (index,)):
                yield inner, "[]" + ("." + rest if not rest.startswith("[") else rest)


def substituted(config, parts, value):
    config = copy.deepcopy(config)
    target = config
    for part in parts[:-1]:
        target = target[part]
    target[parts[-1]] = value
    return config


def agreement_config(path, value):
    config = minimal_config()
    if path == "upstreams.NAME":
        config["upstreams"] = {value: {"servers": [{"address": "127.0.0.1:9001"}]}}
        config["routes"][0]["upstream"] = value
        return config
    if path == "routes[0].name":
        return set_at(config, path, value)
    if path.startswith("routes[0].directResponse"):
        config["routes"][0] = {"name": "d", "directResponse": {"status": 200, "body": "x", "contentType": value}}
        return config
    if path.startswith("listeners[0].trustedProxies"):
        return set_at(config, "listeners[0].trustedProxies", [value])
    if path == "upstreams.users.hashOn":
        config = set_at(config, "upstreams.users.balance", "consistent_hash")
    if path == "routes[0].match.methods[0]":
        return set_at(config, "routes[0].match.methods", [value])
    if path.startswith("routes[0].requestHeaders.remove"):
        return set_at(config, "routes[0].requestHeaders", {"remove": [value]})
    if path.startswith("routes[0].responseHeaders.remove"):
        return set_at(config, "routes[0].responseHeaders", {"remove": [value]})
    if path.startswith("routes[0].requestHeaders.set"):
        return set_at(config, "routes[0].requestHeaders", {"set": {"X-A": value}})
    if path == "routes[0].rateLimit.key":
        return set_at(config, "routes[0].rateLimit", {"key": value})
    if path.startswith("admin."):
        admin = {path.split(".")[1]: value}
        if path == "admin.address":
            admin["token"] = "t"
        return set_at(config, "admin", admin)
    if path == "routes[0].match.path":
        return set_at(config, "routes[0].match", {"path": value})
    return set_at(config, path, value)


def check_invalid(validator, portico):
    R.section("c. invalid snippets refused by both; schema and decoder agree on edge values")
    base = minimal_config()
    jobs = []
    for number, item in enumerate(INVALID):
        config = item["mutate"](base) if item["mutate"] else set_at(base, item["path"], item["value"])
        jobs.append((f"invalid-{number}.json", config, item))

    def run(job):
        name, config, item = job
        return job, portico.check_text(json.dumps(config, indent=2), name)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, jobs))
    for (name, config, item), (status, output) in results:
        label = f"{item['path'] or '(top level)'} ({item['message']})"
        errors = list(validator.iter_errors(config))
        paths = set().union(*(schema_error_paths(e) for e in errors)) if errors else set()
        if R.check(bool(errors), f"{label}: the schema accepts it: {json.dumps(config)[:200]}"):
            R.check(item["schema_path"] in paths,
                    f"{label}: schema errors are about {sorted(paths)}, not {item['schema_path']}")
        R.check(status != 0, f"{label}: portico --check accepts it")
        prefix = f"{item['path']}: " if item["path"] else ""
        lines = output.splitlines()
        R.check(any(line.startswith(prefix) and item["message"] in line for line in lines),
                f"{label}: portico --check has no line '{prefix}...{item['message']}...'; it said: {lines[:3]}")

    jobs = []
    for path, values in AGREEMENT.items():
        for number, value in enumerate(values):
            jobs.append((f"agree-{len(jobs)}.json", agreement_config(path, value), {"path": path, "value": value}))
    for parts, _ in locations(KITCHEN_SINK):
        if parts[0] in IGNORED_KEYS:
            continue  # the decoder takes any value there, the schema a string
        for value in SUBSTITUTES:
            jobs.append((f"agree-{len(jobs)}.json", substituted(KITCHEN_SINK, parts, value),
                         {"path": json_path(parts), "value": value}))
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, jobs))
    for (name, config, item), (status, output) in results:
        schema_ok = validator.is_valid(config)
        portico_ok = status == 0
        lines = [line for line in output.splitlines() if line.strip()]
        if schema_ok and not portico_ok and lines and all(DECODER_ONLY.search(line) for line in lines):
            R.ok()  # a rule across fields, decoder-only by design
            continue
        R.check(schema_ok == portico_ok,
                f"{item['path']} = {item['value']!r}: schema {'accepts' if schema_ok else 'refuses'}, "
                f"portico --check {'accepts' if portico_ok else 'refuses'} ({output.strip().splitlines()[:1]})")
    return len(INVALID), len(jobs)


# ---------------------------------------------------------------- d. docs drift


def doc_tables():
    """Rows of the `| key | default | meaning |` tables: (path, default cell, meaning cell, alternates)."""
    rows = []
    section = None
    in_table = False
    for line in DOCS_PATH.read_text().splitlines():
        heading = re.match(r"^## (.+)$", line)
        if heading:
            title = heading.group(1).strip().strip("`")
            section = "" if title == "Top level" else title
            in_table = False
            continue
        if re.match(r"^\|\s*key\s*\|\s*default\s*\|\s*meaning\s*\|", line):
            in_table = section is not None
            continue
        if not line.startswith("|"):
            in_table = False
            continue
        if not in_table or re.match(r"^\|[-|\s]+\|$", line):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        keys = re.findall(r"`([^`]+)`", cells[0])
        paths = [join(section, key) for key in keys]
        for path in paths:
            rows.append((path, cells[1], cells[2] if len(cells) > 2 else "", paths))
    return rows


def check_docs(schema, objects, props):
    R.section("d. schema and docs/configuration.md list the same keys and defaults")
    text = DOCS_PATH.read_text()
    R.check("schema/gateway.schema.json" in text, "docs/configuration.md does not mention schema/gateway.schema.json")
    R.check('"$schema"' in text, "docs/configuration.md does not mention the \"$schema\" key")
    rows = doc_tables()
    R.check(len(rows) > 30, f"only {len(rows)} key rows found in docs/configuration.md's tables")
    documented = {path for path, *_ in rows}
    by_path = {}
    for path, default, meaning, alternates in rows:
        by_path.setdefault(path, []).append(default + " " + meaning)

    def covered(path):
        if path in IGNORED_KEYS:
            return True
        if path in documented or any(d.startswith(path + ".") for d in documented):
            return True
        parent, _, leaf = path.rpartition(".")
        parent = parent[:-2] if parent.endswith("[]") else parent
        return any(f'"{leaf}"' in cell or f"`{leaf}`" in cell for cell in by_path.get(parent, []))

    for path in sorted(props):
        R.check(covered(path), f"{path}: in the schema, not in docs/configuration.md's tables")
    for path in sorted(documented):
        R.check(path in props, f"{path}: in docs/configuration.md's tables, not in the schema")

    # Defaults: a cell that is one JSON literal, and "key": literal pairs inside a parent's cells.
    compared = 0
    for path, default, meaning, alternates in rows:
        literal = re.fullmatch(r"`([^`]+)`", default)
        if literal and path in props:
            try:
                value = json.loads(literal.group(1))
            except json.JSONDecodeError:
                value = DELETE
            if value is not DELETE:
                node = resolve(schema, props[path][0])
                compared += 1
                R.check("default" in node and node["default"] == value,
                        f"{path}: docs default {literal.group(1)}, schema default "
                        f"{json.dumps(node.get('default', '(none)'))}")
        for key, raw in re.findall(r'"(\w+)":\s*("[^"]*"|-?[0-9][0-9.]*|true|false|null)', default + " " + meaning):
            child = next((p for p in (f"{path}.{key}", f"{path}[].{key}") if p in props), None)
            if child is None:
                continue
            node = resolve(schema, props[child][0])
            if "default" not in node:
                continue
            compared += 1
            R.check(node["default"] == json.loads(raw),
                    f"{child}: docs say {raw} (in {path}'s row), schema default {json.dumps(node['default'])}")
    R.check(compared >= 25, f"only {compared} documented defaults compared; is the table format changed?")

    # A `required` in the docs' default column must be a required key of the schema and back.
    for path, default, meaning, alternates in rows:
        if path not in props:
            continue
        parent = props[path][1]
        schema_required = path.rsplit(".", 1)[-1] in objects[parent][2]
        docs_required = default.strip().lower() == "required"
        if schema_required == docs_required:
            R.check(path not in KNOWN_DISAGREEMENTS, f"{path}: listed in KNOWN_DISAGREEMENTS but agrees now")
        elif path in KNOWN_DISAGREEMENTS:
            R.warn(f"known disagreement (KNOWN_DISAGREEMENTS): {path}: {KNOWN_DISAGREEMENTS[path]}")
        else:
            R.fail(f"{path}: docs say {'required' if docs_required else 'optional'}, "
                   f"the schema {'requires it' if schema_required else 'does not require it'}")
    return len(rows), compared


# ---------------------------------------------------------------- e. decoder key sets


def check_decoder(objects):
    R.section("e. schema keys = decoder key sets at every level, each read by the decoder")
    sources = sorted(DECODER_DIR.glob("ConfigDecoder*.swift")) + [DECODER_DIR / "ConfigLoader.swift"]
    text = "\n".join(p.read_text() for p in sources)
    sets = {}
    for match in re.finditer(r"static let (\w+Keys): Set<String> = \[(.*?)\]", text, re.S):
        sets[match.group(1)] = set(re.findall(r'"([^"]*)"', match.group(2)))
    body = re.sub(r"static let \w+Keys: Set<String> = \[.*?\]", "", text, flags=re.S)
    R.check(len(sets) >= len(KEY_SETS), f"found only {len(sets)} key sets in {DECODER_DIR.relative_to(ROOT)}")
    covered = set()
    for name, keys in sorted(sets.items()):
        if not R.check(name in KEY_SETS, f"decoder key set {name} is new: map it to its schema object in check.py"):
            continue
        for path in KEY_SETS[name]:
            covered.add(path)
            label = path or "(top level)"
            if not R.check(path in objects, f"{label}: decoder set {name}, but the schema has no object there"):
                continue
            schema_keys = objects[path][1]
            R.check(not keys - schema_keys, f"{label}: the decoder accepts {sorted(keys - schema_keys)} "
                                            f"({name}), the schema does not declare them")
            R.check(not schema_keys - keys, f"{label}: the schema declares {sorted(schema_keys - keys)}, "
                                            f"the decoder ({name}) refuses them")
        # The set is used for the key its schema path ends with, where a call names it.
        for use in re.finditer(r'"(\w+)", keys: ConfigDecoder\.' + name + r"\b", text):
            R.check(any(p.rsplit(".", 1)[-1] == use.group(1) for p in KEY_SETS[name]),
                    f"{name} decodes {use.group(1)!r}, check.py maps it to {KEY_SETS[name]}")
        for key in sorted(keys - IGNORED_KEYS):
            R.check(re.search(r'[(,\[]\s*"' + re.escape(key) + r'"', body) is not None,
                    f"{key!r} ({name}) is accepted but never read by the decoder")
    for name in set(KEY_SETS) - set(sets):
        R.fail(f"check.py maps {name}, which the decoder no longer has")
    for path in sorted(set(objects) - covered):
        R.fail(f"{path or '(top level)'}: the schema has an object with keys there, no decoder key set maps to it")
    return len(sets)


# ---------------------------------------------------------------- f. every key acted on


def test_functions(path):
    """The test functions a Swift file defines: `@Test ... func name(` and XCTest's `func testName()`."""
    text = path.read_text()
    names = set()
    for attribute in re.finditer(r"@Test\b", text):
        function = re.compile(r"\bfunc\s+(\w+)\s*\(").search(text, attribute.end())
        if function:
            names.add(function.group(1))
    if "XCTestCase" in text:
        names |= set(re.findall(r"\bfunc\s+(test\w*)\s*\(\s*\)", text))
    return names


def check_acted_on(props):
    R.section("f. every key is acted on (scripts/schema.d/acted_on.py names its tests)")
    try:
        spec = importlib.util.spec_from_file_location("acted_on", ACTED_ON_PATH)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        acted_on, decode_only = module.ACTED_ON, module.DECODE_ONLY
    except (OSError, SyntaxError, AttributeError) as error:
        R.fail(f"{ACTED_ON_PATH.relative_to(ROOT)}: cannot load ACTED_ON and DECODE_ONLY: {error}")
        return 0, 0
    for path in sorted(props):
        R.check(path in acted_on, f"{path}: in the schema, not in acted_on.py's ACTED_ON (which test acts on it?)")
    for path in sorted(acted_on):
        R.check(path in props, f"{path}: in acted_on.py's ACTED_ON, not in the schema")
    functions = {}
    references = 0
    for path, tests in sorted(acted_on.items()):
        if path in IGNORED_KEYS:
            R.check(tests == "ignored", f"{path}: ignored by design, so ACTED_ON maps it to \"ignored\"")
            continue
        if not R.check(isinstance(tests, list) and tests,
                       f"{path}: ACTED_ON must map it to a non-empty list of tests"
                       + (" (only $schema may be \"ignored\")" if tests == "ignored" else "")):
            continue
        for test in tests:
            references += 1
            match = re.fullmatch(r"(Tests/\w+/[\w/+]+\.swift):(\w+)", test) if isinstance(test, str) else None
            if not R.check(match is not None,
                           f"{path}: {test!r} is not Tests/<Target>/<File>.swift:<function>"):
                continue
            file = ROOT / match.group(1)
            if not R.check(file.is_file(), f"{path}: {match.group(1)} does not exist"):
                continue
            if file not in functions:
                functions[file] = test_functions(file)
            R.check(match.group(2) in functions[file],
                    f"{path}: {match.group(1)} defines no test function {match.group(2)}")
    for path, why in sorted(decode_only.items()):
        if not R.check(path in acted_on and path in props and path not in IGNORED_KEYS,
                       f"{path}: in acted_on.py's DECODE_ONLY, not a key of ACTED_ON and the schema"):
            continue
        if R.check(isinstance(why, str) and why.strip(),
                   f"{path}: DECODE_ONLY must say which behaviour test is missing"):
            R.warn(f"decode only (DECODE_ONLY): {path}: {why}")
    return references, len(decode_only)


# ---------------------------------------------------------------- main


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    binary = sys.argv[1]
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print(f"check-schema: no portico binary at {binary} (set PORTICO_BIN)", file=sys.stderr)
        return 2
    started = time.monotonic()
    schema = json.loads(SCHEMA_PATH.read_text())
    validator = Draft202012Validator(schema)
    portico = Portico(binary)
    try:
        walked = check_schema_itself(schema, validator)
        if walked is None:
            print("check-schema: the schema itself is invalid; nothing else was checked")
            return 1
        objects, props = walked
        NOTES["b"] = f"{check_examples(validator, props, portico)} config file(s) + doc examples"
        invalid, agreement = check_invalid(validator, portico)
        NOTES["c"] = f"{invalid} invalid snippets, {agreement} other values tried on both"
        rows, defaults = check_docs(schema, objects, props)
        NOTES["d"] = f"{rows} doc rows, {defaults} defaults compared"
        NOTES["e"] = f"{check_decoder(objects)} key sets"
        references, decode_only = check_acted_on(props)
        NOTES["f"] = f"{references} test references, {decode_only} key(s) decode only"
        NOTES["a"] = f"{len(props)} keys in {len(objects)} objects; " + NOTES.get("a", "")
    finally:
        portico.close()
    print(f"check-schema: {SCHEMA_PATH.relative_to(ROOT)} against {binary}")
    for name, passed, failed in R.sections:
        note = NOTES.get(name[0], "")
        status = "ok  " if not failed else "FAIL"
        print(f"  {status} {name}: {passed} checks passed, {len(failed)} failed" + (f" ({note})" if note else ""))
    for warning in R.warnings:
        print(f"  note: {warning}")
    print(f"  {portico.count} portico --check runs, {time.monotonic() - started:.1f} s")
    if R.failures:
        print(f"check-schema: {R.failures} failure(s)")
        return 1
    known = f" ({len(R.warnings)} note(s) above)" if R.warnings else ""
    print(f"check-schema: schema, decoder, docs and tests agree{known}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
