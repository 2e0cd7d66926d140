/**
 * Pratiche changed through messo's own API: created, moved through the transition table, and
 * talked about in messages. Every change is one event whose data holds the application as it
 * became (the projection is rebuilt from them), appended with its deliveries in one
 * transaction, then the dispatcher is told.
 */
import { applyTransition, createApplication, type ApplicationDoc, type TransitionInput } from '../domain/application.js';
import type { Config } from '../config.js';
import { EVENT_TYPES, MESSO_APP_ID } from '../domain/events.js';
import { uuid } from '../domain/ids.js';
import { unsafeKeyPaths } from '../domain/form-data.js';
import { createMessage, renderMessage, type NewMessageInput } from '../domain/message.js';
import { allowedTargets, canTransition, isStatusCode, statusName } from '../domain/statuses.js';
import type { WorkSignal } from '../runtime.js';
import { ConflictError, type ApplicationRow, type Store } from '../store/index.js';
import { InputError, MissingError, refuseUnsafeKeys } from './errors.js';

export interface ApplicationDeps {
  store: Pick<Store, 'appendEvents' | 'getApplication' | 'getService'>;
  work: WorkSignal;
  config: Pick<Config, 'publicUrl'>;
}

/** Where a pratica lives in messo's API: the base of the urls its representation links to. */
const applicationUrl = (deps: ApplicationDeps, id: string) => `${deps.config.publicUrl}/api/applications/${id}`;

/** A move the transition table does not allow (409). */
export class IllegalTransitionError extends Error {
  constructor(readonly from: number, readonly to: number) {
    super(`an application in ${from} (${statusName(from)}) cannot move to ${to} (${statusName(to)})`);
  }

  get allowed(): number[] {
    return allowedTargets(this.from);
  }
}

export async function loadApplication(store: Pick<Store, 'getApplication'>, tenantId: string, id: string): Promise<ApplicationRow> {
  const row = await store.getApplication(tenantId, id);
  if (!row) throw new MissingError('application');
  return row;
}

export interface NewApplicationRequest {
  id?: string;
  service_id: string;
  status: number;
  fields: Record<string, unknown>;
}

export async function createPratica(deps: ApplicationDeps, tenantId: string, req: NewApplicationRequest): Promise<ApplicationDoc> {
  refuseUnsafeKeys(unsafeKeyPaths(req.fields), '');
  const service = await deps.store.getService(tenantId, req.service_id);
  if (!service) throw new InputError('service_id', 'no such service for this tenant');
  const now = Date.now();
  const id = req.id ?? uuid();
  const doc = createApplication({
    id, tenantId, status: req.status, nowMs: now, fields: req.fields, applicationUrl: applicationUrl(deps, id),
    service: { id: service.id, slug: service.slug, name: service.name, group_name: service.group_name },
  });
  await deps.store.appendEvents([{
    event_id: uuid(), type: EVENT_TYPES.applicationCreated, tenant_id: tenantId, subject: doc.id, event_version: 1,
    event_created_at: now, app_id: MESSO_APP_ID, data: { application: doc },
    projection: { kind: 'application', doc, mode: 'strict', expectedVersion: null },
  }]);
  deps.work.notify();
  return doc;
}

export type StatusChange = Omit<TransitionInput, 'nowMs'> & { message?: string | null };

/** Checked against the transition table; optimistic concurrency: re-read and re-check when another change won. */
export async function changeStatus(deps: ApplicationDeps, tenantId: string, id: string, change: StatusChange): Promise<ApplicationDoc> {
  const { to, message = null, ...extra } = change;
  if (!isStatusCode(to)) throw new InputError('status', `${to} is not an OpenCity status code`);
  for (let tries = 0; ; tries++) {
    const row = await loadApplication(deps.store, tenantId, id);
    if (!canTransition(row.status, to)) throw new IllegalTransitionError(row.status, to);
    const now = Date.now();
    const doc = applyTransition(row.doc, { ...extra, to, nowMs: now, applicationUrl: applicationUrl(deps, row.id) });
    try {
      await deps.store.appendEvents([{
        event_id: uuid(), type: EVENT_TYPES.applicationStatusChanged, tenant_id: tenantId, subject: row.id, event_version: 1,
        event_created_at: now, app_id: MESSO_APP_ID, data: { application: doc, from: row.status, to, message },
        projection: { kind: 'application', doc, mode: 'strict', expectedVersion: row.version },
      }]);
      deps.work.notify();
      return doc;
    } catch (err) {
      if (!(err instanceof ConflictError) || tries >= 3) throw err;
    }
  }
}

export type MessageRequest = Omit<NewMessageInput, 'id' | 'applicationId' | 'nowMs'>;

/** The core's 15-key message body (renderMessage), as the message.created webhook sends it. */
export async function addMessage(deps: ApplicationDeps, tenantId: string, applicationId: string, m: MessageRequest): Promise<Record<string, unknown>> {
  refuseUnsafeKeys(unsafeKeyPaths(m.attachments ?? []), 'attachments');
  const row = await loadApplication(deps.store, tenantId, applicationId);
  const now = Date.now();
  const message = createMessage({ ...m, id: uuid(), applicationId: row.id, nowMs: now });
  await deps.store.appendEvents([{
    event_id: uuid(), type: EVENT_TYPES.messageCreated, tenant_id: tenantId, subject: row.id, event_version: 1,
    event_created_at: now, app_id: MESSO_APP_ID, data: { message, service_id: row.service_id, application_status: row.status },
  }]);
  deps.work.notify();
  return renderMessage(message);
}
