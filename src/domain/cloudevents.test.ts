import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeHeaderValue, toBinaryMode } from './cloudevents.js';

describe('CloudEvents binary mode', () => {
  it('percent-encodes space, quote, percent and non-ASCII in header values (UTF-8)', () => {
    assert.equal(encodeHeaderValue('app-1'), 'app-1');
    assert.equal(encodeHeaderValue('Città di "Prova" 100%'), 'Citt%C3%A0%20di%20%22Prova%22%20100%25');
  });

  it('moves the attributes to ce-* headers and sends data alone', () => {
    const b = toBinaryMode(JSON.stringify({
      specversion: '1.0', id: 'e1', source: 'urn:messo:tenant:t1', type: 'it.opencity.application.created',
      subject: 'città', time: '2025-01-01T00:00:00.000Z', datacontenttype: 'application/json', data: { a: 1 },
    }));
    assert.ok(b);
    assert.deepEqual(b.headers, {
      'ce-specversion': '1.0', 'ce-id': 'e1', 'ce-source': 'urn:messo:tenant:t1', 'ce-type': 'it.opencity.application.created',
      'ce-subject': 'citt%C3%A0', 'ce-time': '2025-01-01T00:00:00.000Z',
    });
    assert.equal(b.contentType, 'application/json');
    assert.equal(b.body, '{"a":1}');
  });

  it('leaves what is not a structured CloudEvent alone', () => {
    assert.equal(toBinaryMode('not json'), null);
    assert.equal(toBinaryMode('[1]'), null);
    assert.equal(toBinaryMode('{"type":"x"}'), null);
  });
});
