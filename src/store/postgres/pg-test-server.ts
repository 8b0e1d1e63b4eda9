// A real, throw-away PostgreSQL for tests: initdb into a temporary folder, listen on a free loopback
// port with trust authentication, and let tests stop, kill and restart it on the same port and data.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { appendFile, chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  readonly port: number;
  /** Stops the server (pg_ctl stop -m fast); restart() brings it back on the same port and data. */
  stop(): Promise<void>;
  /** SIGKILLs the postmaster and its children: a crash, not a shutdown. */
  kill(): Promise<void>;
  /** Starts the server again (stopping it first if it runs), same port, same data directory. */
  restart(): Promise<void>;
  /** Stops the server if it runs and removes its temporary folder. Idempotent. */
  destroy(): Promise<void>;
}

/** Generous: initdb and the first start on a loaded CI machine can take several seconds. */
const START_TIMEOUT_S = 60;
const BIN_NAMES = ['initdb', 'pg_ctl', 'postgres'] as const;

/** The directory holding initdb, pg_ctl and postgres: on PATH first, else Debian's versioned folders. */
export function findPostgresBin(): string {
  const candidates: string[] = [];
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'initdb'))) candidates.push(dirname(realpathSync(join(dir, 'initdb'))));
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((name) => /^\d+(\.\d+)?$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((version) => join(debian, version, 'bin')));
  }
  const found = candidates.find((dir) => BIN_NAMES.every((name) => existsSync(join(dir, name))));
  if (found === undefined) {
    throw new Error('PostgreSQL is not installed: no initdb, pg_ctl and postgres on PATH or under /usr/lib/postgresql/*/bin (install Debian\'s "postgresql"; .ci/run does)');
  }
  return found;
}

/** PostgreSQL refuses to run as root; the tests here run as root, so its tools run as `postgres`. */
function asServerUser(command: string, args: readonly string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, [...args]];
}

function run(command: string, args: readonly string[], cwd: string): Promise<string> {
  const [file, argv] = asServerUser(command, args);
  return new Promise((resolve, reject) => {
    execFile(file, argv, { cwd, timeout: START_TIMEOUT_S * 1000 + 5000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${stderr.trim() || error.message}`, { cause: error }));
      else resolve(stdout);
    });
  });
}

/** Binding port 0 lets the kernel pick a free port; the tiny race until postgres binds it is accepted. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('could not pick a free port'));
      });
    });
  });
}

/**
 * Whether `pid` exists. A killed but unreaped postmaster (a zombie) still counts, as it does for
 * the next postmaster's lock-file check, so kill() waits until it is reaped.
 */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The children of `pid`, read from /proc (Linux), so a kill takes the backends down too. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Field 4 is the parent pid; the command name (field 2) is parenthesised and may hold spaces.
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === pid) children.push(Number(name));
    } catch {
      // The process exited while we looked.
    }
  }
  return children;
}

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function accepts(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Starts a fresh PostgreSQL in a temporary folder. Fails (never skips) when PostgreSQL is not
 * installed, since CI installs it. Call destroy() when done; an exit handler kills it otherwise.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  const bin = findPostgresBin();
  const root = await mkdtemp(join(tmpdir(), 'coffer-pg-'));
  const data = join(root, 'data');
  const sockets = join(root, 'sockets');
  const log = join(root, 'server.log');
  await mkdir(sockets);
  if (process.getuid?.() === 0) {
    // mkdtemp made it 0700 root: hand the whole folder to the server's user.
    chownRecursive(root, 'postgres');
  }
  await chmod(root, 0o700);
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let running = false;
  let destroyed = false;

  await run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'], root);
  // Loopback only; trust is fine because nothing else can reach it. Enough connections for
  // suites that open a pool per case; fsync stays on (the store promises durability).
  const settings = [
    `listen_addresses = '127.0.0.1'`,
    `port = ${port}`,
    `unix_socket_directories = '${sockets}'`,
    'max_connections = 200',
    'shared_buffers = 32MB',
    "log_min_messages = 'warning'",
  ];
  await appendFile(join(data, 'postgresql.conf'), `\n# coffer test server\n${settings.join('\n')}\n`);

  const postmasterPid = async (): Promise<number | undefined> => {
    try {
      const pid = Number((await readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n')[0]);
      return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  };

  const start = async (): Promise<void> => {
    try {
      await run(join(bin, 'pg_ctl'), ['start', '-D', data, '-l', log, '-w', '-t', String(START_TIMEOUT_S)], root);
    } catch (error) {
      const tail = await readFile(log, 'utf8').then((text) => text.split('\n').slice(-20).join('\n'), () => '');
      throw new Error(`PostgreSQL did not start:\n${tail}`, { cause: error });
    }
    await waitUntil(() => accepts(url), START_TIMEOUT_S * 1000, 'PostgreSQL to accept connections');
    running = true;
  };

  const stop = async (): Promise<void> => {
    if (!running) return;
    await run(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w', '-t', String(START_TIMEOUT_S)], root);
    running = false;
  };

  const kill = async (): Promise<void> => {
    const pid = await postmasterPid();
    running = false;
    if (pid === undefined || !pidAlive(pid)) return;
    const victims = [pid, ...childrenOf(pid)];
    for (const victim of victims) {
      try {
        process.kill(victim, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await waitUntil(() => victims.every((victim) => !pidAlive(victim)), 10_000, 'the killed PostgreSQL processes to exit');
  };

  const onExit = (): void => {
    // Last resort when a test run dies without destroy(): immediate shutdown, then remove the data.
    const pidText = existsSync(join(data, 'postmaster.pid')) ? readFileSync(join(data, 'postmaster.pid'), 'utf8') : '';
    const pid = Number(pidText.split('\n')[0]);
    if (Number.isSafeInteger(pid) && pid > 0 && pidAlive(pid)) {
      const [file, argv] = asServerUser(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate', '-w', '-t', '10']);
      spawnSync(file, argv, { cwd: root, stdio: 'ignore' });
    }
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  try {
    await start();
  } catch (error) {
    process.removeListener('exit', onExit);
    onExit();
    throw error;
  }

  return {
    url,
    port,
    stop,
    kill,
    async restart() {
      if (destroyed) throw new Error('the test PostgreSQL was destroyed');
      await stop();
      await start();
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      process.removeListener('exit', onExit);
      try {
        await stop();
      } catch {
        await kill();
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}

function chownRecursive(path: string, user: string): void {
  const result = spawnSync('chown', ['-R', `${user}:`, path], { stdio: 'pipe' });
  if (result.status !== 0) {
    throw new Error(`chown ${user} ${path} failed: ${result.stderr.toString().trim()} (is there a "${user}" system user?)`);
  }
}

/** Runs one statement as the superuser on a fresh connection (test setup and teardown). */
export async function adminQuery(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A random name for a per-case schema or database: t_ plus 16 hex digits. */
export function randomName(): string {
  return `t_${randomBytes(8).toString('hex')}`;
}

/** A fresh, empty database on the server; drop() removes it (forcibly closing its connections). */
export async function createTestDatabase(url: string): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = randomName();
  await adminQuery(url, `CREATE DATABASE ${name}`);
  const dbUrl = new URL(url);
  dbUrl.pathname = `/${name}`;
  return {
    url: dbUrl.toString(),
    name,
    drop: async () => {
      await adminQuery(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** Drops a per-case schema and everything in it. */
export async function dropTestSchema(url: string, schema: string): Promise<void> {
  if (!/^t_[0-9a-f]{16}$/.test(schema)) throw new Error('only test schemas made by randomName() are dropped');
  await adminQuery(url, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}
