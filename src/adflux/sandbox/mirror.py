"""One process's copy of the store: reload what other processes changed, write back what a request changed.

The emulators mutate objects (plain dicts, nested sets and lists included), units and report jobs
in place, so a request's changes are found by comparing what it was handed with a snapshot taken
when the value was loaded or last written. Only what the request was handed is compared: single
objects, units and jobs by key, a whole kind (or a platform's units) when it listed them. ``==``
runs in C, far cheaper than encoding every handed-out object again to compare texts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from adflux.sandbox.store import Entry, SandboxStore, decode, encode
from adflux.sandbox.units import Unit, copy_unit, unit_from_json, unit_to_json

ObjectKey = tuple[str, str, str]  # platform, kind, id
UnitKey = tuple[str, str]  # platform, ad group id
Objects = dict[str, dict[str, dict[str, dict[str, Any]]]]  # platform -> kind -> id -> object


class StoreMirror:
    """Keeps the state's containers in step with the store, one transaction at a time.

    The caller (the state) holds its lock from :meth:`begin` to :meth:`finish` and reports what it
    hands out through the ``touch_*`` methods.
    """

    def __init__(
        self,
        store: SandboxStore,
        objects: Objects,
        units: dict[UnitKey, Unit],
        jobs: dict[str, dict[str, Any]],
        files: dict[str, bytes],
    ) -> None:
        self.store = store
        self.objects, self.units, self.jobs, self.files = objects, units, jobs, files
        self.epoch = ""  # no copy yet: the first begin loads everything
        self.generation = -1
        self.today = date.min
        self.last_id = self._loaded_last_id = 0
        # Snapshots by (platform, kind), then id: a listed kind is compared in one tight loop.
        self._object_snapshots: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self._unit_snapshots: dict[UnitKey, Unit] = {}
        self._job_snapshots: dict[str, dict[str, Any]] = {}
        self._file_snapshots: dict[str, bytes] = {}
        # What the current request was handed (dicts as ordered sets: creation order is kept).
        self._objects_touched: dict[ObjectKey, None] = {}
        self._kinds_touched: set[tuple[str, str]] = set()
        self._units_touched: dict[UnitKey, None] = {}
        self._unit_platforms_touched: set[str] = set()
        self._jobs_touched: dict[str, None] = {}
        self._all_jobs_touched = False
        self._files_touched: dict[str, None] = {}

    # -- the transaction -----------------------------------------------------------------------

    def begin(self) -> date:
        """Take the store's write lock, reload what changed since this process last looked; the clock."""
        header = self.store.begin()
        try:
            if header.epoch != self.epoch:
                self._drop_copy()
                self.epoch, self.generation = header.epoch, -1
            if header.generation != self.generation:
                self._load(self.store.entries_since(self.generation))
                self.generation = header.generation
        except BaseException:
            self.store.rollback()
            self.epoch = ""
            raise
        self.today = header.today
        self.last_id = self._loaded_last_id = header.last_id
        return header.today

    def finish(self, today: date) -> None:
        """Write back what the request changed (nothing, for most reads), then commit."""
        try:
            entries = self._changed_entries()
            if entries or today != self.today or self.last_id != self._loaded_last_id:
                generation = self.generation + 1 if entries else self.generation
                self.store.write(entries, generation, today, self.last_id)
                self.generation = generation
            self.store.commit()
        except BaseException:
            self.store.rollback()
            self.epoch = ""  # the copy may hold what the store does not: reload it all next time
            raise
        finally:
            self._forget_touches()

    def clear(self) -> None:
        """Empty the store and this copy (reset); other processes drop theirs on the new epoch."""
        self.epoch = self.store.clear()
        self.generation += 1
        self._drop_copy()

    def allocate_id(self) -> int:
        """The next id number; only inside a transaction, so no two processes draw the same one."""
        self.last_id += 1
        return self.last_id

    # -- what a request is handed ------------------------------------------------------------------

    def touch_object(self, platform: str, kind: str, object_id: str) -> None:
        self._objects_touched[(platform, kind, object_id)] = None

    def touch_kind(self, platform: str, kind: str) -> None:
        self._kinds_touched.add((platform, kind))

    def touch_unit(self, platform: str, group_id: str) -> None:
        self._units_touched[(platform, group_id)] = None

    def touch_units(self, platform: str) -> None:
        self._unit_platforms_touched.add(platform)

    def touch_job(self, job_id: str) -> None:
        self._jobs_touched[job_id] = None

    def touch_jobs(self) -> None:
        self._all_jobs_touched = True

    def touch_file(self, name: str) -> None:
        self._files_touched[name] = None

    # -- reload ------------------------------------------------------------------------------------

    def _drop_copy(self) -> None:
        for kinds in self.objects.values():
            kinds.clear()
        containers: tuple[dict[Any, Any], ...] = (
            self.units,
            self.jobs,
            self.files,
            self._object_snapshots,
            self._unit_snapshots,
            self._job_snapshots,
            self._file_snapshots,
        )
        for container in containers:
            container.clear()
        self._forget_touches()

    def _load(self, entries: Iterable[Entry]) -> None:
        """Apply rows other processes wrote; new ones arrive in creation order, so listings agree."""
        for entry in entries:
            if entry.section == "object":
                obj = self.objects[entry.platform][entry.kind][entry.key] = decode(entry.body)
                self._kind_snapshots(entry.platform, entry.kind)[entry.key] = snapshot(obj)
            elif entry.section == "unit":
                unit = unit_from_json(decode(entry.body))
                self.units[(entry.platform, entry.key)] = unit
                self._unit_snapshots[(entry.platform, entry.key)] = copy_unit(unit)
            elif entry.section == "job":
                job = self.jobs[entry.key] = decode(entry.body)
                self._job_snapshots[entry.key] = snapshot(job)
            elif entry.section == "file":
                data = bytes(entry.body) if isinstance(entry.body, bytes) else entry.body.encode()
                self.files[entry.key] = self._file_snapshots[entry.key] = data

    # -- write back --------------------------------------------------------------------------------

    def _kind_snapshots(self, platform: str, kind: str) -> dict[str, dict[str, Any]]:
        found = self._object_snapshots.get((platform, kind))
        if found is None:
            found = self._object_snapshots[(platform, kind)] = {}
        return found

    def _changed_objects(self) -> dict[ObjectKey, dict[str, Any]]:
        """Touched objects that differ from their snapshot (new ones first, in creation order)."""
        changed: dict[ObjectKey, dict[str, Any]] = {}
        for key in self._objects_touched:
            platform, kind, object_id = key
            obj = self.objects[platform][kind].get(object_id)
            if obj is not None and obj != self._kind_snapshots(platform, kind).get(object_id):
                changed[key] = obj
        for platform, kind in self._kinds_touched:
            snapshots = self._kind_snapshots(platform, kind)
            # The hot loop of a listing request: one C-level comparison per object, no calls.
            for object_id, obj in self.objects[platform][kind].items():
                if obj != snapshots.get(object_id):
                    changed.setdefault((platform, kind, object_id), obj)
        return changed

    def _changed_entries(self) -> list[Entry]:
        entries: list[Entry] = []
        for (platform, kind, object_id), obj in self._changed_objects().items():
            entries.append(Entry("object", platform, kind, object_id, encode(obj)))
            self._kind_snapshots(platform, kind)[object_id] = snapshot(obj)
        units = dict(self._units_touched)
        for unit_key in self.units if self._unit_platforms_touched else ():
            if unit_key[0] in self._unit_platforms_touched:
                units[unit_key] = None
        for unit_key in units:
            self._append_unit(unit_key, entries)
        for job_id in list(self.jobs) if self._all_jobs_touched else self._jobs_touched:
            self._append_job(job_id, entries)
        for name in self._files_touched:
            data = self.files.get(name)
            if data is not None and data is not self._file_snapshots.get(name):
                self._file_snapshots[name] = data
                entries.append(Entry("file", "", "", name, data))
        return entries

    def _append_unit(self, key: UnitKey, entries: list[Entry]) -> None:
        unit = self.units.get(key)
        if unit is None or unit == self._unit_snapshots.get(key):
            return
        self._unit_snapshots[key] = copy_unit(unit)
        entries.append(Entry("unit", key[0], "", key[1], encode(unit_to_json(unit))))

    def _append_job(self, job_id: str, entries: list[Entry]) -> None:
        job = self.jobs.get(job_id)
        if job is None or job == self._job_snapshots.get(job_id):
            return
        entries.append(Entry("job", "", "", job_id, encode(job)))
        self._job_snapshots[job_id] = snapshot(job)

    def _forget_touches(self) -> None:
        for touched in (self._objects_touched, self._units_touched, self._jobs_touched, self._files_touched):
            touched.clear()
        self._kinds_touched.clear()
        self._unit_platforms_touched.clear()
        self._all_jobs_touched = False


def snapshot(value: Any) -> Any:
    """A copy sharing nothing mutable with ``value`` but sharing its strings and numbers.

    Compared with ``==`` later, shared leaves match by identity, which makes the comparison of
    an unchanged object about a third cheaper than against a freshly decoded copy.
    """
    if isinstance(value, dict):
        return {key: snapshot(item) for key, item in value.items()}
    if isinstance(value, list):
        return [snapshot(item) for item in value]
    if isinstance(value, set):
        return set(value)  # members are hashable, so immutable here
    if isinstance(value, tuple):
        return tuple(snapshot(item) for item in value)
    return value
