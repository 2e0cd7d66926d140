import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMessage, MESSAGE_FIELDS, renderMessage } from './message.js';

describe('messages', () => {
  it('are created with the core fifteen keys, subject and email included', () => {
    const m = createMessage({
      id: 'm-1', applicationId: 'app-1', nowMs: Date.UTC(2025, 5, 5, 7, 30), message: '<p>Serve la ricevuta</p>',
      subject: 'Integrazione', email: 'giulia.bianchi@example.org', author: 'op-1',
    });
    assert.deepEqual(Object.keys(m), [...MESSAGE_FIELDS]);
    assert.deepEqual(renderMessage(m), m, 'a record renders as itself');
    assert.deepEqual([m.subject, m.email, m.visibility, m.created_at, m.sent_at, m.read_at, m.protocol_required],
      ['Integrazione', 'giulia.bianchi@example.org', 'applicant', '2025-06-05T09:30:00+02:00', '2025-06-05T09:30:00+02:00', null, false]);
  });

  it('render any record in the core shape: dates as Rome date-times, 0 as never, lists as lists', () => {
    const out = renderMessage({ id: 'm', message: 'x', application: 'a', created_at: 1749108600, read_at: 0, clicked_at: '', attachments: null, protocol_number: 42, extra: 'dropped' });
    assert.deepEqual(Object.keys(out), [...MESSAGE_FIELDS]);
    assert.deepEqual([out.created_at, out.read_at, out.clicked_at, out.attachments, out.protocol_number, out.protocol_required],
      ['2025-06-05T09:30:00+02:00', null, null, [], '42', null]);
  });
});
