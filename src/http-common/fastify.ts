/** What every HTTP part can find on the Fastify instance: the process's runtime. */
import type { Runtime } from '../runtime.js';

declare module 'fastify' {
  interface FastifyInstance {
    runtime: Runtime;
  }
}

export {};
