"""Flask extensions, created unbound here and bound to an app in `create_app`."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar

from flask import Flask
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from adflux.schemas.common import ApiErrorSchema

# Stable constraint names so Alembic can alter them on SQLite (batch mode) and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The typed SQLAlchemy 2 declarative base (`Mapped[...]` columns) behind `db.Model`."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# What every model subclasses. At runtime it is `db.Model`, which Flask-SQLAlchemy 3.1 builds from
# Base: Base's body (so the same metadata and registry) over its own mixins (`query`, `__repr__`,
# bind key, table naming) and Base's bases, i.e. DeclarativeBase. mypy cannot take an instance
# attribute such as `db.Model` as a base class (python/mypy#8603), so the type checker is shown
# that class spelled statically: the Model mixin over DeclarativeBase. The bind-key and naming
# mixins act only when a class is created and are left out; their annotations clash with
# DeclarativeBase's (instance variables against class variables).
if TYPE_CHECKING:
    from flask_sqlalchemy.model import Model as _FlaskModel
    from sqlalchemy import Table

    class Model(_FlaskModel, DeclarativeBase):
        __abstract__ = True
        # DeclarativeBase says FromClause (a class may be mapped to a join or a select); every
        # AdFlux model is declared with __tablename__, so its __table__ is a Table (as
        # Flask-SQLAlchemy's NameMixin declares it too).
        __table__: ClassVar[Table]

else:
    Model = db.Model

migrate = Migrate()
csrf = CSRFProtect()  # dashboard forms; the bearer-token API is exempt (see web/auth.py)


class AdfluxApi(Api):
    """flask-smorest's `Api`, writing the OpenAPI document when it is first read.

    Documenting the blueprints (apispec converting every marshmallow schema, with many deep
    copies) took ~0.6 s of CPU of every app start — every CLI command, worker, server process and
    test — though only `/api/v1/openapi.json` and the docs page read it. Blueprints are routed at
    once, as flask-smorest does; their documentation is written, in the same order, the first
    time `spec` is read (under a lock: two first requests at once document them once).
    """

    # Document every error with AdFlux's one error shape instead of flask-smorest's.
    ERROR_SCHEMA = ApiErrorSchema

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._undocumented: list[tuple[Any, str, Any]] = []
        self._documenting = threading.Lock()
        super().__init__(*args, **kwargs)

    @property
    def spec(self) -> Any:
        if self._undocumented:
            with self._documenting:  # a reader arriving meanwhile waits for the whole document
                for blp, name, parameters in self._undocumented:
                    blp.register_views_in_doc(self, self._app, self._spec, name=name, parameters=parameters)
                    self._spec.tag({"name": name, "description": blp.description})
                self._undocumented = []
        return self._spec

    @spec.setter
    def spec(self, value: Any) -> None:
        self._spec = value

    def init_app(self, app: Flask, *, spec_kwargs: Any = None) -> None:
        self._undocumented = []  # a new app: a new document
        super().init_app(app, spec_kwargs=spec_kwargs)

    def register_blueprint(self, blp: Any, *, parameters: Any = None, **options: Any) -> None:
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append((blp, name, parameters))


api = AdfluxApi()
