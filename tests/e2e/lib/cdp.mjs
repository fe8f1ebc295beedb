// cdp.mjs — a headless Chromium driven over the DevTools protocol, with
// nothing but Node (the WebSocket: ws.mjs, as Debian's Node 18 has none).
// open(url) → {evaluate(expr) (awaits promises, returns the value), errors
// (console errors and uncaught exceptions, as text), send(method, params),
// close() (a promise)}.
import {spawn} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {connect} from './ws.mjs';

export async function open(url, {chromium = 'chromium', timeoutMs = 30000} = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'nd-cdp-'));
  const proc = spawn(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--allow-file-access-from-files', `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'],
  {stdio: ['ignore', 'ignore', 'pipe']});
  const wsUrl = await new Promise((ok, fail) => {
    let text = '';
    const timer = setTimeout(() => fail(new Error('chromium did not start: ' + text.slice(-500))), timeoutMs);
    proc.stderr.on('data', (d) => {
      text += d;
      const m = text.match(/DevTools listening on (ws:\S+)/);
      if (m) clearTimeout(timer), ok(m[1]);
    });
    proc.on('exit', (code) => fail(new Error(`chromium exited (${code}): ${text.slice(-500)}`)));
  });
  const ws = await connect(wsUrl);
  let id = 0;
  const pending = new Map(), errors = [];
  let onLoad;
  const loadFired = new Promise((ok) => (onLoad = ok));
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.id && pending.has(msg.id)) {
      const {ok, fail} = pending.get(msg.id);
      pending.delete(msg.id);
      msg.error ? fail(new Error(msg.error.message)) : ok(msg.result);
    } else if (msg.method === 'Page.loadEventFired') {
      onLoad();
    } else if (msg.method === 'Runtime.exceptionThrown') {
      const d = msg.params.exceptionDetails;
      errors.push('uncaught: ' + ((d.exception && d.exception.description) || d.text));
    } else if (msg.method === 'Runtime.consoleAPICalled' && ['error', 'assert'].includes(msg.params.type)) {
      errors.push('console.error: ' + msg.params.args.map((a) => a.value ?? a.description).join(' '));
    } else if (msg.method === 'Log.entryAdded' && msg.params.entry.level === 'error') {
      errors.push('log: ' + msg.params.entry.text);
    }
  };
  const send = (method, params = {}, sessionId) => new Promise((ok, fail) => {
    const mid = ++id;
    pending.set(mid, {ok, fail});
    ws.send(JSON.stringify({id: mid, method, params, ...(sessionId ? {sessionId} : {})}));
  });
  const {targetId} = await send('Target.createTarget', {url: 'about:blank'});
  const {sessionId} = await send('Target.attachToTarget', {targetId, flatten: true});
  for (const domain of ['Runtime', 'Log', 'Page']) await send(domain + '.enable', {}, sessionId);
  const loaded = Date.now();
  await send('Page.navigate', {url}, sessionId);
  await loadFired;
  return {
    loadedAt: loaded,
    errors,
    send: (method, params) => send(method, params, sessionId), // any other DevTools call
    async evaluate(expression, ms = timeoutMs) {
      const r = await Promise.race([
        send('Runtime.evaluate', {expression, awaitPromise: true, returnByValue: true}, sessionId),
        new Promise((_, fail) => setTimeout(() => fail(new Error(`timed out after ${ms} ms: ${expression.slice(0, 80)}`)), ms))]);
      if (r.exceptionDetails) throw new Error((r.exceptionDetails.exception && r.exceptionDetails.exception.description) || r.exceptionDetails.text);
      return r.result.value;
    },
    async close() {
      try {
        ws.close();
      } catch {}
      const exited = new Promise((ok) => proc.on('exit', ok));
      proc.kill();
      await Promise.race([exited, new Promise((ok) => setTimeout(ok, 5000))]);
      try {
        rmSync(profile, {recursive: true, force: true});
      } catch {} // a last file still being written: the temporary folder stays
    },
  };
}
