/**
 * JSON logs (pino). Secrets never reach them: the Authorization header is redacted, and URL
 * segments that carry a secret (ingest tokens) are cut to a prefix before a line is written.
 */
import pino, { type Logger } from 'pino';

/** Query parameters whose value is a credential by its name: masked whole in logs. */
const SECRET_PARAM = /token|key|secret|passw|signature|^sig$|auth|session|code|credential/i;

/**
 * A URL fit for a log line. Segments that are a credential are cut to a prefix:
 * `/ingest/opencity/<token>/…` → `/ingest/opencity/ingt_abc…/…`, and an anonymous bin's id
 * (its only credential) in `/in/<bin>` and `/public/inspector/bins/<bin>`. Query values whose
 * name says credential (`?token=`, `?api_key=`, `?sig=`…) become `***`.
 */
export function maskUrl(url: string): string {
  const q = url.indexOf('?');
  const path = (q < 0 ? url : url.slice(0, q))
    .replace(/(\/ingest\/[a-z]+\/)([^/?]+)/i, (_m, head: string, token: string) => `${head}${token.slice(0, 9)}…`)
    .replace(/^(\/in\/|\/public\/inspector\/bins\/)([^/?]+)/, (_m, head: string, bin: string) => `${head}${bin.slice(0, 8)}…`);
  if (q < 0) return path;
  const query = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0) return pair;
    let name = pair.slice(0, eq);
    try {
      name = decodeURIComponent(name);
    } catch {
      /* judged as sent */
    }
    return SECRET_PARAM.test(name) ? `${pair.slice(0, eq)}=***` : pair;
  }).join('&');
  return `${path}?${query}`;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({
    level,
    base: { service: 'messo' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'secret', '*.secret', 'token', '*.token'], censor: '[redacted]' },
    serializers: {
      req: (req: { method: string; url: string; ip?: string; id?: string }) => ({ method: req.method, url: maskUrl(req.url), ip: req.ip }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      err: pino.stdSerializers.err,
    },
  }, destination);
}
