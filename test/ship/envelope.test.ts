import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { deterministicId } from '../../src/ship/envelope';

describe('deterministicId', () => {
  it('is the base64url SHA-1 of the parts joined by NUL, as ids written by earlier versions (a re-read line must come back a 409)', () => {
    const parts = ['a'.repeat(64), 'stdout', 1796299161, 955896268, 0] as const;
    assert.equal(deterministicId(...parts), createHash('sha1').update(parts.join('\u0000')).digest('base64url'));
    // Fixed: an id scheme change would double every line read again after an upgrade.
    assert.equal(deterministicId('a', 1, 'b'), '-vVHKdH5VEK63ttwpgqzypzc7gU');
    assert.notEqual(deterministicId('a', 'b'), deterministicId('a\u0000b'.slice(0, 1), 'b', ''));
  });
});
