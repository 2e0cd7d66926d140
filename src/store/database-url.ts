/**
 * Database URLs, with no driver loaded. `new URL` refuses libpq's empty host
 * (`postgres://user@/db?host=/run/postgresql`, a Unix socket), which node-postgres accepts (it
 * stands a host in while it reads the URL): our parameters are therefore taken off at the `?`,
 * and the rest reaches node-postgres as it was written.
 */

/** The URL's part before its query, and its query parameters. */
function split(url: string): { head: string; params: URLSearchParams | null } {
  const q = url.indexOf('?');
  return q === -1 ? { head: url, params: null } : { head: url.slice(0, q), params: new URLSearchParams(url.slice(q + 1)) };
}

const join = (head: string, params: URLSearchParams | null): string => (params && params.size > 0 ? `${head}?${params}` : head);

/** Stands for libpq's empty host while `new URL` reads a URL, as node-postgres does. */
const EMPTY_HOST = '___messo_empty_host___';

/**
 * A URL safe to print: the password replaced by `***`, in the user info and in any query
 * parameter named like one (node-postgres reads `?password=`, libpq `?sslpassword=`). Read by the
 * rules node-postgres reads it by (`new URL`, an empty host stood in for), so that what it would
 * take as the password is what is hidden, `@` in it included. A URL those rules refuse, which
 * node-postgres could not use either, is shown as its scheme alone. `sqlite:<path>` holds no
 * secret and is shown as it is.
 */
export function redactUrl(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0];
  if (!scheme) return url;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    try {
      u = new URL(url.replace('@/', `@${EMPTY_HOST}/`));
    } catch {
      return `${scheme}…`;
    }
  }
  if (u.password) u.password = '***';
  for (const k of [...u.searchParams.keys()]) if (/password/i.test(k)) u.searchParams.set(k, '***');
  return u.toString().replace(`@${EMPTY_HOST}/`, '@/');
}

/** Splits our parameters (`schema`, `prepared_statements`) off a postgres:// URL; the rest goes to node-postgres. */
export function parsePostgresUrl(url: string): { url: string; schema: string | undefined; prepare: boolean } {
  const { head, params } = split(url);
  const schema = params?.get('schema') ?? undefined;
  const prepared = params?.get('prepared_statements') ?? 'true';
  if (prepared !== 'true' && prepared !== 'false') {
    throw new Error(`prepared_statements=${JSON.stringify(prepared).slice(1, -1)} in the database URL: use true or false`);
  }
  params?.delete('schema');
  params?.delete('prepared_statements');
  return { url: join(head, params), schema: schema === '' ? undefined : schema, prepare: prepared === 'true' };
}
