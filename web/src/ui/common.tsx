/** Small building blocks every page uses: states, fields, chips, copy, JSON. */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiProblem, fieldMessage } from '../api.js';
import { dateInputPattern, fmtDate, fmtNumber, t, tMaybe } from '../i18n/index.js';

export function Loading({ label }: { label?: string }) {
  return <p class="state loading" role="status" aria-live="polite"><span class="spinner" aria-hidden="true" />{label ?? t('state.loading')}</p>;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="state empty">{children}</p>;
}

/**
 * The headline of a problem in the interface language: the API's stable code (`type`,
 * urn:messo:problem:<code>) looked up in the catalogue; the API's own title only for a code the
 * catalogue does not know yet.
 */
export function problemTitle(problem: ApiProblem): string {
  if (problem.status === 0) return t('error.network');
  if (problem.code) return tMaybe(`problem.${problem.code}`, problem.title || t('error.generic'));
  if (problem.status === 404) return t('error.notFound');
  if (problem.status === 403) return t('error.forbidden');
  if (problem.status >= 500) return t('error.server', { status: problem.status });
  return problem.title || t('error.generic');
}

/** True when the text came from the API (English), false when the dashboard wrote it (already translated). */
const fromApi = (problem: ApiProblem) => problem.code !== null || problem.requestId !== null;

/** A problem shown in full: what failed in the interface language, the API's detail, the request id to quote. */
export function ProblemBox({ problem, onRetry }: { problem: unknown; onRetry?: () => void }) {
  if (!problem) return null;
  let title = t('error.generic');
  let detail = '';
  let apiText = false;
  let requestId: string | null = null;
  if (problem instanceof ApiProblem) {
    title = problemTitle(problem);
    detail = problem.detail;
    apiText = fromApi(problem);
    requestId = problem.requestId;
  } else if (problem instanceof Error) {
    detail = problem.message;
  }
  return (
    <div class="problem" role="alert">
      <strong>{title}</strong>
      {detail && detail !== title && <p class={apiText ? 'small' : undefined} lang={apiText ? 'en' : undefined}>{detail}</p>}
      {requestId && <p class="muted small">{t('error.requestId')}: <code>{requestId}</code></p>}
      {onRetry && <button type="button" class="secondary" onClick={onRetry}>{t('action.reload')}</button>}
    </div>
  );
}

/**
 * A field's message: the dashboard's own checks are already in the interface language; the
 * API's are in English, so they come after a translated lead, marked as English for screen readers.
 */
function FieldMessageText({ problem, msg }: { problem: unknown; msg: string }) {
  if (!(problem instanceof ApiProblem) || !fromApi(problem)) return <>{msg}</>;
  return <>{tMaybe(`problem.field.${problem.code}`, t('problem.field.validation'))}: <span class="api-text" lang="en">{msg}</span></>;
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
      {msg && <p class="field-error" id={`${props.id}-error`}><FieldMessageText problem={props.problem} msg={msg} /></p>}
    </div>
  );
}

/** An error for a group of inputs without one label (checkbox lists, header rows). */
export function GroupError({ problem, name, id }: { problem: unknown; name: string; id?: string }) {
  const msg = fieldMessage(problem, name);
  return msg ? <p class="field-error" id={id}><FieldMessageText problem={problem} msg={msg} /></p> : null;
}

/**
 * A date and time typed as text in the interface language's order, read as Europe/Rome time
 * (see parseDateInput). The expected pattern is said in the hint, never only in a placeholder.
 */
export function DateField(props: { id: string; label: string; name: string; problem: unknown; value: string; onInput: (v: string) => void; hint?: string }) {
  const hint = `${props.hint ? `${props.hint} ` : ''}${t('date.hint', { pattern: dateInputPattern() })}`;
  return (
    <Field id={props.id} label={props.label} name={props.name} problem={props.problem} hint={hint}>
      <input {...fieldAttrs(props.id, props.problem, props.name, true)} type="text" autocomplete="off" spellcheck={false}
        value={props.value} onInput={(e) => props.onInput(e.currentTarget.value)} />
    </Field>
  );
}

/**
 * Filters in a panel that folds: open on a desktop, folded on a phone (where the fields would
 * fill the first screen), with the number of filters in use on the fold.
 */
