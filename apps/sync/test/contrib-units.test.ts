// contrib/: the systemd units and the launchd plist run real `coffer` commands with flags that
// exist, carry the hardening the README promises, and pass systemd's own checker.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, coffer } from './helpers.js';

const contrib = new URL('../../../contrib/', import.meta.url).pathname;
const systemdDir = join(contrib, 'systemd');
const units = readdirSync(systemdDir).sort();

/** A unit file as sections of key → values (a key may repeat). */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {};
  let current: Record<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = sections[header[1]!] ??= {};
      continue;
    }
    const kv = /^([A-Za-z0-9]+)=(.*)$/.exec(line);
    if (!kv || !current) throw new Error(`not a unit-file line: ${raw}`);
    (current[kv[1]!] ??= []).push(kv[2]!);
  }
  return sections;
}

/** Checks a coffer command line against the built CLI's own --help: subcommand and every flag. */
function expectRealCommand(argv: string[]): void {
  const [bin, sub, ...rest] = argv;
  expect(bin).toBe('/usr/local/bin/coffer');
  const help = coffer([sub!, '--help'], { cwd: tmpdir() });
  expect(help.code, `coffer ${sub} --help: ${help.stderr}`).toBe(0);
  expect(help.stdout).toContain(`Usage: coffer ${sub}`);
  for (const flag of rest.filter((a) => a.startsWith('-'))) expect(help.stdout, `coffer ${sub} has no ${flag}`).toMatch(new RegExp(`(^|[ ,])${flag}[ ,<\\n]`, 'm'));
}

describe('systemd units', () => {
  it('are the daemon, a one-shot backup and its timer', () => {
    expect(units).toEqual(['coffer-backup.service', 'coffer-backup.timer', 'coffer.service']);
  });

  for (const [file, sub] of [['coffer.service', 'daemon'], ['coffer-backup.service', 'backup']] as const) {
    const unit = parseUnit(readFileSync(join(systemdDir, file), 'utf8'));
    const service = unit.Service!;

    it(`${file} runs \`coffer ${sub}\` with flags the CLI has`, () => {
      expect(service.ExecStart).toHaveLength(1);
      const argv = service.ExecStart![0]!.split(/\s+/);
      expect(argv[1]).toBe(sub);
      expectRealCommand(argv);
    });

    it(`${file} is hardened and writes only to the state folder`, () => {
      const one = (key: string) => service[key]?.join(' ');
      expect(one('User')).toBe('coffer');
      expect(one('NoNewPrivileges')).toBe('yes');
      expect(one('ProtectSystem')).toBe('strict');
      expect(one('ProtectHome')).toBe('read-only');
      expect(one('PrivateTmp')).toBe('yes');
      expect(one('PrivateDevices')).toBe('yes');
      expect(one('CapabilityBoundingSet')).toBe('');
      expect(one('RestrictAddressFamilies')).toBe('AF_UNIX AF_INET AF_INET6');
      expect(one('UMask')).toBe('0077');
      expect(one('RemoveIPC')).toBe('yes');
      expect(one('PrivateMounts')).toBe('yes');
      expect(service.ReadWritePaths).toEqual(['/var/lib/coffer']);
      expect(one('StateDirectory')).toBe('coffer');
      // The key stays out of argv and of the unit: it is read from the config's key file.
      expect(service.ExecStart![0]).not.toMatch(/key|password|secret/i);
    });
  }

  it('the daemon restarts on failure and is enabled for boot', () => {
    const unit = parseUnit(readFileSync(join(systemdDir, 'coffer.service'), 'utf8'));
    expect(unit.Service!.Restart).toEqual(['on-failure']);
    expect(unit.Service!.Type).toEqual(['simple']);
    expect(unit.Install!.WantedBy).toEqual(['multi-user.target']);
  });

  it('the timer starts the one-shot backup', () => {
    const timer = parseUnit(readFileSync(join(systemdDir, 'coffer-backup.timer'), 'utf8'));
    const backup = parseUnit(readFileSync(join(systemdDir, 'coffer-backup.service'), 'utf8'));
    expect(timer.Timer!.OnCalendar).toHaveLength(1);
    expect(timer.Timer!.Persistent).toEqual(['true']);
    expect(timer.Timer!.Unit).toBeUndefined(); // so it starts the service of its own name
    expect(timer.Install!.WantedBy).toEqual(['timers.target']);
    expect(backup.Service!.Type).toEqual(['oneshot']);
    expect(backup.Install).toBeUndefined(); // started by the timer, not at boot
  });

  const scratch = mkdtempSync(join(tmpdir(), 'coffer-units-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** The units as installed, with ExecStart pointed at the built CLI (systemd checks it is executable). */
  const installed = (file: string) => {
    writeFileSync(join(scratch, file), readFileSync(join(systemdDir, file), 'utf8').replaceAll('/usr/local/bin/coffer', CLI));
    return join(scratch, file);
  };

  it('pass `systemd-analyze verify` with no complaint', () => {
    expect(spawnSync('sh', ['-c', 'command -v systemd-analyze']).status, 'systemd-analyze is missing: scripts/bootstrap.sh installs it (Debian package systemd)').toBe(0);
    const paths = units.map(installed);
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...paths], { encoding: 'utf8' });
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it('rate 3.0 or better ("OK") in `systemd-analyze security`', () => {
    for (const file of ['coffer.service', 'coffer-backup.service']) {
      // --threshold fails the command above 3.0 (30 of 100).
      const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--threshold=30', installed(file)], { encoding: 'utf8' });
      expect(r.stdout, r.stderr).toMatch(new RegExp(`Overall exposure level for ${file}: ([0-2]\\.\\d|3\\.0) OK`));
      expect(r.status).toBe(0);
    }
  });

  it('the checker does catch a broken unit (so the check above means something)', () => {
    copyFileSync(join(systemdDir, 'coffer-backup.timer'), join(scratch, 'coffer-backup.timer'));
    const broken = readFileSync(join(systemdDir, 'coffer.service'), 'utf8').replaceAll('/usr/local/bin/coffer', CLI).replace('ProtectSystem=strict', 'ProtectSystem=stricter');
    writeFileSync(join(scratch, 'coffer.service'), broken);
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', join(scratch, 'coffer.service')], { encoding: 'utf8' });
    expect(r.stderr).toMatch(/protect system value.*stricter/i);
  });
});

describe('launchd plist', () => {
  const file = join(contrib, 'launchd', 'org.coffer.daemon.plist');

  it('is a valid property list that runs the daemon with flags the CLI has, restarting on failure', () => {
    // Python's plistlib parses Apple's XML format strictly (python3 is a bootstrap requirement).
    const r = spawnSync('python3', ['-c', 'import json, plistlib, sys; print(json.dumps(plistlib.load(open(sys.argv[1], "rb"))))', file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const plist = JSON.parse(r.stdout);
    expect(plist.Label).toBe('org.coffer.daemon');
    expect(plist.ProgramArguments[1]).toBe('daemon');
    expectRealCommand(plist.ProgramArguments);
    expect(plist.KeepAlive).toEqual({ SuccessfulExit: false });
    expect(plist.RunAtLoad).toBe(true);
    expect(plist.Umask).toBe(0o077);
    expect(plist.EnvironmentVariables.PATH.split(':')).toContain('/usr/local/bin');
  });
});
