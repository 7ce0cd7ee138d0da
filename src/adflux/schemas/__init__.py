"""Marshmallow schemas: the one source of validation, serialisation and OpenAPI."""
