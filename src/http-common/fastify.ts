/** What every HTTP part can find on the Fastify instance (the process's runtime) and on a request. */
import type { Runtime } from '../runtime.js';

declare module 'fastify' {
  interface FastifyInstance {
    runtime: Runtime;
  }
  interface FastifyRequest {
    /** The tenant the request acts for, once known (auth, X-Tenant-Id, ingest token): logged. */
    tenantId: string | null;
    /** The problem code it was refused with, if any: logged with the request. */
    problem: string | null;
  }
}

export {};
