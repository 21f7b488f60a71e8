// Session passwords must be the bytes Apache ZooKeeper derives
// (new java.util.Random(sessionId ^ 0xB3415C00L).nextBytes(16)), or a session
// could not move between Apache and zoonode. The expected values were printed
// by that Java expression on OpenJDK 17.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sessionPassword } from '../../src/util/java-random.js';

const fromJava: [bigint, string][] = [
  [0n, 'f22acd4a97e69d6d20a49bb638eadb38'],
  [1n, '054cc74a37327db215e702e20c73f005'],
  [-1n, '20f62cb5648dc2d771471c8a2486a9ee'],
  [9223372036854775807n, '20f62cb5648dc2d771471c8a2486a9ee'],
  [-9223372036854775808n, 'f22acd4a97e69d6d20a49bb638eadb38'],
  [117724395393187844n, '4f6dffcb5448f0c3ee4e44878c738045'],
  [72069049219809281n, 'e90cc8294b2b4cdd99ec5a0640640f22'],
  [72057594037927936n, 'f22acd4a97e69d6d20a49bb638eadb38'],
  [-6148914691236517206n, '88209b885bb371f0eb07230daaad7080'],
];

test('session passwords match java.util.Random as Apache seeds it', () => {
  for (const [id, hex] of fromJava) assert.equal(Buffer.from(sessionPassword(id)).toString('hex'), hex, `session 0x${BigInt.asUintN(64, id).toString(16)}`);
});
