/**
 * Search by what an operator knows: the applicant's name, codice fiscale, subject, protocol
 * number, and the short id the lists show (the first 8 characters of a UUID). A pratica is
 * indexed as the normalised words of those fields; a query matches when each of its words is a
 * prefix of one of them. Words are lower case ASCII letters and digits (accents dropped), so a
 * word is never syntax of the stores' search queries (store/search.ts).
 */
import { isPlainObject } from './php-json.js';

/** A pratica's words beyond this are not indexed (a long subject is still found by its start). */
export const MAX_TERMS = 64;
/** Longer words are cut: a codice fiscale is 16, a UUID part 12. */
export const MAX_TERM_LENGTH = 40;
/** A query's words beyond this are ignored. */
export const MAX_QUERY_WORDS = 6;

/** Lower case, accents dropped, split on anything but a-z and 0-9. */
export function words(text: string): string[] {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0).map((w) => w.slice(0, MAX_TERM_LENGTH));
}

/** Form fields that name the applicant (flat version-1 paths). */
const NAME_KEY = /(^|\.)(name|surname|completename|fiscal_code|codice_fiscale|cf)(\.|$)/;

/** The words a pratica is found by, unique, at most MAX_TERMS. */
export function applicationTerms(doc: Record<string, unknown>): string[] {
  // The id by its short form only (the first 8 characters the lists show); a whole id in a
  // query is matched on the id itself (store/search.ts).
  const texts: string[] = typeof doc.id === 'string' ? words(doc.id).slice(0, 1) : [];
  for (const k of ['user_name', 'subject', 'protocol_number', 'outcome_protocol_number']) {
    const v = doc[k];
    if (typeof v === 'string') texts.push(v);
  }
  const data = doc.data;
  if (isPlainObject(data)) {
    for (const [k, v] of Object.entries(data)) {
      if (k.startsWith('applicant.') && NAME_KEY.test(k) && typeof v === 'string') texts.push(v);
    }
  }
  const out = new Set<string>();
  for (const t of texts) {
    for (const w of words(t)) {
      if (out.size >= MAX_TERMS) return [...out];
      out.add(w);
    }
  }
  return [...out];
}

/** The words of a query (each must prefix some term), at most MAX_QUERY_WORDS. */
export function queryWords(q: string): string[] {
  return [...new Set(words(q.slice(0, 500)))].slice(0, MAX_QUERY_WORDS);
}
