import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getter } from '../../src/detect/condition';
import { CUT_MARK, fieldView, inDocument, MATCH_HEAD, MATCH_TAIL, MAX_MATCH } from '../../src/detect/match-window';

const view = (v: unknown) => fieldView({ v }, 'v', getter('v'));

describe('match windows', () => {
  it('keeps a field within MAX_MATCH whole, and cuts a longer one to its head and tail', () => {
    const short = 'x'.repeat(MAX_MATCH);
    assert.deepEqual(view(short).texts, [short]);
    assert.equal(view(short).cut, false);
    const long = 'h'.repeat(MATCH_HEAD) + 'm'.repeat(50_000) + 't'.repeat(MATCH_TAIL);
    const v = view(long);
    assert.equal(v.cut, true);
    assert.equal(v.length, long.length);
    assert.deepEqual(v.texts, ['h'.repeat(MATCH_HEAD) + CUT_MARK + 't'.repeat(MATCH_TAIL)]);
  });

  it('counts an array as one text: middle elements are left out, the ones on a boundary are cut and marked', () => {
    const el = (c: string, n: number) => c.repeat(n);
    const values = [el('a', 100), el('b', MATCH_HEAD), el('c', 20_000), el('d', MATCH_TAIL - 50), el('e', 100)];
    const v = view(values);
    assert.equal(v.cut, true);
    // a and e whole; b cut where the head window ends; c (the middle) left out; d cut where the tail window starts.
    assert.deepEqual(v.texts, [el('a', 100), el('b', MATCH_HEAD - 100) + CUT_MARK, CUT_MARK + el('d', MATCH_TAIL - 100), el('e', 100)]);
    assert.equal(v.texts.join('').split(CUT_MARK).join('').length, MATCH_HEAD + MATCH_TAIL);
  });

  it('takes strings, numbers and booleans as values and leaves objects out', () => {
    const v = view(['a', 1, true, { toString: 'x' }, JSON.parse('{"valueOf":1}'), [2]]);
    assert.deepEqual(v.texts, ['a', '1', 'true']);
    assert.equal(v.values.length, 6);
  });

  it('answers literal questions once per view, lower-cased', () => {
    const v = view(['Curl -s http://X', 'SH']);
    assert.deepEqual(v.lower(), ['curl -s http://x', 'sh']);
    assert.equal(v.has('curl'), true);
    assert.equal(v.has('wget'), false);
    assert.equal(v.lower(), v.lower(), 'lower-cased once');
  });

  it('shares one view per field inside inDocument, and none outside it', () => {
    const doc = { process: { command_line: 'sh -c id' } };
    const get = getter('process.command_line');
    assert.notEqual(fieldView(doc, 'process.command_line', get), fieldView(doc, 'process.command_line', get));
    inDocument(doc, () => {
      const a = fieldView(doc, 'process.command_line', get);
      assert.equal(fieldView(doc, 'process.command_line', get), a);
      const other = { process: { command_line: 'ls' } };
      inDocument(other, () => assert.deepEqual(fieldView(other, 'process.command_line', get).texts, ['ls']));
      assert.equal(fieldView(doc, 'process.command_line', get), a, 'the outer document keeps its views after a nested one');
      assert.notEqual(fieldView(other, 'process.command_line', get), fieldView(other, 'process.command_line', get));
    });
  });
});
