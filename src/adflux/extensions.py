"""Flask extensions, created unbound here and bound to an app in `create_app`."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

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
    # Document every error with AdFlux's one error shape instead of flask-smorest's.
    ERROR_SCHEMA = ApiErrorSchema


api = AdfluxApi()
