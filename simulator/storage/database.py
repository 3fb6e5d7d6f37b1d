"""Engine set-up that differs between SQLite and PostgreSQL, kept in one place.

SQLite runs in WAL mode and every write transaction starts with ``BEGIN IMMEDIATE``
so that a check-then-insert (the last unit of a slot) is serialised between
concurrent writers, who queue for their turn in the kernel first (``_WriterQueue``).
PostgreSQL serialises the same sections with transaction-scoped advisory locks
(:meth:`Database.lock`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import mmap
import os
import queue
import secrets
import struct
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy import Connection, Engine, Executable, Table, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from simulator.domain.errors import ConfigurationError
from simulator.storage.schema import ensure_schema, reset_schema


def database_url(value: str) -> str:
    """Turn ``--db`` into an SQLAlchemy URL: a file path, ``:memory:``, or a database URL."""
    if value == ":memory:":
        return "sqlite://"
    if value.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + value.split("://", 1)[1]
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def _password(value: str) -> str | None:
    try:
        return make_url(value).password
    except (ArgumentError, ValueError):  # not an SQLAlchemy URL; the lenient parser may still find one
        try:
            return urlsplit(value).password
        except ValueError:
            return None


def redact(text: str, secret: str | None) -> str:
    """``text`` with ``secret`` (as given and URL-encoded) replaced by ``***``."""
    if not secret:
        return text
    for form in {secret, quote(secret, safe="")}:
        text = text.replace(form, "***")
    return text


def shown_database(value: str) -> str:
    """``--db`` as it may be printed, logged or answered: a URL's password masked, a path as given."""
    if "://" not in value:
        return value
    try:
        return make_url(value).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # unparseable: mask what the lenient parser finds
        return redact(value, _password(value))


