/**
 * The contract check (issue 14): every answer a test gets through the harness's Client is
 * checked against the OpenAPI document the same server publishes. The status must be one the
 * operation documents, the media type one documented for that status, and a JSON body must
 * validate against its schema. A mismatch throws, so the test that met it fails and says why.
 *
 * Requests to paths the document does not describe (the dashboard, /in/<bin>, an unknown URL)
 * are not checked: they are no operation.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

interface MediaType { schema?: unknown }
interface Response { content?: Record<string, MediaType> }
interface Operation { operationId: string; responses: Record<string, Response> }
interface Doc { paths: Record<string, Record<string, Operation>> }

interface Route { method: string; pattern: RegExp; params: number; pointer: string; op: Operation }

export class ContractError extends Error {}

class Contract {
  private readonly ajv = new Ajv.default({ strict: false, allErrors: true, validateFormats: true });
  private readonly routes: Route[] = [];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(doc: Doc) {
    addFormats.default(this.ajv);
    this.ajv.addSchema(doc as object, 'openapi');
    for (const [path, ops] of Object.entries(doc.paths)) {
      const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
      for (const [method, op] of Object.entries(ops)) {
        const pointer = `/paths/${path.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}`;
        this.routes.push({ method: method.toUpperCase(), pattern: new RegExp(`^${source}$`), params: (path.match(/\{/g) ?? []).length, pointer, op });
      }
    }
    // A literal segment wins over a parameter (/api/events/batch before /api/events/{id}).
    this.routes.sort((a, b) => a.params - b.params);
  }

  check(method: string, url: string, status: number, contentType: string | null, body: unknown, text: string): void {
    const path = new URL(url).pathname;
    const route = this.routes.find((r) => r.method === method && r.pattern.test(path));
    if (!route) return;
    const where = `${method} ${path} (${route.op.operationId}) answered ${status}`;
    const response = route.op.responses[String(status)];
    if (!response) throw new ContractError(`${where}, a status the document does not list (${Object.keys(route.op.responses).join(', ')}): ${text.slice(0, 300)}`);
    const media = (contentType ?? '').split(';')[0].trim().toLowerCase();
    if (!response.content) {
      if (text !== '') throw new ContractError(`${where} with a body, where the document says none`);
      return;
    }
    if (!(media in response.content)) {
      throw new ContractError(`${where} as ${media || 'no content type'}, not ${Object.keys(response.content).join(' or ')}`);
    }
    if (!media.endsWith('json')) return;
    const key = `${route.pointer}/responses/${status}/content/${media.replace(/\//g, '~1')}/schema`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `openapi#${key}` });
      this.compiled.set(key, validate);
    }
    if (!validate(body)) {
      const errors = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`).join('; ');
      throw new ContractError(`${where}: the body does not match the document: ${errors}; body: ${text.slice(0, 300)}`);
    }
  }
}

const contracts = new Map<string, Promise<Contract>>();

/** The contract of the server at `base`, read once from its /openapi.json. */
function contractOf(base: string): Promise<Contract> {
  let c = contracts.get(base);
  if (!c) {
    c = fetch(`${base}/openapi.json`).then(async (r) => {
      if (r.status !== 200) throw new ContractError(`${base}/openapi.json answered ${r.status}`);
      return new Contract(await r.json() as Doc);
    });
    contracts.set(base, c);
  }
  return c;
}

/** Throws a ContractError when the answer is not one the document describes. */
export async function checkAnswer(base: string, method: string, url: string, res: { status: number; headers: Headers }, body: unknown, text: string): Promise<void> {
  if (method === 'HEAD') return;
  (await contractOf(base)).check(method, url, res.status, res.headers.get('content-type'), body, text);
}
