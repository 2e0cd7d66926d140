import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { attemptId } from './outcomes.js';

describe('attempt ids', () => {
  it('are the same for the same attempt, and sort by when it started (the index on them grows at its end)', () => {
    const a = { deliveryId: 'msg_p5jXN8AQM9LWM0D4loKW', attempt: 1, startedAt: 1_764_547_200_000 };
    assert.equal(attemptId(a), attemptId({ ...a }), 'a flush written twice logs the attempt once');
    assert.equal(attemptId(a), 'att_0mimdudc0_p5jXN8AQM9LWM0D4loKW_1');
    const starts = [0, 35, 36, 1_000_000_000_000, a.startedAt, a.startedAt + 1, Date.UTC(2100, 0, 1)];
    const ids = starts.map((startedAt, i) => attemptId({ deliveryId: `msg_${'zyxwvutsrq'[i]}`, attempt: 9 - i, startedAt }));
    assert.deepEqual([...ids].sort(), ids, 'in the order of their starts, whatever their deliveries and numbers');
  });
});