class Database:
    """An engine plus the few dialect-specific operations the repositories need."""

    def __init__(self, url: str) -> None:
        self.url = database_url(url)
        self.shown = shown_database(url)
        self._password = _password(self.url)
        self.is_sqlite = self.url.startswith("sqlite")
        self.is_memory = self.url in {"sqlite://", "sqlite:///:memory:"}
        #: The SQLite file (``None`` in memory or on a server); its companions sit beside it.
        self.file = (make_url(self.url).database or "") if self.is_sqlite and not self.is_memory else None
        self._writers = _WriterQueue(self.file) if self.file is not None else None
        self._exclusive: dict[str, threading.Lock] = {}  # the threads' side of exclusive()
        self.generation: Generation | None = None
        # An in-memory database is one connection: a read inside a write transaction (the
        # clock read while placing an order) must use it rather than begin another.
        self._open = threading.local()
        self._closers: list[Callable[[], None]] = []
        try:
            self.engine = _engine(self.url)
        except Exception as error:  # the driver's own error types vary; name the URL either way
            raise ConfigurationError(f"cannot open database {self.shown}: {self._reason(error)}") from None
        self._direct = _DirectReads(self.engine, is_sqlite=self.is_sqlite)

    def redact(self, text: str) -> str:
        """``text`` without the database password, for anything shown, logged or answered."""
        return redact(text, self._password)

    def _reason(self, error: Exception) -> str:
        reason = str(getattr(error, "orig", None) or error).strip()
        return self.redact(reason.splitlines()[0] if reason else type(error).__name__)

    def create_schema(self, tables: Sequence[Table] | None = None) -> None:
        """Create and stamp the tables of an empty database, or check the stamp of an existing one.

        A database of another schema version is refused (:class:`~simulator.storage.schema.SchemaMismatch`);
        an unreachable one is named plainly. Data in a database of this version is kept.
        ``tables`` makes a database of those only (the journal's own file), which holds no
        shared state and so has no generation number.
        """
        self._schema_work(lambda connection: ensure_schema(connection, self.shown, tables), tables)

    def reset_schema(self, tables: Sequence[Table] | None = None) -> None:
        """Drop the simulator's tables (or ``tables``), whatever version wrote them, and create them empty."""
        self._schema_work(lambda connection: reset_schema(connection, tables), tables)

    def _schema_work(self, work: Callable[[Connection], None], tables: Sequence[Table] | None) -> None:
        try:
            with self.transaction() as connection:
                self.lock(connection, "fibresim schema")  # two processes starting at once: one creates
                work(connection)
                shared_changed(connection)
            if self.is_sqlite and self.generation is None and tables is None:
                # Beside the file, which exists now; a memory database's number is this process's.
                self.generation = Generation(None if self.file is None else f"{self.file}-generation")
        except (SQLAlchemyError, OSError) as error:
            raise ConfigurationError(f"cannot open database {self.shown}: {self._reason(error)}") from None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite: the write lock is taken up front).

        On an SQLite file, writers first queue on :class:`_WriterQueue`, so that SQLite's own
        lock is always free when they ask for it and nobody polls it.
        """
        with self.engine.connect() as connection:  # connecting creates a new SQLite file
            turn = self._writers.turn() if self._writers is not None else nullcontext()
            with turn:
                # info lives with the pooled DBAPI connection, so the flag is set for this
                # transaction's BEGIN only and cleared before the connection goes back.
                connection.info["immediate"] = True
                try:
                    with connection.begin():
                        connection.info.pop("immediate", None)
                        self._open.connection = connection
                        yield connection
                finally:
                    self._open.connection = None
                    connection.info.pop("immediate", None)
                    changed = connection.info.pop(SHARED_CHANGED, False)
                # Committed (an exception skips this): tell every process the shared state moved.
                if changed and self.generation is not None:
                    self.generation.advance()

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads only (a deferred transaction: readers never wait for writers)."""
        open_now: Connection | None = getattr(self._open, "connection", None)
        if self.is_memory and open_now is not None:
            yield open_now
            return
        with self.engine.connect() as connection:
            yield connection

    def read_directly(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """The rows of one prebuilt ``SELECT``, read past SQLAlchemy's pool and per-statement work.

        For the hot path's reads (the shared state, an address's live services, the capacity
        booked in a patch), where the
        pool's check-out and check-in, the transaction's ``BEGIN`` and its reset cost more than
        the read. The statement is compiled once, with its types' conversions of parameters
        and columns; it runs on a driver connection of this database's own in autocommit mode
        (one statement, one consistent read), which is kept for the next read. In memory (one
        connection) it goes through SQLAlchemy.
        """
        if self.is_memory:
            with self.reading() as connection:
                return [tuple(row) for row in connection.execute(statement, params)]
        return self._direct.rows(statement, params or {})

    def lock(self, connection: Connection, name: str) -> None:
        """Serialise writers on ``name`` until the transaction ends (no-op on SQLite: already serial)."""
        if not self.is_sqlite:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _advisory_key(name)})

    @contextmanager
    def exclusive(self, name: str, *, wait: bool = True) -> Iterator[bool]:
        """Hold ``name`` against every thread, worker and replica for the block; yields whether held.

        Unlike :meth:`lock` it spans transactions. With ``wait=False`` the block runs at once,
        given ``False``, while another holds it. A process that dies lets go by itself: the
        kernel drops its ``flock`` of the lock file beside an SQLite file, PostgreSQL its
        session lock. Not re-entrant.
        """
        local = self._exclusive.setdefault(name, threading.Lock())
        if not local.acquire(blocking=wait):
            yield False
            return
        try:
            if self.is_memory:  # one process: the thread lock is the whole of it
                yield True
            elif self.file is not None:
                with _flocked(f"{self.file}-{_file_part(name)}.lock", wait=wait) as held:
                    yield held
            else:
                with self._advisory(name, wait=wait) as held:
                    yield held
        finally:
            local.release()

    @contextmanager
    def _advisory(self, name: str, *, wait: bool) -> Iterator[bool]:
        key = {"key": _advisory_key(f"exclusive:{name}")}
        with self.engine.connect() as connection:
            if wait:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
                held = True
            else:
                held = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar())
            connection.commit()  # the lock is the session's, not the transaction's
            try:
                yield held
            finally:
                if held:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
                    connection.commit()

    def on_dispose(self, close: Callable[[], None]) -> None:
        """Call ``close`` when the database is disposed (for connections kept outside the pool)."""
        self._closers.append(close)

    def dispose(self) -> None:
        """Close every pooled connection, and those kept outside the pool."""
        for close in self._closers:
            close()
        self._direct.close()
        self.engine.dispose()
        if self.generation is not None:
            self.generation.close()
            self.generation = None
        if self._writers is not None:
            self._writers.close()  # after the connections: see _WriterQueue


