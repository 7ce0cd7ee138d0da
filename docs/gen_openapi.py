"""The OpenAPI reference, generated from the code: `create_app()`'s own OpenAPI document.

As an MkDocs hook (mkdocs.yml `hooks:`) it adds `openapi.json` to the site and fills the
`<!-- openapi-reference -->` marker in api.md with a readable reference, so the published docs
can never drift from the API. As a script it writes the JSON for other tools:

    .venv/bin/python docs/gen_openapi.py --out openapi.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from typing import Any

MARKER = "<!-- openapi-reference -->"
METHODS = ("get", "post", "put", "patch", "delete")


def openapi_spec() -> dict[str, Any]:
    """Build the app (testing settings, a throwaway instance folder; nothing connects) and return its spec."""
    from adflux.app import create_app
    from adflux.extensions import api
    from adflux.settings import Settings

    with tempfile.TemporaryDirectory() as instance:
        create_app(Settings.from_env({}, env="testing", instance_path=instance, secret_key="docs-build"))
        return api.spec.to_dict()


def _schema_name(schema: dict[str, Any] | None) -> str:
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"array of {_schema_name(schema.get('items'))}"
    return schema.get("type", "object")


def _body(operation: dict[str, Any]) -> str:
    content = (operation.get("requestBody") or {}).get("content") or {}
    return ", ".join(f"`{_schema_name(media.get('schema'))}` ({kind})" for kind, media in content.items())


def _parameters(operation: dict[str, Any]) -> str:
    out = []
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "path":
            continue
        schema = parameter.get("schema", {})
        kind = schema.get("type", "")
        if "enum" in schema:
            values = [str(v) for v in schema["enum"]]
            kind = " \\| ".join(values[:8]) + (" …" if len(values) > 8 else "")
        out.append(f"`{parameter['name']}`" + (f" ({kind})" if kind else ""))
    return ", ".join(out)


def _responses(operation: dict[str, Any]) -> str:
    out = []
    for code, response in sorted(operation.get("responses", {}).items()):
        content = response.get("content") or {}
        schema = next(iter(content.values()), {}).get("schema") if content else None
        name = _schema_name(schema)
        out.append(f"{code}" + (f" `{name}`" if name and code.startswith("2") else ""))
    return ", ".join(out)


def render_markdown(spec: dict[str, Any]) -> str:
    """A reference grouped by tag: method, path, summary, role, parameters, body and responses."""
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = defaultdict(list)
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                for tag in operation.get("tags") or ["other"]:
                    by_tag[tag].append((path, method, operation))
    descriptions = {tag["name"]: tag.get("description", "") for tag in spec.get("tags", [])}
    info = spec.get("info", {})
    lines = [
        f"Generated from the code ({info.get('title', 'AdFlux API')} {info.get('version', '')}, "
        f"OpenAPI {spec.get('openapi', '')}): {sum(len(v) for v in by_tag.values())} operations. "
        "The machine-readable document is [openapi.json](openapi.json); a running server also "
        "serves it at `/api/v1/openapi.json`, with Swagger UI at `/api/v1/docs`.",
        "",
    ]
    for tag in sorted(by_tag, key=lambda t: list(descriptions).index(t) if t in descriptions else 999):
        lines += [f"## {tag.replace('_', ' ').capitalize()}", ""]
        if descriptions.get(tag):
            lines += [descriptions[tag], ""]
        lines += ["| Operation | Summary | Role | Parameters | Body | Responses |", "|---" * 6 + "|"]
        for path, method, operation in by_tag[tag]:
            summary = (operation.get("summary") or operation.get("description") or "").replace("|", "\\|")
            role = operation.get("x-required-role", "")
            lines.append(
                f"| `{method.upper()} {path}` | {summary} | {role} | {_parameters(operation)} | "
                f"{_body(operation)} | {_responses(operation)} |"
            )
        lines.append("")
    return "\n".join(lines)


# ---- MkDocs hooks ------------------------------------------------------------------------------

_cache: dict[str, Any] = {}


def _spec() -> dict[str, Any]:
    if "spec" not in _cache:
        _cache["spec"] = openapi_spec()
    return _cache["spec"]


def on_files(files: Any, config: Any) -> Any:
    """Add the generated openapi.json to the site."""
    from mkdocs.structure.files import File

    content = json.dumps(_spec(), indent=2, sort_keys=True)
    files.append(File.generated(config, "openapi.json", content=content))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Fill the reference marker (api.md) with the generated tables."""
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render_markdown(_spec()))


def main() -> None:
    parser = argparse.ArgumentParser(description="Write AdFlux's OpenAPI document or its Markdown reference.")
    parser.add_argument("--out", help="File to write (default: stdout)")
    parser.add_argument("--markdown", action="store_true", help="The Markdown reference instead of JSON")
    args = parser.parse_args()
    spec = openapi_spec()
    text = render_markdown(spec) if args.markdown else json.dumps(spec, indent=2, sort_keys=True)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
