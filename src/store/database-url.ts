/**
 * Database URLs, read as text: no driver loaded. `new URL` refuses libpq's empty host
 * (`postgres://user@/db?host=/run/postgresql`, a Unix socket), which node-postgres accepts; a
 * URL is therefore taken apart at its `?` here, never rebuilt from a parsed URL, so every form
 * node-postgres reads passes through as it was written.
 */

/** The URL's part before its query, and its query parameters. */
function split(url: string): { head: string; params: URLSearchParams | null } {
  const q = url.indexOf('?');
  return q === -1 ? { head: url, params: null } : { head: url.slice(0, q), params: new URLSearchParams(url.slice(q + 1)) };
}

const join = (head: string, params: URLSearchParams | null): string => (params && params.size > 0 ? `${head}?${params}` : head);

/**
 * A URL safe to print: the password replaced by `***`, in the user info and in any query
 * parameter named like one (node-postgres reads `?password=`, libpq `?sslpassword=`).
 */
export function redactUrl(url: string): string {
  const { head, params } = split(url);
  const shown = head.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
  if (params) for (const k of [...params.keys()]) if (/password/i.test(k)) params.set(k, '***');
  return join(shown, params);
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
