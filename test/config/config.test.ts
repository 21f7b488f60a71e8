import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig, parseProperties, ConfigError, autoWorkers, parseArgs } from '../../src/config/index.js';

const lines = (text: string, source = 'zoo.cfg') => parseProperties(text, source);

test('zoo.cfg is Java properties: comments, separators, continuation lines', () => {
  const l = lines('# comment\n! also a comment\n\ntickTime=3000\nclientPort : 2182\ndataDir /var/zk\n4lw.commands.whitelist=ruok, \\\n  stat\n');
  assert.deepEqual(l.map((x) => [x.key, x.value, x.line]), [
    ['tickTime', '3000', 4], ['clientPort', '2182', 5], ['dataDir', '/var/zk', 6], ['4lw.commands.whitelist', 'ruok, stat', 7],
  ]);
});

test('defaults follow Apache: session timeouts are 2 and 20 ticks, dataLogDir defaults to dataDir', () => {
  const cfg = buildConfig(lines('dataDir=/tmp/x\ntickTime=1500\n'), 'zoo.cfg', 2);
  assert.equal(cfg.minSessionTimeout, 3000);
  assert.equal(cfg.maxSessionTimeout, 30000);
  assert.equal(cfg.dataLogDir, '/tmp/x');
  assert.equal(cfg.clientPort, 2181);
  assert.equal(cfg.juteMaxBuffer, 1048575);
  assert.equal(cfg.forceSync, true);
  assert.equal(cfg.snapCount, 100000);
  assert.equal(cfg.maxClientCnxns, 60);
});

test('an error names the file, the line and the key', () => {
  const bad = (text: string) => {
    try {
      buildConfig(lines(text, '/etc/zoo.cfg'), '/etc/zoo.cfg', 2);
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.message;
    }
    assert.fail('expected a ConfigError');
  };
  assert.equal(bad('dataDir=/x\n\ntickTime=fast\n'), "/etc/zoo.cfg:3: tickTime: expected an integer, got 'fast'");
  assert.equal(bad('dataDir=/x\nclientPort=70000\n'), '/etc/zoo.cfg:2: clientPort: 70000 is above the maximum 65535');
  assert.equal(bad('dataDir=/x\nforceSync=maybe\n'), "/etc/zoo.cfg:2: forceSync: expected true/false or yes/no, got 'maybe'");
  assert.equal(bad('dataDir=/x\nworkers=many\n'), "/etc/zoo.cfg:2: workers: expected 'auto' or an integer 0..64, got 'many'");
  assert.match(bad('tickTime=2000\n'), /^\/etc\/zoo.cfg: dataDir: is required/);
  assert.equal(bad('dataDir=/x\nminSessionTimeout=9000\nmaxSessionTimeout=8000\n'),
    '/etc/zoo.cfg:2: minSessionTimeout: 9000 must not exceed maxSessionTimeout 8000');
});

test('an unknown key is a warning that names it; system-property keys are accepted as Apache\'s zoo.cfg accepts them', () => {
  const cfg = buildConfig(lines('dataDir=/x\nbogusKey=1\nextendedTypesEnabled=true\nznode.container.checkIntervalMs=1000\nzookeeper.skipACL=yes\nserver.1=localhost:2888:3888\n'), 'zoo.cfg', 2);
  assert.equal(cfg.extendedTypesEnabled, true);
  assert.equal(cfg.containerCheckIntervalMs, 1000);
  assert.ok(cfg.warnings.some((w) => w === "zoo.cfg:2: unknown key 'bogusKey' ignored"));
  assert.ok(cfg.warnings.some((w) => w.includes("'zookeeper.skipACL'") && w.includes("spells it 'skipACL'")));
  assert.ok(!cfg.warnings.some((w) => w.includes('server.1')), 'ensemble lines are not unknown');
});

test('later lines win: command-line overrides apply after the file', () => {
  const cfg = buildConfig([...lines('dataDir=/x\nclientPort=2181\nworkers=0\n'), ...parseArgs(['--port', '3000', 'workers=2']).overrides], 'zoo.cfg', 2);
  assert.equal(cfg.clientPort, 3000);
  assert.equal(cfg.workers, 2);
});

test('workers=auto picks from the core count', () => {
  assert.equal(autoWorkers(1), 0);
  assert.equal(autoWorkers(2), 0);
  assert.equal(autoWorkers(3), 1);
  assert.equal(autoWorkers(8), 3);
  assert.equal(buildConfig(lines('dataDir=/x\n'), null, 2).workers, 0);
  assert.equal(buildConfig(lines('dataDir=/x\n'), null, 4).workers, 1);
});

test('the command line: -c, --port, --data-dir, key=value, --help, --version; bad options are errors', () => {
  const a = parseArgs(['-c', 'my.cfg', '--port=2190', '--data-dir', '/d', 'tickTime=100']);
  assert.equal(a.configFile, 'my.cfg');
  assert.deepEqual(a.overrides.map((o) => `${o.key}=${o.value}`), ['clientPort=2190', 'dataDir=/d', 'tickTime=100']);
  assert.equal(parseArgs(['--help']).command, 'help');
  assert.equal(parseArgs(['-v']).command, 'version');
  assert.throws(() => parseArgs(['--frobnicate']), /unknown option/);
  assert.throws(() => parseArgs(['tickTime']), /expected key=value/);
  assert.throws(() => parseArgs(['--port']), /needs a value/);
});
