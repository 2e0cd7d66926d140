/**
 * What the list pages share: a search box whose words go to the API's `q`, and the order
 * toggle (newest first by default). Both live in the URL, so a search can be shared.
 */
import { useState } from 'preact/hooks';
import { qs } from '../api.js';
import { t } from '../i18n/index.js';
import { navigate } from '../router.js';
import type { ComponentChildren } from 'preact';
import type { usePaged } from '../hooks.js';
import { Empty, fieldAttrs, FormProblem, Loading, LoadMore, ProblemBox } from './common.js';

export type Order = 'desc' | 'asc';

export const orderOf = (v: string | null): Order => (v === 'asc' ? 'asc' : 'desc');

/** Navigates to `base` with the current params and `changes` (empty values dropped). */
export function go(base: string, current: Record<string, string>, changes: Record<string, string>): void {
  navigate(`${base}${qs({ ...current, ...changes })}`);
}

export function SearchBox({ id, value, hint, onSearch, problem }: { id: string; value: string; hint: string; onSearch: (q: string) => void; problem?: unknown }) {
  const [q, setQ] = useState(value);
  return (
    <form class="search-box" role="search" onSubmit={(e) => { e.preventDefault(); onSearch(q.trim()); }} noValidate>
      <label for={id}>{t('search.label')}</label>
      <div class="search-row">
        <input {...fieldAttrs(id, problem, 'q', true)} type="search" maxLength={200} value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        <button type="submit">{t('search.submit')}</button>
      </div>
      <small id={`${id}-hint`} class="hint">{hint}</small>
    </form>
  );
}

export function OrderToggle({ order, onChange }: { order: Order; onChange: (o: Order) => void }) {
  const other: Order = order === 'desc' ? 'asc' : 'desc';
  return (
    <button type="button" class="secondary small" data-order={order} onClick={() => onChange(other)}>
      {order === 'desc' ? '↓' : '↑'} {t('order.toggle', { order: t(order === 'desc' ? 'order.newest' : 'order.oldest') })}
    </button>
  );
}

type Paged<T> = ReturnType<typeof usePaged<T>>;

/**
 * A paged list as a table: its problem (a form's, when it names filter fields), loading, the
 * empty text, the rows, then "load more" with its own problem. One shape for every list page.
 */
export function PagedTable<T>({ list, empty, head, row, fields, onRetry, live = false }: {
  list: Paged<T>; empty: ComponentChildren; head: ComponentChildren; row: (item: T) => ComponentChildren;
  /** Filter fields a problem may name (shown as a form's problem); without them, a plain problem with retry. */
  fields?: string[]; onRetry?: () => void; live?: boolean;
}) {
  return (
    <>
      {list.error ? (fields ? <FormProblem problem={list.error} fields={fields} /> : <ProblemBox problem={list.error} onRetry={onRetry} />)
        : !list.items ? <Loading />
        : list.items.length === 0 ? <Empty>{empty}</Empty>
        : (
          <div class="table-wrap">
            <table class="list" aria-live={live ? 'polite' : undefined}>
              <thead><tr>{head}</tr></thead>
              <tbody>{list.items.map(row)}</tbody>
            </table>
          </div>
        )}
      <ProblemBox problem={list.moreProblem} />
      <LoadMore cursor={list.next} loading={list.loadingMore} onClick={list.loadMore} />
    </>
  );
}
