"""A three-node MariaDB Galera cluster on one machine, for the tests, the soak and the benchmark.

``python -m bench.galera start [--dir DIR]`` starts three ``mariadbd`` processes (Debian's
``mariadb-server`` with ``galera-4``), each with its own data directory, client port,
Galera port, IST port and SST port (free ports chosen at start), replicating over
loopback; it returns once all three report ``Synced`` in a cluster of 3 and prints one
SQLAlchemy URL per node. ``python -m bench.galera status [--dir DIR]`` prints each node's
state, ``python -m bench.galera stop [--dir DIR]`` stops them (SIGTERM, then SIGKILL) and
deletes the directory. ``python -m bench.galera run`` starts, waits for Ctrl-C, then stops.
``DIR`` defaults to ``framesell-galera`` in the temporary directory.
``python -m bench.galera syncwait`` starts a cluster, measures what ``wsrep_sync_wait``
changes (below, ``measure_sync_wait``) and stops it.

The nodes run as the ``mysql`` user: with ``wsrep_sst_method = rsync`` a joiner's rsync
daemon cannot write a root-owned data directory. Only node 1 is initialised with
``mariadb-install-db``; it bootstraps the cluster (``--wsrep-new-cluster``) and nodes 2 and 3
receive its data by state snapshot transfer. ``root`` may connect from 127.0.0.1 without a
password, as on the single test server. Nothing here touches the machine's own MariaDB.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pymysql

PROVIDER = Path("/usr/lib/galera/libgalera_smm.so")
MARIADBD = "/usr/sbin/mariadbd"
DEFAULT_DIR = Path(tempfile.gettempdir()) / "framesell-galera"
SYNC_TIMEOUT = 120.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Node:
    """One ``mariadbd`` of the cluster: its folder and its four ports."""

    index: int
    folder: str
    port: int
    galera_port: int
    ist_port: int
    sst_port: int
    pid: int | None = None

    @property
    def path(self) -> Path:
        """The node's folder (config, data, socket, log)."""
        return Path(self.folder)

    @property
    def log(self) -> Path:
        """The server's error log."""
        return self.path / "error.log"

    def url(self, database: str = "", sync_wait: bool = True) -> str:
        """A ``mysql+pymysql`` URL to this node; its reads wait for the cluster (scaling.md)."""
        query = "?wsrep_sync_wait=3" if sync_wait else ""
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{database}{query}"

    def status(self) -> dict[str, str]:
        """The node's ``wsrep_%`` status variables; empty when it does not answer."""
        try:
            connection = pymysql.connect(
                host="127.0.0.1", port=self.port, user="root", connect_timeout=2
            )
        except pymysql.err.MySQLError:
            return {}
        try:
            with connection.cursor() as cursor:
                cursor.execute("SHOW GLOBAL STATUS LIKE 'wsrep_%'")
                return {str(name): str(value) for name, value in cursor.fetchall()}
        except pymysql.err.MySQLError:
            return {}
        finally:
            connection.close()

    def synced(self, size: int) -> bool:
        """True when the node is Synced in a primary component of ``size`` nodes."""
        state = self.status()
        return (
            state.get("wsrep_local_state_comment") == "Synced"
            and state.get("wsrep_cluster_status") == "Primary"
            and state.get("wsrep_cluster_size") == str(size)
        )

    def running(self) -> bool:
        """True while the node's process exists."""
        if self.pid is None:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        # A zombie of ours counts as gone: reap it.
        try:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return True
        return done == 0


