/**
 * Secrets shown once (a new webhook's signing secret) pass from one page to the next in memory
 * only: never in the URL, never in storage. A reload loses them, as "shown once" means.
 */
const secrets = new Map<string, string>();

export function keepSecretFor(id: string, secret: string): void {
  secrets.set(id, secret);
}

export function takeSecretFor(id: string): string | null {
  const s = secrets.get(id) ?? null;
  secrets.delete(id);
  return s;
}
