import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnvironment, compileForChildProcess } from './testing/compile';

/**
 * What a busy append path leaves for the garbage collector to promote. An appended event is garbage once
 * its append resolves (about a millisecond with 64 writers), so almost nothing of it should survive two
 * minor collections, tens of milliseconds apart, and reach the old generation. It did: two maps that
 * lived as long as the store, with an entry set and deleted per event, are rehashed every hundred or so
 * events, and V8 links each old table (its entries kept) to the new one; after a full collection had
 * promoted one table, that dead table kept every later table and the events staged in them alive through
 * each minor collection until the next full one: about 1 KB promoted per appended event, a fifth of the
 * append's CPU spent in the collector.
 */
test('appends from 64 writers promote little to the old generation after a full collection', () => {
  const work = mkdtempSync(join(tmpdir(), 'pl-retention-'));
  try {
    compileForChildProcess(join(work, 'build'));
    const script = join(work, 'build', 'store-file', 'testing', 'retention-child.js');
    const events = 30000;
    const child = spawnSync(
      process.execPath,
      ['--expose-gc', '--trace-gc-nvp', script, join(work, 'ledger'), String(events)],
      { env: childEnvironment(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
    );
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const lines = child.stdout.split('\n');
    const start = lines.indexOf('measured start');
    const end = lines.indexOf(`measured end ${events}`);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const scavenges = lines.slice(start, end).filter((line) => line.includes(' gc=s '));
    const promoted = scavenges.reduce((sum, line) => sum + Number(/ promoted=(\d+)/.exec(line)![1]), 0);
    // Before the fix about 1,000 bytes per event; after it about 50 (tmpfs and disk alike).
    expect(scavenges.length).toBeGreaterThan(0);
    expect(promoted / events).toBeLessThan(300);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