@dataclass
class Cluster:
    """Three (or ``size``) nodes under one folder; ``cluster.json`` there remembers them."""

    folder: str
    nodes: list[Node] = field(default_factory=list)
    name: str = "framesell"

    @property
    def path(self) -> Path:
        """The cluster's folder."""
        return Path(self.folder)

    def save(self) -> None:
        """Write ``cluster.json`` so ``status`` and ``stop`` find the nodes."""
        (self.path / "cluster.json").write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> Cluster:
        """Read ``cluster.json`` written by ``start``."""
        data = json.loads((folder / "cluster.json").read_text())
        return cls(data["folder"], [Node(**node) for node in data["nodes"]], data["name"])

    def url_with_fallback(self, database: str, own: int) -> str:
        """Node ``own``'s URL (0-based) with the other nodes as ``fallback``, the last node first.

        With two app processes on nodes 1 and 2, each falls back to node 3 first, so a
        node's loss moves its process to the node nobody else was using.
        """
        others = [node for index, node in enumerate(self.nodes) if index != own]
        others.sort(key=lambda node: node.index != len(self.nodes))
        fallback = ",".join(f"127.0.0.1:{node.port}" for node in others)
        return f"{self.nodes[own].url(database)}&fallback={fallback}"

    def _config(self, node: Node) -> Path:
        addresses = ",".join(f"127.0.0.1:{other.galera_port}" for other in self.nodes)
        options = (
            f"gmcast.listen_addr=tcp://127.0.0.1:{node.galera_port};"
            f"ist.recv_addr=127.0.0.1:{node.ist_port};gcache.size=128M"
        )
        lines = [
            "[mariadbd]",
            "user = mysql",
            f"datadir = {node.path / 'data'}",
            f"socket = {node.path / 'mysqld.sock'}",
            f"pid-file = {node.path / 'mysqld.pid'}",
            f"log-error = {node.log}",
            f"port = {node.port}",
            "bind-address = 127.0.0.1",
            "character-set-server = utf8mb4",
            "collation-server = utf8mb4_unicode_ci",
            "innodb_buffer_pool_size = 64M",
            "innodb_log_file_size = 48M",
            # Durability comes from the other nodes holding every commit (Galera's usual choice).
            "innodb_flush_log_at_trx_commit = 2",
            "max_connections = 300",
            "binlog_format = ROW",
            "default_storage_engine = InnoDB",
            "innodb_autoinc_lock_mode = 2",
            "wsrep_on = ON",
            f"wsrep_provider = {PROVIDER}",
            f"wsrep_provider_options = \"{options}\"",
            f"wsrep_cluster_name = {self.name}",
            f"wsrep_cluster_address = gcomm://{addresses}",
            f"wsrep_node_name = node{node.index}",
            f"wsrep_node_address = 127.0.0.1:{node.galera_port}",
            f"wsrep_sst_receive_address = 127.0.0.1:{node.sst_port}",
            "wsrep_sst_method = rsync",
            "wsrep_slave_threads = 2",
            # Each node hands out ids of its own residue class (the default, stated).
            "wsrep_auto_increment_control = ON",
        ]
        path = node.path / "my.cnf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def start_node(self, node: Node, *, bootstrap: bool = False) -> None:
        """Start one node's ``mariadbd`` (detached) and record its pid."""
        command = [MARIADBD, f"--defaults-file={node.path / 'my.cnf'}"]
        if bootstrap:
            command.append("--wsrep-new-cluster")
        with (node.path / "stdout.log").open("ab") as out:
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        node.pid = process.pid
        self.save()

    def wait_synced(self, nodes: list[Node] | None = None, timeout: float = SYNC_TIMEOUT) -> None:
        """Wait until the given nodes (all by default) are Synced in a full cluster."""
        waiting = nodes if nodes is not None else self.nodes
        deadline = time.monotonic() + timeout
        while not all(node.synced(len(self.nodes)) for node in waiting):
            for node in waiting:
                if not node.running():
                    raise RuntimeError(f"node {node.index} exited:\n{_tail(node.log)}")
            if time.monotonic() > deadline:
                logs = "\n".join(f"node {n.index}:\n{_tail(n.log)}" for n in waiting)
                raise RuntimeError(f"the cluster did not sync in {timeout:.0f} s\n{logs}")
            time.sleep(0.3)

    def kill(self, node: Node) -> None:
        """SIGKILL one node, as a crash would, and wait for it to be gone."""
        if node.pid is not None and node.running():
            os.kill(node.pid, signal.SIGKILL)
            _wait_gone(node, 10)

    def restart(self, node: Node, timeout: float = SYNC_TIMEOUT) -> float:
        """Start a stopped node again; return the seconds until it was Synced (IST or SST)."""
        started = time.monotonic()
        self.start_node(node)
        self.wait_synced([node], timeout)
        return time.monotonic() - started

    def stop(self) -> None:
        """SIGTERM every node (SIGKILL after 30 s), then delete the folder."""
        for node in self.nodes:
            if node.running() and node.pid is not None:
                os.kill(node.pid, signal.SIGTERM)
        for node in self.nodes:
            if not _wait_gone(node, 30) and node.pid is not None:
                os.kill(node.pid, signal.SIGKILL)
                _wait_gone(node, 10)
        shutil.rmtree(self.path, ignore_errors=True)


