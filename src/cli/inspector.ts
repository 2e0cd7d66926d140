/**
 * Developer commands that talk to a messo server over HTTP, or to nothing at all:
 *
 *   messo verify   check a Standard Webhooks signature (exit 0 valid, 1 invalid, 2 cannot check)
 *   messo trigger  send a sample event for the tenant of an API key (POST /api/events)
 *   messo listen   forward a bin's captures to a local URL (inspector-listen.ts)
 *
 * They never open the store: a developer's laptop has a URL and an API key, not the database.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { isStatusCode, statusName } from '../domain/statuses.js';
import { VERSION } from '../version.js';
import { registerListenCommand, serverOptions, apiRequest, type ServerOptions } from './inspector-listen.js';

/** `Name: value` lines (a raw HTTP head, `curl -D` output…); the status line and blanks are skipped. */
export function parseHeaderLines(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0 || /\s/.test(line.slice(0, colon))) continue;
    out.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return out;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function wholeNumber(what: string) {
  return (value: string): number => {
    if (!/^\d{1,15}$/.test(value)) throw new InvalidArgumentError(`${what} must be a whole number`);
    return Number(value);
  };
}

interface VerifyOpts {
  secret?: string;
  header: string[];
  headersFile?: string;
  id?: string;
  timestamp?: string;
  signature?: string;
  body?: string;
  bodyFile?: string;
  tolerance?: number;
  now?: number;
  json?: boolean;
}

function registerVerify(program: Command): void {
  program.command('verify')
    .description('check a Standard Webhooks signature; exit code 0 = valid, 1 = invalid (the reason is printed), 2 = cannot check')
    .addOption(new Option('--secret <whsec>', 'the endpoint secret, whsec_…').env('MESSO_WEBHOOK_SECRET'))
    .option('-H, --header <line>', 'a received header, "Name: value" (repeatable)', collect, [])
    .option('--headers-file <path>', 'received headers, one "Name: value" per line (e.g. from curl -D)')
    .option('--id <id>', 'shortcut for -H "webhook-id: <id>"')
    .option('--timestamp <seconds>', 'shortcut for -H "webhook-timestamp: <seconds>"')
    .option('--signature <list>', 'shortcut for -H "webhook-signature: <list>"')
    .option('--body <text>', 'the raw body, exactly as received')
    .option('--body-file <path>', 'read the raw body from a file (every byte counts, a final newline too); default: stdin')
    .option('--tolerance <seconds>', 'allowed clock distance', wholeNumber('--tolerance'), 300)
    .option('--now <unix-seconds>', 'judge as if received at this time (for a message captured earlier)', wholeNumber('--now'))
    .option('--json', 'print the verdict as JSON')
    .addHelpText('after', `
Examples:
  messo verify --secret whsec_… --id msg_1 --timestamp 1700000000 --signature 'v1,…' --body '{"a":1}'
  curl -s -D headers.txt -o body.json https://… ; messo verify --headers-file headers.txt --body-file body.json
  pbpaste | messo verify -H 'webhook-id: msg_1' -H 'webhook-timestamp: 1700000000' -H 'webhook-signature: v1,…'`)
    .action(async (opts: VerifyOpts) => {
      const fail = (message: string): void => {
        process.stderr.write(`messo verify: ${message}\n`);
        process.exitCode = 2;
      };
      if (!opts.secret) return fail('give the secret with --secret or MESSO_WEBHOOK_SECRET');
      const pairs: [string, string][] = [];
      if (opts.headersFile) pairs.push(...parseHeaderLines(readFileSync(opts.headersFile, 'utf8')));
      for (const line of opts.header) {
        const parsed = parseHeaderLines(line);
        if (parsed.length !== 1) return fail(`--header "${line}" is not "Name: value"`);
        pairs.push(parsed[0]);
      }
      if (opts.id) pairs.push(['webhook-id', opts.id]);
      if (opts.timestamp) pairs.push(['webhook-timestamp', opts.timestamp]);
      if (opts.signature) pairs.push(['webhook-signature', opts.signature]);
      let body: Buffer;
      if (opts.body !== undefined) body = Buffer.from(opts.body, 'utf8');
      else if (opts.bodyFile) body = readFileSync(opts.bodyFile);
      else if (!process.stdin.isTTY) body = await readStdin();
      else return fail('give the body with --body, --body-file, or on stdin');

      const headers: Record<string, string[]> = {};
      for (const [name, value] of pairs) (headers[name.toLowerCase()] ??= []).push(value);
      const { verify } = await import('../domain/signing.js');
      const verdict = verify(opts.secret, headers, body.toString('utf8'), { toleranceSec: opts.tolerance, nowSec: opts.now });
      if (!verdict.valid && verdict.reason === 'invalid_secret') return fail(`--secret: ${verdict.detail}`);
      if (opts.json) process.stdout.write(`${JSON.stringify(verdict)}\n`);
      else if (verdict.valid) process.stdout.write(`valid: the signature matches (webhook-id ${headers['webhook-id']?.[0]})\n`);
      else process.stdout.write(`invalid: ${verdict.reason}: ${verdict.detail}\n`);
      process.exitCode = verdict.valid ? 0 : 1;
    });
}

