// browser.mjs — what the two drivers (cdp.mjs: Chromium, bidi.mjs: Firefox)
// share: starting the browser on a fresh profile and always ending it, and
// within(), which bounds every wait on it.
import {spawn} from 'node:child_process';
import {appendFileSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

// within(promise, ms, what): the promise's outcome, or an error naming what
// was awaited once ms have passed, so that a browser that hangs fails the
// test instead of stalling it.
export function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, fail) => (timer = setTimeout(() => fail(new Error(`timed out after ${ms} ms: ${what}`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// The browsers running, each as the function that kills its group and
// removes its profile; all are called when Node exits, on a signal too (which
// would otherwise end Node without its exit handlers, and a browser in a
// group of its own does not get the terminal's Ctrl-C).
const running = new Set();
let hooked = false;
function killOnExit(end) {
  running.add(end);
  if (hooked) return;
  hooked = true;
  process.on('exit', () => running.forEach((e) => e()));
  for (const [name, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) process.on(name, () => process.exit(128 + number));
}

// launch(command, args(profile), prefix, prepare(profile)) → {proc, profile,
// stderr(), kill()}: the browser in a temporary profile folder, in a process
// group of its own, so that killing the group ends its child processes too.
// It is killed when Node exits; and ND_BROWSER_PIDS, when set, names a file
// that gets its id, for the calling script's trap, should Node itself be
// killed without notice (SIGKILL). kill() ends it and removes the profile.
export function launch(command, args, prefix, prepare = () => {}) {
  const profile = mkdtempSync(join(tmpdir(), prefix));
  prepare(profile);
  const proc = spawn(command, args(profile), {stdio: ['ignore', 'ignore', 'pipe'], detached: true});
  proc.on('error', () => {}); // a missing command: reported by the exit below
  if (proc.pid && process.env.ND_BROWSER_PIDS) appendFileSync(process.env.ND_BROWSER_PIDS, proc.pid + '\n');
  const signal = (s) => {
    try {
      if (proc.pid) process.kill(-proc.pid, s);
    } catch {} // already gone
  };
  const removeProfile = () => {
    try {
      rmSync(profile, {recursive: true, force: true});
    } catch {} // a last file still being written: the temporary folder stays
  };
  const end = () => (signal('SIGKILL'), removeProfile());
  killOnExit(end);
  const exited = new Promise((ok) => proc.on('exit', ok));
  let text = '';
  proc.stderr.on('data', (d) => (text += d));
  let killed;
  return {
    proc,
    profile,
    stderr: () => text,
    kill: () => (killed ??= (async () => {
      signal('SIGTERM');
      await within(exited, 5000, 'the browser to exit').catch(() => {}); // not a timer that keeps Node waiting
      signal('SIGKILL'); // the group's stragglers
      running.delete(end);
      removeProfile();
    })()),
  };
}

// waitFor(browser, regex, ms) → the first match of regex in its stderr.
export function waitFor(browser, regex, ms, name) {
  return within(new Promise((ok, fail) => {
    const look = () => {
      const m = browser.stderr().match(regex);
      if (m) ok(m);
    };
    browser.proc.stderr.on('data', look);
    look();
    browser.proc.on('exit', (code) => fail(new Error(`${name} exited (${code}): ${browser.stderr().slice(-500)}`)));
    browser.proc.on('error', (e) => fail(new Error(`${name}: ${e.message}`)));
  }), ms, `${name} to start`);
}