def start_cluster(folder: Path | None = None, size: int = 3) -> Cluster:
    """Create, start and wait for a cluster of ``size`` nodes; stop it again on any failure."""
    if not PROVIDER.exists():
        raise RuntimeError(f"{PROVIDER} is missing: apt-get install galera-4")
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="framesell-galera-"))
    elif folder.exists() and (folder / "cluster.json").exists():
        raise RuntimeError(f"{folder} holds a cluster already: stop it first")
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)  # the mysql user must reach its node folders
    cluster = Cluster(str(folder))
    for index in range(1, size + 1):
        node_folder = folder / f"node{index}"
        (node_folder / "data").mkdir(parents=True, exist_ok=True)
        cluster.nodes.append(
            Node(index, str(node_folder), free_port(), free_port(), free_port(), free_port())
        )
    try:
        for node in cluster.nodes:
            cluster._config(node)
            shutil.chown(node.path, "mysql", "mysql")
            shutil.chown(node.path / "data", "mysql", "mysql")
        first = cluster.nodes[0]
        subprocess.run(
            [
                "mariadb-install-db",
                f"--defaults-file={first.path / 'my.cnf'}",
                "--user=mysql",
                "--skip-test-db",
                "--auth-root-authentication-method=normal",
            ],
            check=True,
            capture_output=True,
        )
        cluster.start_node(first, bootstrap=True)
        _wait_socket(first)
        _allow_root_over_tcp(first)
        for node in cluster.nodes[1:]:
            cluster.start_node(node)
        cluster.wait_synced()
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _wait_socket(node: Node, timeout: float = SYNC_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not (node.path / "mysqld.sock").exists():
        if not node.running():
            raise RuntimeError(f"node {node.index} exited:\n{_tail(node.log)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"node {node.index} did not start:\n{_tail(node.log)}")
        time.sleep(0.2)


def _allow_root_over_tcp(node: Node) -> None:
    """root@127.0.0.1 without a password; Galera replicates the account to the joiners."""
    connection = pymysql.connect(unix_socket=str(node.path / "mysqld.sock"), user="root")
    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'")
            cursor.execute("GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION")
    finally:
        connection.close()


def _wait_gone(node: Node, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while node.running():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def measure_sync_wait(cluster: Cluster, rounds: int = 2000) -> dict[str, object]:
    """Commit an UPDATE on node 1, then at once read the row on node 2, without and with waiting.

    Returns how many reads saw the old value and the read's latency (median, p99, µs) with
    ``wsrep_sync_wait`` 0 and 3.
    """

    def connect(node: Node, sync_wait: int) -> Any:
        connection = pymysql.connect(
            host="127.0.0.1", port=node.port, user="root", autocommit=True
        )
        with connection.cursor() as cursor:
            cursor.execute(f"SET SESSION wsrep_sync_wait = {sync_wait}")
        return connection

    writer = connect(cluster.nodes[0], 0)
    with writer.cursor() as cursor:
        cursor.execute("CREATE DATABASE IF NOT EXISTS framesell_syncwait")
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS framesell_syncwait.t (id INT PRIMARY KEY, v INT)"
        )
        cursor.execute("REPLACE INTO framesell_syncwait.t VALUES (1, 0)")
    readers = {wait: connect(cluster.nodes[1], wait) for wait in (0, 3)}
    stale = {0: 0, 3: 0}
    took: dict[int, list[float]] = {0: [], 3: []}
    for value in range(1, rounds + 1):
        for wait, reader in readers.items():
            with writer.cursor() as cursor:
                cursor.execute("UPDATE framesell_syncwait.t SET v = %s WHERE id = 1", (value,))
            began = time.perf_counter()
            with reader.cursor() as cursor:
                cursor.execute("SELECT v FROM framesell_syncwait.t WHERE id = 1")
                row = cursor.fetchone()
            took[wait].append(time.perf_counter() - began)
            stale[wait] += row is None or row[0] != value
    with writer.cursor() as cursor:
        cursor.execute("DROP DATABASE framesell_syncwait")
    for connection in (writer, *readers.values()):
        connection.close()

    def micro(values: list[float], share: float) -> int:
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1e6)

    return {
        f"sync_wait={wait}": {
            "reads": rounds,
            "stale": stale[wait],
            "median_us": micro(took[wait], 0.5),
            "p99_us": micro(took[wait], 0.99),
        }
        for wait in (0, 3)
    }


def main(argv: list[str] | None = None) -> int:
    """``start``, ``status``, ``stop`` or ``run`` a cluster in ``--dir``."""
    parser = argparse.ArgumentParser(prog="python -m bench.galera", description=__doc__)
    parser.add_argument("command", choices=["start", "status", "stop", "run", "syncwait"])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--size", type=int, default=3)
    args = parser.parse_args(argv)
    if args.command == "syncwait":
        cluster = start_cluster()
        try:
            print(json.dumps(measure_sync_wait(cluster), indent=2))
        finally:
            cluster.stop()
        return 0
    if args.command in ("start", "run"):
        began = time.monotonic()
        cluster = start_cluster(args.dir, args.size)
        print(f"{len(cluster.nodes)} nodes Synced in {time.monotonic() - began:.1f} s")
        for node in cluster.nodes:
            print(f"node {node.index} (pid {node.pid}): {node.url('framesell')}")
        if args.command == "run":
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
            cluster.stop()
        return 0
    if not (args.dir / "cluster.json").exists():
        print(f"no cluster in {args.dir}")
        return 1
    cluster = Cluster.load(args.dir)
    if args.command == "stop":
        cluster.stop()
        print("stopped")
        return 0
    for node in cluster.nodes:
        state = node.status()
        print(
            f"node {node.index} port {node.port}: "
            f"{state.get('wsrep_local_state_comment', 'down')}, "
            f"cluster size {state.get('wsrep_cluster_size', '-')}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
