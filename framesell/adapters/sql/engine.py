"""Building SQLAlchemy engines for MySQL/MariaDB and SQLite with the settings FrameSell needs."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

MYSQL_POOL_RECYCLE_SECONDS = 1800  # well below the servers' default wait_timeout (8 hours)
MYSQL_CONNECT_TIMEOUT_SECONDS = 10
# A pooled connection idle this long is pinged before use (ping_connections_idle_for).
MYSQL_PING_AFTER_IDLE_SECONDS = 1.0
# At least the server's thread count (production.ini: 8), so that no thread waits for a
# connection and none is opened and closed per request beyond the pool.
POOL_SIZE = 10
_IDLE_SINCE = "framesell_idle_since"
MYSQL_SQL_MODE = (
    "STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
    "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"
)
SQLITE_BUSY_TIMEOUT_SECONDS = 15.0
# ``?wsrep_sync_wait=N`` in a MySQL URL: on a Galera node, each session waits for the
# cluster's latest commits before it reads (N as MariaDB defines it; 1 = reads), see
# docs/scaling.md. FrameSell's own option, taken out of the URL before the driver sees it.
SYNC_WAIT_OPTION = "wsrep_sync_wait"
# ``?fallback=host:port,host:port``: other nodes of a Galera cluster, tried in turn when a
# new connection cannot be made to the URL's own node or that node is not ready for
# clients (``wsrep_ready`` OFF: joining, donating, or cut off from the majority).
FALLBACK_OPTION = "fallback"


def make_engine(url: str | URL, **opts: Any) -> Engine:
    """Create an engine for ``url``; keyword options override the defaults chosen here."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend in ("mysql", "mariadb"):
        return _mysql_engine(parsed, opts)
    if backend == "sqlite":
        return _sqlite_engine(parsed, opts)
    return sa.create_engine(parsed, **opts)


def database_is_reachable(engine: Engine) -> bool:
    """Whether the database answers ``SELECT 1`` right now (for a health check)."""
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True


def _mysql_engine(url: URL, opts: dict[str, Any]) -> Engine:
    if "charset" not in url.query:
        url = url.update_query_dict({"charset": "utf8mb4"})
    # Strict mode: an over-long or invalid value is an error, never silently truncated.
    session = f"SET SESSION sql_mode = '{MYSQL_SQL_MODE}'"
    if SYNC_WAIT_OPTION in url.query:
        sync_wait = url.query[SYNC_WAIT_OPTION]
        if not isinstance(sync_wait, str) or not sync_wait.isdigit() or int(sync_wait) > 15:
            raise ValueError(f"{SYNC_WAIT_OPTION} in the database URL must be 0 to 15")
        session += f", wsrep_sync_wait = {int(sync_wait)}"
        url = url.difference_update_query([SYNC_WAIT_OPTION])
    fallbacks: list[tuple[str, int]] = []
    if FALLBACK_OPTION in url.query:
        fallbacks = _host_ports(url.query[FALLBACK_OPTION])
        url = url.difference_update_query([FALLBACK_OPTION])
    connect_args = {
        "connect_timeout": MYSQL_CONNECT_TIMEOUT_SECONDS,
        "init_command": session,
        **opts.pop("connect_args", {}),
    }
    settings: dict[str, Any] = {
        "pool_size": POOL_SIZE,
        "pool_recycle": MYSQL_POOL_RECYCLE_SECONDS,
        # Each compare-and-swap UPDATE must see the latest committed row, not a snapshot.
        "isolation_level": "READ COMMITTED",
        # No ROLLBACK when a connection goes back to the pool: every use of it is through
        # a Connection, whose close() rolls back the transaction it began, if any. So a
        # unit of work that ended by committing costs no round trip more.
        "pool_reset_on_return": None,
        "connect_args": connect_args,
        **opts,
    }
    engine = sa.create_engine(url, **settings)
    if not settings.get("pool_pre_ping"):
        ping_connections_idle_for(engine, MYSQL_PING_AFTER_IDLE_SECONDS)
    if fallbacks:
        connect_to_a_ready_node(engine, fallbacks)
    return engine


def _host_ports(value: str | tuple[str, ...]) -> list[tuple[str, int]]:
    found = []
    for item in ",".join([value] if isinstance(value, str) else value).split(","):
        host, _, port = item.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"{FALLBACK_OPTION} in the database URL must be host:port,...")
        found.append((host, int(port)))
    return found


def connect_to_a_ready_node(engine: Engine, fallbacks: list[tuple[str, int]]) -> None:
    """Make each new connection to the first node, of the URL's then the fallbacks, that is ready.

    Only new connections move: the pool keeps the ones it has until they fail, and a
    failure discards the pool's older connections (see ``ping_connections_idle_for``), so a
    process whose node died reconnects to the next node on its next checkout.
    """

    @event.listens_for(engine, "do_connect")
    def _first_ready(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        nodes = [(cparams.get("host", "localhost"), int(cparams.get("port", 3306))), *fallbacks]
        failure: Exception | None = None
        for host, port in nodes:
            try:
                connection = dialect.connect(*cargs, **{**cparams, "host": host, "port": port})
            except dialect.loaded_dbapi.Error as error:
                failure = error
                continue
            if _node_is_ready(connection):
                return connection
            connection.close()
            failure = dialect.loaded_dbapi.OperationalError(
                1047, f"the node at {host}:{port} is not ready (wsrep_ready is OFF)"
            )
        assert failure is not None
        raise failure


def _node_is_ready(connection: Any) -> bool:
    cursor = connection.cursor()
    try:
        cursor.execute("SHOW GLOBAL STATUS LIKE 'wsrep_ready'")
        row = cursor.fetchone()
    finally:
        cursor.close()
    return row is None or str(row[1]).upper() == "ON"  # None: not a Galera node


def ping_connections_idle_for(engine: Engine, seconds: float) -> None:
    """Ping a pooled connection at checkout only if it sat idle for ``seconds`` or more.

    ``pool_pre_ping`` pings at every checkout: a round trip per unit of work, most of a
    short read's cost. A connection handed back a moment ago was working a moment ago; one
    that sat idle may have been closed by the server, a proxy or a failover, and is pinged
    (a dead one is replaced before use). A connection that dies while busy fails that
    statement with a disconnect error, which the unit of work answers as StorageUnavailable
    and which makes SQLAlchemy discard the whole pool's older connections.
    """

    @event.listens_for(engine, "checkin")
    def _note_idle_since(dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < seconds:
            return  # new, or in use a moment ago
        try:
            dbapi_connection.ping(reconnect=False)
        except Exception as error:  # the driver's own error types: the connection is gone
            # The pool replaces the connection and tries again.
            raise DisconnectionError() from error


def _sqlite_engine(url: URL, opts: dict[str, Any]) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    connect_args = {
        # Connections move between the threads of a threaded server via the pool.
        "check_same_thread": False,
        "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
        **opts.pop("connect_args", {}),
    }
    settings: dict[str, Any] = {"connect_args": connect_args, **opts}
    if in_memory:
        # One shared connection, or every checkout would see its own empty database;
        # fine for single-threaded tests and demos, not for concurrent use.
        settings.setdefault("poolclass", StaticPool)
    else:
        settings.setdefault("pool_size", POOL_SIZE)
    engine = sa.create_engine(url, **settings)
    busy_timeout_ms = int(float(connect_args["timeout"]) * 1000)

    @event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
            if not in_memory:
                # Readers no longer block the writer, nor the writer the readers.
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    return engine