export function FilterPanel({ active, onSubmit, children }: { active: number; onSubmit: (e: Event) => void; children: ComponentChildren }) {
  const [open, setOpen] = useState(() => !window.matchMedia('(max-width: 760px)').matches);
  return (
    <details class="filters-box card" open={open} onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>
        <span>{t('filters.label')}</span>
        {active > 0 && <span class="chip tone-blue">{t('filters.active', { n: active })}</span>}
      </summary>
      <form class="filters" onSubmit={onSubmit} aria-label={t('filters.label')} noValidate>{children}</form>
    </details>
  );
}

/**
 * How the API words a failure in lists (`last_error`): `<class>: <message>` for a connection
 * error, `HTTP 500` for an answer. A class the catalogue knows is translated (it is a stable code,
 * the SendErrorClass of the sender); the message after it stays as the API's English detail.
 */
export function splitError(text: string): { label: string; detail: string | null; known: boolean } {
  const m = /^([a-z_]+): ?([\s\S]*)$/.exec(text);
  if (m) {
    const label = tMaybe(`error.class.${m[1]}`, '');
    if (label) return { label, detail: m[2] || null, known: true };
  }
  if (/^HTTP \d{3}$/.test(text)) return { label: text, detail: null, known: true };
  return { label: text, detail: null, known: false };
}

export function errorClassLabel(errorClass: string): string {
  return tMaybe(`error.class.${errorClass}`, errorClass);
}

/** A last error: the translated class in words, the API's detail after it (in English, marked so). */
export function ErrorText({ text, detail = true }: { text: string; detail?: boolean }) {
  const e = splitError(text);
  if (!e.known) return <span lang="en">{e.label}</span>;
  return <span>{e.label}{detail && e.detail && <span class="muted small" lang="en"> · {e.detail}</span>}</span>;
}

const STATUS_TONE: Record<number, string> = {
  1000: 'grey', 1500: 'amber', 1510: 'amber', 1520: 'blue', 1530: 'red', 1900: 'blue', 2000: 'blue', 3000: 'blue', 4000: 'violet',
  4100: 'amber', 4200: 'amber', 4300: 'blue', 4400: 'blue', 4500: 'violet', 5000: 'violet', 6000: 'green', 7000: 'green',
  8000: 'red', 9000: 'red', 20000: 'grey', 50000: 'grey',
};

export function statusLabel(code: number): string {
  return tMaybe(`status.${code}`, String(code));
}

/** An application status; the API says it as a string ("2000"), as the OpenCity core does. */
export function StatusChip({ code: raw }: { code: number | string }) {
  const code = Number(raw);
  return <span class={`chip tone-${STATUS_TONE[code] ?? 'grey'}`} title={String(code)}><span class="chip-code">{code}</span> {statusLabel(code)}</span>;
}

const DELIVERY_TONE: Record<string, string> = { pending: 'amber', sending: 'blue', succeeded: 'green', failed: 'red', cancelled: 'grey' };

export function DeliveryChip({ status }: { status: string }) {
  return <span class={`chip tone-${DELIVERY_TONE[status] ?? 'grey'}`} data-status={status}>{tMaybe(`delivery.status.${status}`, status)}</span>;
}

export function Chip({ tone, children }: { tone: string; children: ComponentChildren }) {
  return <span class={`chip tone-${tone}`}>{children}</span>;
}

/** The first line of a test send or a replay: worked or not, the HTTP status or the error class, how long. */
export function SendVerdict({ result }: { result: { ok: boolean; status_code?: number; error_class?: string; duration_ms: number } }) {
  return (
    <p>
      {result.ok ? <Chip tone="green">{t('test.ok')}</Chip> : <Chip tone="red">{t('test.failed')}</Chip>}{' '}
      {result.status_code !== undefined && <strong>HTTP {result.status_code}</strong>}{' '}
      {result.error_class && <strong>{errorClassLabel(result.error_class)}</strong>}{' '}
      <span class="muted">{t('test.duration', { ms: fmtNumber(result.duration_ms) })}</span>
    </p>
  );
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

/** A date and time to the second in the interface language's format, Europe/Rome. */
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
