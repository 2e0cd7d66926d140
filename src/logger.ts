/**
 * JSON logs (pino). Secrets never reach them: the Authorization header is redacted, and URL
 * segments that carry a secret (ingest tokens) are cut to a prefix before a line is written.
 */
import pino, { type Logger } from 'pino';

/** `/ingest/opencity/<token>/applications` → `/ingest/opencity/ingt_abc…/applications`. */
export function maskUrl(url: string): string {
  return url.replace(/(\/ingest\/[a-z]+\/)([^/?]+)/i, (_m, head: string, token: string) => `${head}${token.slice(0, 9)}…`)
    // An anonymous inspector bin's id is its only credential (/in/<bin>, /public/inspector/bins/<bin>).
    .replace(/^(\/in\/|\/public\/inspector\/bins\/)([^/?]+)/, (_m, head: string, bin: string) => `${head}${bin.slice(0, 8)}…`);
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
