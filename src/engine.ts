/** What runs next to the API in `messo serve` (and alone in `messo worker`): filled in by the delivery engine. */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { AppContext } from '../http/context.js';

export function engineFor(_config: Config, _opts: { api: boolean }) {
  return async (_ctx: AppContext, _log: Logger): Promise<{ stop(): Promise<void> } | void> => undefined;
}
