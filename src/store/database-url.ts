/**
 * Database URLs, with no driver loaded, read as node-postgres reads them: by `new URL`, with a
 * host stood in for libpq's empty one (`postgres://user@/db?host=/run/postgresql`, a Unix
 * socket), which `new URL` alone refuses.
 */

/** Stands for libpq's empty host while `new URL` reads a URL, as node-postgres does. */
const EMPTY_HOST = '___messo_empty_host___';

/** The URL as node-postgres reads it; throws where node-postgres would. */
function read(url: string): URL {
  try {
    return new URL(url);
  } catch {
    return new URL(url.replace('@/', `@${EMPTY_HOST}/`));
  }
}

/** The URL's text again, its empty host given back. */
const text = (u: URL): string => u.toString().replace(`@${EMPTY_HOST}/`, '@/');

/**
 * A URL safe to print: the password replaced by `***`, in the user info and in any query
 * parameter named like one (node-postgres reads `?password=`, libpq `?sslpassword=`). What
 * node-postgres would take as the password is what is hidden, `@` in it included. A URL it
 * could not read is shown as its scheme alone. `sqlite:<path>` holds no secret and is shown as it is.
 */
export function redactUrl(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0];
  if (!scheme) return url;
  let u: URL;
  try {
    u = read(url);
  } catch {
    return `${scheme}…`;
  }
  if (u.password) u.password = '***';
  for (const k of [...u.searchParams.keys()]) if (/password/i.test(k)) u.searchParams.set(k, '***');
  return text(u);
}

/** Splits our parameters (`schema`, `prepared_statements`) off a postgres:// URL; the rest goes to node-postgres. */
export function parsePostgresUrl(url: string): { url: string; schema: string | undefined; prepare: boolean } {
  const u = read(url);
  const schema = u.searchParams.get('schema') ?? undefined;
  const prepared = u.searchParams.get('prepared_statements') ?? 'true';
  if (prepared !== 'true' && prepared !== 'false') {
    throw new Error(`prepared_statements=${JSON.stringify(prepared).slice(1, -1)} in the database URL: use true or false`);
  }
  u.searchParams.delete('schema');
  u.searchParams.delete('prepared_statements');
  return { url: text(u), schema: schema === '' ? undefined : schema, prepare: prepared === 'true' };
}
