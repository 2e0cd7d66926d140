/** Small building blocks every page uses: states, fields, chips, copy, JSON. */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiProblem, fieldMessage } from '../api.js';
import { fmtDate, t, tMaybe } from '../i18n/index.js';

export function Loading({ label }: { label?: string }) {
  return <p class="state loading" role="status" aria-live="polite"><span class="spinner" aria-hidden="true" />{label ?? t('state.loading')}</p>;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="state empty">{children}</p>;
}

/** A problem shown in full: what failed, the server's detail, and the request id to quote. */
export function ProblemBox({ problem, onRetry }: { problem: unknown; onRetry?: () => void }) {
  if (!problem) return null;
  let title = t('error.generic');
  let detail = '';
  let requestId: string | null = null;
  if (problem instanceof ApiProblem) {
    if (problem.status === 0) title = t('error.network');
    else if (problem.status === 404) title = t('error.notFound');
    else if (problem.status === 403) title = t('error.forbidden');
    else if (problem.status >= 500) title = t('error.server', { status: problem.status });
    else title = `${problem.code ? tMaybe(`problem.${problem.code}`, problem.title) : problem.title} (${problem.status})`;
    detail = problem.detail;
    requestId = problem.requestId;
  } else if (problem instanceof Error) {
    detail = problem.message;
  }
  return (
    <div class="problem" role="alert">
      <strong>{title}</strong>
      {detail && <p>{detail}</p>}
      {requestId && <p class="muted small">{t('error.requestId')}: <code>{requestId}</code></p>}
      {onRetry && <button type="button" class="secondary" onClick={onRetry}>{t('action.retry')}</button>}
    </div>
  );
}

/** The problem above a form, unless it names one of the form's own fields (shown there instead). */
export function FormProblem({ problem, fields }: { problem: unknown; fields: string[] }) {
  if (!problem) return null;
  if (fields.some((f) => fieldMessage(problem, f) !== null)) return null;
  return <ProblemBox problem={problem} />;
}

/** Attributes linking an input to its error message (screen readers announce both). */
export function fieldAttrs(id: string, problem: unknown, name: string, hint = false) {
  const error = fieldMessage(problem, name) !== null;
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return { id, name, 'aria-invalid': error ? ('true' as const) : undefined, 'aria-describedby': describedBy || undefined };
}

export function Field(props: { id: string; label: string; name?: string; problem?: unknown; hint?: string; children: ComponentChildren; class?: string }) {
  const msg = props.name ? fieldMessage(props.problem, props.name) : null;
  return (
    <div class={`field ${props.class ?? ''} ${msg ? 'has-error' : ''}`}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint && <small id={`${props.id}-hint`} class="hint">{props.hint}</small>}
      {msg && <p class="field-error" id={`${props.id}-error`}>{msg}</p>}
    </div>
  );
}

/** An error for a group of inputs without one label (checkbox lists, header rows). */
export function GroupError({ problem, name, id }: { problem: unknown; name: string; id?: string }) {
  const msg = fieldMessage(problem, name);
  return msg ? <p class="field-error" id={id}>{msg}</p> : null;
}

const STATUS_TONE: Record<number, string> = {
  1000: 'grey', 1500: 'amber', 1510: 'amber', 1520: 'blue', 1530: 'red', 1900: 'blue', 2000: 'blue', 3000: 'blue', 4000: 'violet',
  4100: 'amber', 4200: 'amber', 4300: 'blue', 4400: 'blue', 4500: 'violet', 5000: 'violet', 6000: 'green', 7000: 'green',
  8000: 'red', 9000: 'red', 20000: 'grey', 50000: 'grey',
};

export function statusLabel(code: number): string {
  return tMaybe(`status.${code}`, String(code));
}

export function StatusChip({ code }: { code: number }) {
  return <span class={`chip tone-${STATUS_TONE[code] ?? 'grey'}`} title={String(code)}><span class="chip-code">{code}</span> {statusLabel(code)}</span>;
}

const DELIVERY_TONE: Record<string, string> = { pending: 'amber', sending: 'blue', succeeded: 'green', failed: 'red', cancelled: 'grey' };

export function DeliveryChip({ status }: { status: string }) {
  return <span class={`chip tone-${DELIVERY_TONE[status] ?? 'grey'}`} data-status={status}>{tMaybe(`delivery.status.${status}`, status)}</span>;
}

export function Chip({ tone, children }: { tone: string; children: ComponentChildren }) {
  return <span class={`chip tone-${tone}`}>{children}</span>;
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Without clipboard permission: the old way, through a selected textarea.
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.appendChild(ta);
    ta.select();
    const ok = document.execCommand('copy');
    ta.remove();
    return ok;
  }
}

