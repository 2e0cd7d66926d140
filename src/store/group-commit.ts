/**
 * Group commit: concurrent requests share one transaction, each in a savepoint of its own, and
 * each is answered only once that transaction has committed. An OpenCity core posts every
 * change as its own request, 32 at a time; one transaction each cost a BEGIN and a COMMIT per
 * event (20 % of a one-process SQLite profile, a round trip and a WAL flush each on
 * PostgreSQL). A request that fails (a duplicate id, a conflict) is rolled back to its
 * savepoint and rejected with its own error; the others commit (the group runs without
 * savepoints first, and again with them only when one fails: runGroup). If the commit itself
 * fails, every request of the group is rejected: nothing of it was written.
 *
 * A group waits for company while requests keep arriving, a turn of the event loop at a time,
 * for at most 2 ms (GATHER_MS): posts on connections of their own arrive a turn apart.
 *
 * At most `concurrency` groups are open at once (1 on SQLite, which serialises transactions
 * anyway; a few on PostgreSQL, so round trips overlap), each of at most `maxWeight` units (events).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Db } from './db.js';

/**
 * How long a group may wait for company, and up to how many events. Node accepts one connection
 * per turn of its event loop (libuv >= 1.45, libuv#3696), so posts that each come on a new
 * connection, as an OpenCity core's PHP workers send them, reach the queue one turn apart: every
 * group was of one, its BEGIN, COMMIT and webhooks read paid by a single event. Waiting while
 * each turn brings another, up to 2 ms or 16 events, made groups of 4–7 there. Bench, ingest
 * alone, a connection per POST, three runs each: 594–710 → 1,071–1,203 events/s, API CPU
 * 7.3–8.8 → 4.3–4.7 s per 5,000; one process end to end 485–515 → 522–706 deliveries/s.
 * Connections kept alive bring a whole group in one turn: unchanged (1,566–1,703 and
 * 1,279–1,775 ev/s).
 */
export const GATHER_MS = 2;
export const GATHER_UPTO = 16;

interface Waiting<I, O> {
  input: I;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitOptions<I, O, S> {
  /**
   * The work of one request, inside the shared transaction. `shared` is one object per group
   * (made by `newShared`: what every request of the group reads, such as a tenant's webhooks).
   */
  work: (t: Db, input: I, shared: S) => Promise<O>;
  newShared: () => S;
  /** Once per group, before any request's work, inside the transaction (locks and reads the group needs). */
  begin?: (t: Db, inputs: I[], shared: S) => Promise<void>;
  /**
   * Once per group run together, after `begin`: writes made for all its requests at once (the
   * rows of its events). Never when the group runs apart, where each request's writes must stay
   * inside its own savepoint; a failure here makes the group run apart, as a request's would.
   */
  beginTogether?: (t: Db, inputs: I[], shared: S) => Promise<void>;
  /**
   * Writes the work left in `shared` for the group's end (held-writes.ts): once after every
   * request's work, or, when the group runs a savepoint per request, after each request's work
   * inside its savepoint, so that a request rolled back takes its held writes with it.
   */
  settle?: (t: Db, shared: S) => Promise<void>;
  /** Forgets what a request rolled back to its savepoint left in `shared` for settle. */
  drop?: (shared: S) => void;
  /** Once per group, after every request's work, inside the transaction (a NOTIFY). */
  after?: (t: Db, outs: O[]) => Promise<void>;
  weight: (input: I) => number;
  maxWeight: number;
  concurrency: number;
}

export class GroupCommit<I, O, S> {
  private readonly queue: Waiting<I, O>[] = [];
  private open = 0;
  private scheduled = false;