SHARED_CHANGED = "fibresim.shared_changed"
"""``Connection.info`` key: the transaction wrote the shared state (see :func:`shared_changed`)."""


def shared_changed(connection: Connection) -> None:
    """Note that ``connection``'s transaction changes the shared state (clock, versions)."""
    connection.info[SHARED_CHANGED] = True


class Generation:
    """A number every process on this machine reads for free, moved whenever the shared state commits.

    The shared state (clock, cache versions) is read by every request; on an SQLite file
    those reads are skipped while this number stands still. It lives in a small file beside
    the database, mapped into memory by every worker, and each move writes a new random
    value (a reader only compares for equality, so a torn read just means one more read).
    A reader takes the number *before* it reads the database, so a change committed in
    between is read again next time rather than missed.
    """

    _FORMAT = struct.Struct("<Q")

    def __init__(self, path: str | None) -> None:
        if path is None:  # anonymous: one process's own number
            self._map = mmap.mmap(-1, self._FORMAT.size)
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            if os.fstat(fd).st_size < self._FORMAT.size:
                os.ftruncate(fd, self._FORMAT.size)
            self._map = mmap.mmap(fd, self._FORMAT.size)
        finally:
            os.close(fd)  # the mapping keeps the file; no POSIX lock is involved

    def read(self) -> int:
        """The current number."""
        value: int = self._FORMAT.unpack_from(self._map, 0)[0]
        return value

    def advance(self) -> None:
        """Move the number on (after a commit that changed the shared state)."""
        self._FORMAT.pack_into(self._map, 0, secrets.randbits(64))

    def close(self) -> None:
        """Unmap the file."""
        self._map.close()


def _advisory_key(name: str) -> int:
    """PostgreSQL's advisory lock key for ``name``: a signed 64-bit hash."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def _file_part(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name)


@contextmanager
def _flocked(path: str, *, wait: bool) -> Iterator[bool]:
    """An exclusive ``flock`` of ``path`` (made if missing) for the block; whether it was taken."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing lets the lock go


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A statement compiled once for :class:`_DirectReads`, with the conversions its types need."""

    sql: str
    order: tuple[str, ...] | None  # the parameters' names in order, when the driver's are positional
    defaults: dict[str, Any]  # the values of the statement's own literals
    binds: dict[str, Callable[[Any], Any]]  # a parameter's value as the driver takes it
    results: tuple[Callable[[Any], Any] | None, ...] | None  # a column's value as read, if any needs it

    def arguments(self, params: Mapping[str, Any]) -> Any:
        """``params`` (and the literals) as the driver takes them."""
        values = {**self.defaults, **params}
        for name, convert in self.binds.items():
            values[name] = convert(values[name])
        return values if self.order is None else [values[name] for name in self.order]

    def row(self, raw: Any) -> tuple[Any, ...]:
        """A driver row as SQLAlchemy would have read it."""
        if self.results is None:
            return tuple(raw)
        pairs = zip(self.results, raw, strict=True)
        return tuple(value if convert is None else convert(value) for convert, value in pairs)


class _DirectReads:
    """Driver (DBAPI) connections outside SQLAlchemy's pool, as many as reads ran at once, and
    the statements they run, each compiled once (see :meth:`Database.read_directly`)."""

    def __init__(self, engine: Engine, *, is_sqlite: bool) -> None:
        self._engine = engine
        self._is_sqlite = is_sqlite
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        self._prepared: dict[Executable, _Prepared] = {}

    def rows(self, statement: Executable, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run ``statement`` with ``params`` on an idle driver connection; its rows."""
        prepared = self._prepared.get(statement) or self._prepare(statement)
        arguments = prepared.arguments(params)
        try:
            driver = self._idle.get_nowait()
        except queue.Empty:
            driver = self._connect()
        try:
            cursor = driver.cursor()
            cursor.execute(prepared.sql, arguments)
            rows = [prepared.row(row) for row in cursor.fetchall()]
            cursor.close()
        except Exception:  # a broken connection (a server restart): a fresh one next time
            self._discard(driver)
            raise
        self._idle.put(driver)
        return rows

    def _prepare(self, statement: Executable) -> _Prepared:
        dialect = self._engine.dialect
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        # The dialect's own implementation of each type holds the conversions (SQLite's dates).
        binds = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in compiled.binds.items()
        }
        columns = getattr(statement, "selected_columns", ())
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        )
        prepared = _Prepared(
            sql=str(compiled),
            order=tuple(compiled.positiontup or ()) if compiled.positional else None,
            defaults={
                name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required
            },
            binds={name: convert for name, convert in binds.items() if convert is not None},
            results=results if any(convert is not None for convert in results) else None,
        )
        self._prepared[statement] = prepared
        return prepared

    def _connect(self) -> Any:
        args, options = self._engine.dialect.create_connect_args(self._engine.url)
        if self._is_sqlite:
            options = {**options, "check_same_thread": False, "timeout": 30, "isolation_level": None}
        driver = self._engine.dialect.connect(*args, **options)
        if not self._is_sqlite:
            driver.autocommit = True
        with self._lock:
            self._all.append(driver)
        return driver

    def _discard(self, driver: Any) -> None:
        with self._lock:
            if driver in self._all:
                self._all.remove(driver)
        with contextlib.suppress(Exception):
            driver.close()

    def close(self) -> None:
        """Close every driver connection."""
        with self._lock:
            drivers, self._all = self._all, []
        for driver in drivers:
            with contextlib.suppress(Exception):
                driver.close()


