import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathError, parentPath } from '../../src/tree/paths.js';
import { checkACL, digestId, fixupACL, authenticate } from '../../src/tree/acl.js';
import { Err, KeeperError } from '../../src/jute/errors.js';
import { Perms } from '../../src/jute/opcodes.js';

test('path validation follows Apache\'s PathUtils', () => {
  const valid = ['/', '/a', '/a/b', '/a.b', '/.a', '/a/...', '/a-b_c', '/zoo/日本'];
  const invalid = ['', 'a', '//a', '/a/', '/a//b', '/.', '/..', '/a/.', '/a/..', '/a/./b', '/a\u0000b', '/a\u0001', '/a\u007f',
    '/a\u0085', '/a\ud83d\ude00', '/a\ue000', '/a\ufffd', '/a\uffff'];
  for (const p of valid) assert.equal(pathError(p), null, JSON.stringify(p));
  for (const p of invalid) assert.notEqual(pathError(p), null, JSON.stringify(p));
  assert.equal(parentPath('/a'), '');
  assert.equal(parentPath('/a/b'), '/a');
});

test('digest ids match Apache\'s DigestAuthenticationProvider', () => {
  assert.equal(digestId('alice:secret'), 'alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=');
  assert.equal(digestId('super:s3cr:et'), 'super:70t3PTqmkv+kk3WbOOkZ0+m1z0w=');
});

test('fixupACL: empty or unknown schemes are INVALIDACL; auth expands to authenticated ids only', () => {
  const ip = [{ scheme: 'ip', id: '127.0.0.1' }];
  const code = (f: () => unknown) => { try { f(); return 0; } catch (e) { return (e as KeeperError).code; } };
  assert.equal(code(() => fixupACL('/x', ip, [])), Err.INVALIDACL);
  assert.equal(code(() => fixupACL('/x', ip, null)), Err.INVALIDACL);
  assert.equal(code(() => fixupACL('/x', ip, [{ perms: 31, id: { scheme: 'world', id: 'someone' } }])), Err.INVALIDACL);
  assert.equal(code(() => fixupACL('/x', ip, [{ perms: 31, id: { scheme: 'digest', id: 'nocolon' } }])), Err.INVALIDACL);
  assert.equal(code(() => fixupACL('/x', ip, [{ perms: 31, id: { scheme: 'ip', id: '300.1.1.1' } }])), Err.INVALIDACL);
  assert.equal(code(() => fixupACL('/x', ip, [{ perms: 31, id: { scheme: 'auth', id: '' } }])), Err.INVALIDACL);
  const withDigest = [...ip, { scheme: 'digest', id: 'alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=' }];
  assert.deepEqual(fixupACL('/x', withDigest, [{ perms: 3, id: { scheme: 'auth', id: '' } }]),
    [{ perms: 3, id: { scheme: 'digest', id: 'alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=' } }]);
  const dup = { perms: 31, id: { scheme: 'world', id: 'anyone' } };
  assert.equal(fixupACL('/x', ip, [dup, { ...dup }]).length, 1, 'duplicates are dropped');
  assert.equal(fixupACL('/x', ip, [{ perms: 31, id: { scheme: 'ip', id: '10.0.0.0/8' } }]).length, 1);
});

test('checkACL: world, digest, ip ranges, super and skipACL', () => {
  const policy = { skipACL: false, superDigest: null };
  const me = [{ scheme: 'ip', id: '10.1.2.3' }, { scheme: 'digest', id: 'alice:x' }];
  assert.doesNotThrow(() => checkACL(policy, [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }], Perms.READ, me));
  assert.throws(() => checkACL(policy, [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }], Perms.WRITE, me), KeeperError);
  assert.doesNotThrow(() => checkACL(policy, [{ perms: Perms.ALL, id: { scheme: 'digest', id: 'alice:x' } }], Perms.DELETE, me));
  assert.throws(() => checkACL(policy, [{ perms: Perms.ALL, id: { scheme: 'digest', id: 'bob:x' } }], Perms.DELETE, me));
  assert.doesNotThrow(() => checkACL(policy, [{ perms: Perms.ALL, id: { scheme: 'ip', id: '10.0.0.0/8' } }], Perms.WRITE, me));
  assert.throws(() => checkACL(policy, [{ perms: Perms.ALL, id: { scheme: 'ip', id: '10.2.0.0/16' } }], Perms.WRITE, me));
  assert.doesNotThrow(() => checkACL(policy, [], Perms.ADMIN, me), 'an empty ACL allows everything');
  const superIds = [...me, { scheme: 'super', id: '' }];
  assert.doesNotThrow(() => checkACL(policy, [{ perms: 0, id: { scheme: 'digest', id: 'bob:x' } }], Perms.ADMIN, superIds));
  assert.doesNotThrow(() => checkACL({ skipACL: true, superDigest: null }, [{ perms: 0, id: { scheme: 'digest', id: 'bob:x' } }], Perms.ADMIN, me));
});

test('addauth digest: any password is accepted; the superDigest one also grants super', () => {
  const policy = { skipACL: false, superDigest: 'super:70t3PTqmkv+kk3WbOOkZ0+m1z0w=' };
  assert.deepEqual(authenticate(policy, 'digest', Buffer.from('alice:wrong')), [{ scheme: 'digest', id: digestId('alice:wrong') }]);
  assert.deepEqual(authenticate(policy, 'digest', Buffer.from('super:s3cr:et')),
    [{ scheme: 'super', id: '' }, { scheme: 'digest', id: 'super:70t3PTqmkv+kk3WbOOkZ0+m1z0w=' }]);
  assert.equal(authenticate(policy, 'kerberos', Buffer.from('x')), null, 'an unknown scheme fails');
});