  constructor(private readonly db: Db, private readonly o: GroupCommitOptions<I, O, S>) {}

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      // A group starts on the next turn of the event loop, not at once: on SQLite a group runs
      // in microtasks only, so no request read meanwhile could join it, and groups were of one.
      // Deferred, every request read from the sockets in this turn joins the same group.
      if (this.open < this.o.concurrency && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          void this.drain();
        });
      }
    });
  }

  /** Runs groups while requests wait; several drains run at once up to `concurrency`. */
  private async drain(): Promise<void> {
    this.open++;
    try {
      while (this.queue.length > 0) {
        await this.gather();
        await this.runGroup(this.take());
        // Let the sockets be read before the next group, so that it is a full one. (Without this
        // turn, gather's alone, kept-alive connections made smaller groups in two runs: 324–348 claims
        // against 266–271 end to end in one process, 893 / 1,019 against 1,063 / 1,032 deliveries/s.)
        await nextTurn();
      }
    } finally {
      this.open--;
    }
  }

  /**
   * Waits, a turn of the event loop at a time, while requests keep joining: until a turn brings
   * none, GATHER_UPTO events wait, or GATHER_MS have passed (see there). A request alone waits
   * one turn.
   */
  private async gather(): Promise<void> {
    const start = performance.now();
    let seen = this.queue.length;
    while (!this.waiting(Math.min(GATHER_UPTO, this.o.maxWeight)) && performance.now() - start < GATHER_MS) {
      await nextTurn();
      if (this.queue.length === seen) return;
      seen = this.queue.length;
    }
  }

  /** Do at least `weight` units wait? Reads only as much of the queue as it takes to know. */
  private waiting(weight: number): boolean {
    let w = 0;
    for (const q of this.queue) {
      w += this.o.weight(q.input);
      if (w >= weight) return true;
    }
    return false;
  }

  /** The next group: waiting requests in arrival order up to maxWeight (at least one). */
  private take(): Waiting<I, O>[] {
    let weight = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || weight + this.o.weight(this.queue[n].input) <= this.o.maxWeight)) {
      weight += this.o.weight(this.queue[n].input);
      n++;
    }
    return this.queue.splice(0, n);
  }

  /**
   * One group, optimistically in one go: no savepoints. A savepoint per request cost each event
   * a copy of every page it touched in SQLite's sub-journal (65 KiB written to a temp file per
   * event, of 304 KiB in all) and two round trips on PostgreSQL. Should a request fail, its
   * half-done writes cannot be undone alone: the whole group is rolled back and run again, a
   * savepoint per request, so that only the failing ones are rejected (rare: a conflict, a
   * duplicate slug).
   */
  private async runGroup(group: Waiting<I, O>[]): Promise<void> {
    let answers: (() => void)[];
    try {
      answers = await this.db.tx((t) => this.together(t, group));
    } catch (err) {
      if (!(err instanceof OneFailed)) {
        for (const w of group) w.reject(err);
        return;
      }
      try {
        answers = await this.db.tx((t) => this.apart(t, group));
      } catch (err2) {
        for (const w of group) w.reject(err2);
        return;
      }
    }
    for (const answer of answers) answer();
  }

  /** Every request's work, no savepoint: the first failure aborts the run (OneFailed, or alone its own error). */
  private async together(t: Db, group: Waiting<I, O>[]): Promise<(() => void)[]> {
    const outs: O[] = [];
    const shared = await this.started(t, group);
    try {
      if (this.o.beginTogether) await this.o.beginTogether(t, group.map((w) => w.input), shared);
      for (const w of group) outs.push(await this.o.work(t, w.input, shared));
      if (this.o.settle) await this.o.settle(t, shared);
    } catch (err) {
      // Alone, the request's own error rejects it; in a group the others must be run again.
      throw group.length === 1 ? err : new OneFailed(err);
    }
    if (this.o.after) await this.o.after(t, outs);
    return group.map((w, i) => () => w.resolve(outs[i]));
  }

  /** The group's shared object, begun (a failure there fails the whole group: no request's work ran). */
  private async started(t: Db, group: Waiting<I, O>[]): Promise<S> {
    const shared = this.o.newShared();
    if (this.o.begin) await this.o.begin(t, group.map((w) => w.input), shared);
    return shared;
  }

  /** Every request in a savepoint of its own: a failing one is rolled back and rejected, the others commit. */
  private async apart(t: Db, group: Waiting<I, O>[]): Promise<(() => void)[]> {
    const answers: (() => void)[] = [];
    const outs: O[] = [];
    const shared = await this.started(t, group);
    for (const w of group) {
      await t.execute('SAVEPOINT grouped');
      try {
        const out = await this.o.work(t, w.input, shared);
        if (this.o.settle) await this.o.settle(t, shared);
        await t.execute('RELEASE SAVEPOINT grouped');
        outs.push(out);
        answers.push(() => w.resolve(out));
      } catch (err) {
        this.o.drop?.(shared);
        await t.execute('ROLLBACK TO SAVEPOINT grouped');
        await t.execute('RELEASE SAVEPOINT grouped');
        answers.push(() => w.reject(err));
      }
    }
    if (this.o.after) await this.o.after(t, outs);
    return answers;
  }
}

/** A request of an optimistic group failed: the group is rolled back and run again apart. */
class OneFailed extends Error {
  constructor(cause: unknown) {
    super('a request of the group failed', { cause });
  }
}
