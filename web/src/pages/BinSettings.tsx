/**
 * A bin's settings: name, signing secret (to check signatures), captures kept, and the response
 * rules that script its answers, e.g. 500 three times then 200. Saving rules restarts them.
 */
import { useState } from 'preact/hooks';
import { call } from '../api.js';
import { useAction } from '../hooks.js';
import { t } from '../i18n/index.js';
import type { Bin, Step } from '../types.js';
import { Chip, Field, fieldAttrs, FormProblem, GroupError, Section } from '../ui/common.js';

interface StepForm {
  status: string;
  times: string;
  delay: string;
  body: string;
  headers: string;
}

const stepForm = (s: Step): StepForm => ({
  status: String(s.status), times: s.times === undefined ? '' : String(s.times), delay: s.delay_ms ? String(s.delay_ms) : '',
  body: s.body ?? '', headers: Object.entries(s.headers ?? {}).map(([k, v]) => `${k}: ${v}`).join('\n'),
});

/** Numbers as typed: a non-number goes to the server as text so its problem names the field. */
const num = (s: string): number | string => (/^\d+$/.test(s.trim()) ? Number(s.trim()) : s.trim());

function stepOf(f: StepForm): Record<string, unknown> {
  const step: Record<string, unknown> = { status: num(f.status) };
  if (f.times.trim()) step.times = num(f.times);
  if (f.delay.trim()) step.delay_ms = num(f.delay);
  if (f.body) step.body = f.body;
  const headers: Record<string, string> = {};
  for (const line of f.headers.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  if (Object.keys(headers).length) step.headers = headers;
  return step;
}

export function BinSettings({ bin, onSaved }: { bin: Bin; onSaved: (b: Bin) => void }) {
  const [name, setName] = useState(bin.name ?? '');
  const [secret, setSecret] = useState('');
  const [dropSecret, setDropSecret] = useState(false);
  const [maxRequests, setMaxRequests] = useState(String(bin.max_requests));
  const [steps, setSteps] = useState<StepForm[]>(bin.responses.map(stepForm));
  const [saved, setSaved] = useState(false);

  const save = useAction(async () => {
    const body: Record<string, unknown> = { name: name.trim() || null, max_requests: num(maxRequests), responses: steps.map(stepOf) };
    if (dropSecret) body.secret = null;
    else if (secret.trim()) body.secret = secret.trim();
    const b = await call<Bin>(`/api/inspector/bins/${encodeURIComponent(bin.id)}`, { method: 'PATCH', body });
    setSecret('');
    setDropSecret(false);
    onSaved(b);
    return b;
  });
  const submit = async (e: Event) => {
    e.preventDefault();
    setSaved(false);
    if (await save.run()) setSaved(true);
  };
  const p = save.problem;
  const setStep = (i: number, k: keyof StepForm, v: string) => setSteps(steps.map((s, j) => (j === i ? { ...s, [k]: v } : s)));

  return (
    <Section id="bin-settings" title={t('bin.settings')}>
      <form class="form" onSubmit={submit} noValidate>
        <FormProblem problem={p} fields={['name', 'secret', 'max_requests', 'responses']} />
        <div class="row">
          <Field id="bs-name" label={t('field.name')} name="name" problem={p}>
            <input {...fieldAttrs('bs-name', p, 'name')} maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </Field>
          <Field id="bs-max" label={t('bin.maxRequests')} name="max_requests" problem={p}>
            <input {...fieldAttrs('bs-max', p, 'max_requests')} type="number" min={1} inputMode="numeric" value={maxRequests} onInput={(e) => setMaxRequests(e.currentTarget.value)} />
          </Field>
        </div>
        <Field id="bs-secret" label={t('bins.secret')} name="secret" problem={p} hint={bin.has_secret ? t('bin.secretSet') : t('bins.secretHint')}>
          <input {...fieldAttrs('bs-secret', p, 'secret', true)} type="password" autocomplete="off" spellcheck={false} disabled={dropSecret} value={secret} onInput={(e) => setSecret(e.currentTarget.value)} />
        </Field>
        {bin.has_secret && (
          <div class="check">
            <input id="bs-drop" type="checkbox" checked={dropSecret} onChange={(e) => setDropSecret(e.currentTarget.checked)} />
            <label for="bs-drop">{t('bin.dropSecret')}</label>
          </div>
        )}
        <fieldset class="rules">
          <legend>{t('rules.title')}</legend>
          <p class="hint">{t('rules.hint')}</p>
          {steps.length === 0 && <p><Chip tone="grey">{t('rules.default')}</Chip></p>}
          <ol class="steps">
            {steps.map((s, i) => {
              const at = `responses.${i}`;
              return (
                <li key={i} class="step">
                  <div class="row">
                    <Field id={`rule-${i}-status`} label={t('rules.status')} name={`${at}.status`} problem={p}>
                      <input {...fieldAttrs(`rule-${i}-status`, p, `${at}.status`)} type="number" min={200} max={599} inputMode="numeric" value={s.status} onInput={(e) => setStep(i, 'status', e.currentTarget.value)} />
                    </Field>
                    <Field id={`rule-${i}-times`} label={t('rules.times')} name={`${at}.times`} problem={p} hint={t('rules.timesHint')}>
                      <input {...fieldAttrs(`rule-${i}-times`, p, `${at}.times`, true)} type="number" min={1} inputMode="numeric" value={s.times} onInput={(e) => setStep(i, 'times', e.currentTarget.value)} />
                    </Field>
                    <Field id={`rule-${i}-delay`} label={t('rules.delay')} name={`${at}.delay_ms`} problem={p}>
                      <input {...fieldAttrs(`rule-${i}-delay`, p, `${at}.delay_ms`)} type="number" min={0} max={30000} inputMode="numeric" value={s.delay} onInput={(e) => setStep(i, 'delay', e.currentTarget.value)} />
                    </Field>
                  </div>
                  <Field id={`rule-${i}-headers`} label={t('rules.headers')} name={`${at}.headers`} problem={p} hint={t('rules.headersHint')}>
                    <textarea {...fieldAttrs(`rule-${i}-headers`, p, `${at}.headers`, true)} rows={2} spellcheck={false} value={s.headers} onInput={(e) => setStep(i, 'headers', e.currentTarget.value)} />
                  </Field>
                  <Field id={`rule-${i}-body`} label={t('rules.body')} name={`${at}.body`} problem={p}>
                    <textarea {...fieldAttrs(`rule-${i}-body`, p, `${at}.body`)} rows={2} spellcheck={false} value={s.body} onInput={(e) => setStep(i, 'body', e.currentTarget.value)} />
                  </Field>
                  <button type="button" class="secondary small" onClick={() => setSteps(steps.filter((_, j) => j !== i))}>{t('rules.remove', { n: i + 1 })}</button>
                </li>
              );
            })}
          </ol>
          <GroupError problem={p} name="responses" />
          <div class="actions wrap">
            <button type="button" class="secondary small" onClick={() => setSteps([...steps, { status: '200', times: '', delay: '', body: '', headers: '' }])}>{t('rules.add')}</button>
            <button type="button" class="secondary small" onClick={() => setSteps([{ status: '500', times: '', delay: '', body: '', headers: '' }])}>{t('rules.preset500')}</button>
            <button type="button" class="secondary small" onClick={() => setSteps([{ status: '500', times: '3', delay: '', body: '', headers: '' }, { status: '200', times: '', delay: '', body: '', headers: '' }])}>{t('rules.presetFlaky')}</button>
            <button type="button" class="secondary small" onClick={() => setSteps([])}>{t('rules.presetDefault')}</button>
          </div>
        </fieldset>
        <div class="form-actions">
          <button type="submit" disabled={save.pending}>{save.pending ? t('state.saving') : t('action.save')}</button>
          {saved && <span class="notice" role="status">{t('state.saved')}</span>}
        </div>
      </form>
    </Section>
  );
}

