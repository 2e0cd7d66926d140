/**
 * In-process notice that a bin received a capture, so live streams in this process send it at
 * once. It only says "look now": streams always read the store from their own cursor, and
 * also poll it, so a capture received by another process sharing the database still arrives
 * (a second later), and a missed notice loses nothing.
 *
 * One bus per store object, not per module: tests run several servers in one process.
 */
import { EventEmitter } from 'node:events';

const buses = new WeakMap<object, EventEmitter>();

export function busFor(store: object): EventEmitter {
  let bus = buses.get(store);
  if (!bus) {
    bus = new EventEmitter();
    // One listener per open stream; a busy bin may have many viewers.
    bus.setMaxListeners(0);
    buses.set(store, bus);
  }
  return bus;
}
