/**
 * Serves the dashboard (web/, built by Vite into dist/web) at `/`.
 *
 * The dashboard routes in the browser, so a client path such as /webhooks/wh_1 answers
 * index.html. Paths the server owns (/api, /in, /docs…) never do: an unknown /api path is still
 * a problem+json 404, as API clients expect. A missing asset (a name with an extension) is a
 * 404 too, not index.html, so a stale tab asking for an old bundle fails loudly.
 *
 * When dist/web is missing (the dashboard was not built), `/` says how to build it.
 */
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { existsSync, statSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/src/http/dashboard.js → dist/web. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

/** Prefixes answered by the API and the inspector, never by the dashboard. */
export const SERVER_PATHS = ['/api', '/in', '/ingest', '/public', '/docs', '/openapi.json', '/metrics', '/healthz', '/readyz'];

export function isServerPath(path: string): boolean {
  return SERVER_PATHS.some((p) => path === p || path.startsWith(`${p}/`));
}

export const NOT_BUILT_TEXT =
  'The messo dashboard is not built. Run `npm run build` (or `npm start`, which builds it) in the messo folder, then reload.\n' +
  'Il pannello di messo non è stato compilato: esegui `npm run build` (o `npm start`) nella cartella di messo e ricarica.\n';

/** The page loads only its own bundle and talks only to this server. */
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export function dashboardPlugin(opts: { dir?: string } = {}): FastifyPluginAsync {
  const dir = opts.dir ?? DEFAULT_DASHBOARD_DIR;
  return async (app) => {
    const built = existsSync(join(dir, 'index.html'));
    if (built) await app.register(fastifyStatic, { root: dir, serve: false });

    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const path = decodeURIComponentSafe(request.url.split('?')[0]);
      if (path === null || isServerPath(path)) return reply.callNotFound();
      if (!built) return reply.type('text/plain; charset=utf-8').send(NOT_BUILT_TEXT);
      const file = assetOf(dir, path);
      if (file) {
        // Vite puts a content hash in every name under assets/: cache those for good.
        const immutable = file.startsWith(`assets${sep}`) || file.startsWith('assets/');
        reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
        return reply.sendFile(file, { cacheControl: false });
      }
      if (/\.[A-Za-z0-9]{1,8}$/.test(path) && path !== '/index.html') return reply.callNotFound();
      reply.header('cache-control', 'no-cache');
      reply.header('content-security-policy', CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      return reply.sendFile('index.html', { cacheControl: false });
    };
    app.get('/', { schema: { hide: true } }, handler);
    app.get('/*', { schema: { hide: true } }, handler);
  };
}

function decodeURIComponentSafe(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** The file under dir that the path names, relative to dir, or null (directories, escapes, index.html). */
function assetOf(dir: string, path: string): string | null {
  const rel = normalize(path).replace(/^[/\\]+/, '');
  if (rel === '' || rel === 'index.html' || rel.startsWith('..')) return null;
  const full = join(dir, rel);
  if (!full.startsWith(dir.endsWith(sep) ? dir : dir + sep)) return null;
  try {
    return statSync(full).isFile() ? rel : null;
  } catch {
    return null;
  }
}