class _WriterQueue:
    """Writers of an SQLite file take turns here before ``BEGIN IMMEDIATE``.

    SQLite lets one writer in at a time and makes the others *poll* its lock (sleeping
    longer between tries as the busy timeout runs), so under load a writer can wait far
    longer than the writes ahead of it take. Here writers wait in the kernel instead: the
    threads of one process on a lock, the processes (workers) on ``flock`` of the database
    file, each woken as soon as the previous writer commits. ``flock`` locks are separate
    from the POSIX byte-range locks SQLite takes on the same file; the descriptor stays open
    until the engine is disposed, because closing a descriptor of a file drops every POSIX
    lock the process holds on it, SQLite's included.
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._held = threading.local()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the write turn for the block (re-entrant within a thread)."""
        if getattr(self._held, "depth", 0):
            self._held.depth += 1
            try:
                yield
            finally:
                self._held.depth -= 1
            return
        with self._threads:
            fd = self._descriptor()
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._held.depth = 1
            try:
                yield
            finally:
                self._held.depth = 0
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _descriptor(self) -> int:
        if self._fd is None:  # the file exists by now: the first connection created it
            self._fd = os.open(self._path, os.O_RDONLY | os.O_CLOEXEC)
        return self._fd

    def close(self) -> None:
        """Close the descriptor."""
        with self._threads:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


class EncodedJson(str):
    """JSON text already checked: stored in a JSON column as it is, not encoded again.

    The journal keeps answers it has just parsed; encoding the parsed value back cost the
    journal writer more than anything else it does.
    """


def store_json(value: Any) -> str:
    """The JSON columns' serializer: :class:`EncodedJson` as it is, anything else encoded."""
    return str.__str__(value) if isinstance(value, EncodedJson) else json.dumps(value)


def _engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(
            url, pool_pre_ping=True, pool_size=10, max_overflow=20, json_serializer=store_json
        )
    memory = url in {"sqlite://", "sqlite:///:memory:"}
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        json_serializer=store_json,
        # One shared connection keeps an in-memory database alive across threads.
        poolclass=StaticPool if memory else None,
        # A file's pool keeps a connection for each of a worker's request threads and its
        # background ones: beyond SQLAlchemy's default of 5, every connection given back was
        # closed and the next request opened (and set up) a new one.
        **({} if memory else {"pool_size": 16, "max_overflow": 16}),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself, so it can be BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Straight to the driver: as a statement of SQLAlchemy's, a BEGIN cost as much CPU as
        # the read it began (its execution context, events and result).
        begin = "BEGIN IMMEDIATE" if connection.info.get("immediate") else "BEGIN"
        connection.connection.driver_connection.execute(begin)  # type: ignore[union-attr]

    return engine


def utc(value: datetime) -> datetime:
    """A datetime read back from the database, as aware UTC (SQLite drops the zone)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
