"""Marshmallow schemas: the one source of validation, serialisation and OpenAPI."""

# Before any field or validator is made: marshmallow's messages go through the catalogue.
from adflux.schemas import messages as _messages  # noqa: F401
