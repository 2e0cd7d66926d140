/**
 * The database port: one way to run SQL and one way to run a transaction. Both SQLite and
 * PostgreSQL drivers implement it, and the whole store is written once on top of it (the
 * pg-boss lesson: a narrow port keeps adapters short). SQL is written with `?` placeholders;
 * the PostgreSQL driver numbers them.
 */
export type Dialect = 'sqlite' | 'postgres';

export type SqlValue = string | number | bigint | null | Buffer;

export interface Db {
  readonly dialect: Dialect;
  /** Runs one statement; rows for a query (or `RETURNING`), [] otherwise. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs one statement and says how many rows it changed. */
  execute(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Runs `fn` in one transaction: all of it is written, or none of it. */
  tx<T>(fn: (db: Db) => Promise<T>, opts?: TxOptions): Promise<T>;
  close(): Promise<void>;
  /**
   * SQLite: a number that changes when another connection (another process) commits; reading it
   * costs no I/O. Lets a dispatcher notice work queued by another process without polling rows.
   */
  dataVersion?(): number;
  /**
   * PostgreSQL, inside a transaction: `NOTIFY channel` when it commits, sent with the COMMIT (no
   * round trip of its own). Absent elsewhere: a caller then runs `pg_notify` itself.
   */
  notifyOnCommit?(channel: string): void;
}

export interface TxOptions {
  /**
   * PostgreSQL: commit without waiting for the WAL flush (`synchronous_commit = off` for this
   * transaction only), for the dispatcher's claims, attempt outcomes and lease renewals. Should
   * the database crash in the next few ms, what is lost is a claim or an outcome, and the
   * delivery is simply sent again (at least once, never zero); events themselves are always
   * committed synchronously. Measured: the dispatcher waited on fsync most of its time. SQLite
   * (synchronous = NORMAL in WAL mode) already commits so.
   */
  relaxed?: boolean;
}

/** Raised when a unique constraint refuses a write. Drivers translate their own codes to it. */
export class UniqueViolation extends Error {
  constructor(message: string, readonly constraint?: string) {
    super(message);
    this.name = 'UniqueViolation';
  }
}