export function CopyButton({ text, label }: { text: string | (() => Promise<string>); label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const onClick = async () => {
    const value = typeof text === 'string' ? text : await text();
    setState((await copyText(value)) ? 'copied' : 'failed');
    setTimeout(() => setState('idle'), 2000);
  };
  return (
    <button type="button" class="secondary small" onClick={onClick} aria-live="polite">
      {state === 'copied' ? t('action.copied') : state === 'failed' ? t('action.copyFailed') : label ?? t('action.copy')}
    </button>
  );
}

export function When({ at }: { at: string | number | null | undefined }) {
  if (at === null || at === undefined) return <span>—</span>;
  return <time dateTime={typeof at === 'string' ? at : new Date(at).toISOString()}>{fmtDate(at)}</time>;
}

/** A JSON tree: objects and arrays fold (keyboard: summary elements), values keep their type colour. */
export function JsonView({ value, openDepth = 2, toggle = true }: { value: unknown; openDepth?: number; toggle?: boolean }) {
  const [raw, setRaw] = useState(false);
  const text = JSON.stringify(value, null, 2) ?? 'undefined';
  return (
    <div class="json-view">
      <div class="toolbar">
        {toggle && <button type="button" class="secondary small" aria-pressed={raw} onClick={() => setRaw(!raw)}>{raw ? t('json.tree') : t('json.raw')}</button>}
        <CopyButton text={text} label={t('json.copy')} />
      </div>
      {raw ? <pre class="code">{text}</pre> : <div class="json-tree"><JsonNode value={value} depth={0} openDepth={openDepth} /></div>}
    </div>
  );
}

function JsonNode({ name, value, depth, openDepth }: { name?: string; value: unknown; depth: number; openDepth: number }) {
  const label = name !== undefined ? <span class="j-key">{JSON.stringify(name)}: </span> : null;
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>);
    const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
    if (entries.length === 0) return <div class="j-line">{label}<span class="j-punct">{open}{close}</span></div>;
    return (
      <details open={depth < openDepth} class="j-node">
        <summary>{label}<span class="j-punct">{open}</span><span class="j-count">{t('json.items', { n: entries.length })}</span><span class="j-punct j-close-inline">{close}</span></summary>
        <div class="j-children">
          {entries.map(([k, v]) => <JsonNode key={k} name={Array.isArray(value) ? undefined : k} value={v} depth={depth + 1} openDepth={openDepth} />)}
        </div>
        <span class="j-punct">{close}</span>
      </details>
    );
  }
  const cls = value === null ? 'j-null' : typeof value === 'string' ? 'j-str' : typeof value === 'number' ? 'j-num' : 'j-bool';
  return <div class="j-line">{label}<span class={cls}>{JSON.stringify(value)}</span></div>;
}

export interface TimelineItem {
  key: string;
  tone: string;
  title: ComponentChildren;
  at?: string | number | null;
  body?: ComponentChildren;
}

export function Timeline({ items, label }: { items: TimelineItem[]; label: string }) {
  return (
    <ol class="timeline" aria-label={label}>
      {items.map((i) => (
        <li key={i.key} class={`tone-${i.tone}`}>
          <span class="dot" aria-hidden="true" />
          <div class="tl-head"><span class="tl-title">{i.title}</span>{i.at !== undefined && <When at={i.at} />}</div>
          {i.body && <div class="tl-body">{i.body}</div>}
        </li>
      ))}
    </ol>
  );
}

export function Section({ title, children, actions, id }: { title: string; children: ComponentChildren; actions?: ComponentChildren; id?: string }) {
  return (
    <section class="card" aria-labelledby={id}>
      <div class="card-head"><h2 id={id}>{title}</h2>{actions && <div class="actions">{actions}</div>}</div>
      {children}
    </section>
  );
}

/** A definition list of label → value pairs. */
export function Facts({ rows }: { rows: [string, ComponentChildren][] }) {
  return (
    <dl class="facts">
      {rows.map(([k, v]) => (
        <div key={k}><dt>{k}</dt><dd>{v ?? '—'}</dd></div>
      ))}
    </dl>
  );
}

export function LoadMore({ cursor, loading, onClick }: { cursor: string | null; loading: boolean; onClick: () => void }) {
  if (!cursor) return null;
  return <p class="center"><button type="button" class="secondary" disabled={loading} onClick={onClick}>{loading ? t('state.loading') : t('action.loadMore')}</button></p>;
}
