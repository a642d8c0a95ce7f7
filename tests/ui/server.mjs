// Starts a real `da serve` on a free port with a temporary data dir (like tests/support/server_process.cpp):
// its own process group, waits (bounded) for the "listening on" line, then gets an admin token:
// a password session when extraEnv sets DA_BOOTSTRAP_ADMIN_PASSWORD, else a PAT made with the
// bootstrap token (which revokes it, as any admin's first PAT does).
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A TCP port on 127.0.0.1 that was free a moment ago (for a server whose URL must be known first). */
export async function freeLocalPort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const {port} = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * `listenPort` 0 = any free port (reported by the server).
 * @returns {Promise<{url, port, token, dir, output(): string, stop(): Promise<void>}>}
 */
export async function startServer(binary, extraEnv = {}, listenPort = 0) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'da-ui-'));
  const dataDir = path.join(dir, 'data');
  let output = '';
  const child = spawn(binary, ['serve', '--host', '127.0.0.1', '--port', String(listenPort), '--data-dir', dataDir], {
    detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    // Files tables may read the vega datasets and this server's temp dir (DA_FILES_ROOTS).
    env: {...process.env, DA_FILES_ROOTS: [process.env.DA_DATASETS_DIR, dir].filter(Boolean).join(':'), ...extraEnv},
  });
  child.stdout.on('data', d => { output += d; });
  child.stderr.on('data', d => { output += d; });
  let exited = false;
  child.on('exit', () => { exited = true; });
  const stop = async () => {
    if (!exited) {
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
      for (let i = 0; i < 200 && !exited; i++) await new Promise(r => setTimeout(r, 100));
      if (!exited) { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }
    }
    fs.rmSync(dir, {recursive: true, force: true});
  };
  const deadline = Date.now() + 60000;
  let port = 0;
  while (Date.now() < deadline) {
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
    if (m) { port = Number(m[1]); break; }
    if (exited) break;
    await new Promise(r => setTimeout(r, 50));
  }
  if (!port) {
    await stop();
    throw new Error(`da serve did not start:\n${output}`);
  }
  const url = `http://127.0.0.1:${port}`;
  let token;
  if (extraEnv.DA_BOOTSTRAP_ADMIN_PASSWORD) {
    const res = await fetch(`${url}/auth/token`, {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({email: extraEnv.DA_BOOTSTRAP_ADMIN_EMAIL || 'admin@localhost',
                            password: extraEnv.DA_BOOTSTRAP_ADMIN_PASSWORD})});
    token = (await res.json()).access_token;
  } else {
    const bootstrap = fs.readFileSync(path.join(dataDir, 'state', 'bootstrap-token'), 'utf8').trim();
    const res = await fetch(`${url}/auth/tokens`, {method: 'POST',
      headers: {Authorization: `Bearer ${bootstrap}`, 'Content-Type': 'application/json'}, body: '{"name":"ui tests"}'});
    token = (await res.json()).token;
  }
  if (!token) {
    await stop();
    throw new Error(`no admin token from da serve:\n${output}`);
  }
  return {url, port, token, dir, output: () => output, stop};
}

/**
 * Starts the Keboola Storage API emulator (tests/emulators/keboola, HTTPS with a test CA) in its
 * own process group; waits (bounded) for its first stdout line {port, ca_file, token}.
 * @returns {Promise<{env: object, stop(): Promise<void>}>} env: what `da serve` needs to reach it.
 */
export async function startKeboolaEmulator(binary, datasetsDir) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'da-ui-kbc-'));
  const child = spawn(binary, ['--data-dir', datasetsDir, '--work-dir', dir, '--polls', '1'], {
    detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '', err = '';
  let exited = false;
  child.stdout.on('data', d => { out += d; });
  child.stderr.on('data', d => { err += d; });
  child.on('exit', () => { exited = true; });
  const stop = async () => {
    if (!exited) {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
      for (let i = 0; i < 100 && !exited; i++) await new Promise(r => setTimeout(r, 50));
    }
    fs.rmSync(dir, {recursive: true, force: true});
  };
  const deadline = Date.now() + 120000;  // loading flights-3m takes a while on a busy machine
  while (!out.includes('\n') && !exited && Date.now() < deadline) await new Promise(r => setTimeout(r, 50));
  let info = null;
  try { info = JSON.parse(out.slice(0, out.indexOf('\n'))); } catch { /* below */ }
  if (!info || !info.port) {
    await stop();
    throw new Error(`keboola_emulator did not start:\n${err.slice(-2000)}`);
  }
  return {
    env: {KEBOOLA_STACK_URL: `https://127.0.0.1:${info.port}`, KEBOOLA_STORAGE_TOKEN: info.token, DA_CA_FILE: info.ca_file},
    stop,
  };
}
