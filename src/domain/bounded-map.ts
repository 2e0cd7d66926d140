/**
 * Sets `key` in a map kept to at most `max` entries: the oldest set goes first (a Map keeps
 * insertion order), and a key set again counts as new. The memos of hot paths (recent API keys,
 * opened secrets, Rome's offset per hour) stay bounded this way.
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  if (map.size >= max) map.delete(map.keys().next().value as K);
  map.set(key, value);
}