const TRIGGER_TYPES = ['application.created', 'application.status_changed', 'application.updated', 'application.snapshot', 'message.created'];

interface TriggerOpts extends ServerOptions {
  type: string;
  status?: number;
  application?: string;
  service?: string;
  json?: boolean;
}

/** The sample event `messo trigger` sends: a pratica as the platform would, at the chosen status. */
export async function buildSampleEvent(opts: TriggerOpts, service: { id: string; slug: string; name: string; group_name: string | null } | undefined) {
  const [{ formatRome }, { sampleApplication }] = await Promise.all([import('../domain/dates.js'), import('../domain/sample.js')]);
  const now = Date.now();
  const status = opts.status ?? (opts.type === 'application.created' ? 1900 : 2000);
  const app = sampleApplication('', now, status, service) as Record<string, unknown>;
  if (opts.application) app.id = opts.application;
  const base = { event_id: randomUUID(), type: opts.type, event_created_at: formatRome(now), app_id: `messo-cli:${VERSION}` };
  if (opts.type === 'message.created') {
    const message = {
      id: randomUUID(), message: 'Buongiorno, la sua pratica è stata presa in carico.', author: 'Ufficio Servizi Educativi',
      application: app.id, visibility: 'applicant', created_at: formatRome(now), sent_at: formatRome(now), read_at: null,
      clicked_at: null, attachments: [], protocol_required: false, protocolled_at: null, protocol_number: null,
    };
    return { ...base, subject: app.id as string, data: { message, service_id: app.service_id, application_status: status } };
  }
  const data: Record<string, unknown> = { application: app };
  if (opts.type === 'application.status_changed') Object.assign(data, { from: null, to: status });
  return { ...base, data };
}

function registerTrigger(program: Command): void {
  const cmd = program.command('trigger')
    .description('send a sample event (a realistic pratica) for the tenant of the API key, so its webhooks fire')
    .addOption(new Option('--type <type>', 'event type').choices(TRIGGER_TYPES).default('application.status_changed'))
    .option('--status <code>', 'OpenCity status code of the pratica (default 2000, or 1900 for application.created)', (v) => {
      const n = Number(v);
      if (!isStatusCode(n)) throw new InvalidArgumentError('must be an OpenCity status code such as 2000 or 7000');
      return n;
    })
    .option('--application <id>', 'reuse this application id (to move one pratica through statuses)')
    .option('--service <id>', "service id (default: the tenant's first service, else a sample one)")
    .option('--json', "print the server's answer as JSON");
  serverOptions(cmd)
    .addHelpText('after', `
Examples:
  MESSO_API_KEY=messo_… messo trigger --type application.status_changed --status 7000
  messo trigger --server https://webhooks.comune.example.it --token messo_… --type message.created`)
    .action(async (opts: TriggerOpts) => {
      let service: ServiceRef | undefined;
      if (opts.service) {
        const r = await apiRequest<ServiceRef>(opts, 'GET', `/api/services/${encodeURIComponent(opts.service)}`);
        if (r.status !== 200 || !r.json) throw new Error(`service ${opts.service}: ${r.status} ${r.text}`);
        service = r.json as ServiceRef;
      } else {
        const r = await apiRequest<{ items: ServiceRef[] }>(opts, 'GET', '/api/services?limit=1');
        if (r.status === 401 || r.status === 403) throw new Error(`${r.status}: ${r.json?.detail ?? r.text}`);
        service = r.json?.items?.[0];
      }
      const event = await buildSampleEvent(opts, service);
      // The whole event (the default answer is only event_id, seq and type): it prints the pratica.
      const r = await apiRequest<RecordedEvent>(opts, 'POST', '/api/events', event, { prefer: 'return=representation' });
      if ((r.status !== 201 && r.status !== 200) || !r.json) throw new Error(`POST /api/events answered ${r.status}: ${r.json?.detail ?? r.text}`);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(r.json)}\n`);
        return;
      }
      const e = r.json;
      const app = e.data?.application ?? {};
      const status = app.status ?? e.data?.application_status;
      process.stdout.write(`sent ${e.type} ${e.event_id} (seq ${e.seq})\n`
        + `  application ${e.subject ?? app.id}, status ${status} ${statusName(Number(status)) ?? ''}\n`);
    });
}

interface ServiceRef {
  id: string;
  slug: string;
  name: string;
  group_name: string | null;
}

/** What POST /api/events answers, as far as this command prints it. */
interface RecordedEvent {
  type: string;
  event_id: string;
  seq: number;
  subject: string | null;
  data: { application?: Record<string, unknown>; application_status?: number };
}

export function registerInspectorCommands(program: Command): void {
  registerVerify(program);
  registerTrigger(program);
  registerListenCommand(program);
}
